"""A step counter core, as AgentNet's `CounterLayer` (a counter that loops).

The state is the step index modulo `period`, per batch entry. Each call emits
features of the current index and then advances it: a one-hot of
`step % period`, a flag that is 1 when `step % period == 0`, and optionally
`sin` / `cos` of the phase `2 pi step / period`. With `concat_inputs=True` the
features are appended to the input, so the core can sit in front of (or in
place of) another flat core.
"""

import math
from typing import NamedTuple, Tuple

import sonnet as snt
import tensorflow as tf


class CounterState(NamedTuple):
  """State of `CounterCore`: `step` `[B]` int32, in `[0, period)`."""
  step: tf.Tensor


@snt.allow_empty_variables
class CounterCore(snt.RNNCore):
  """Counts steps modulo `period`; no variables.

  Output `[B, period + 1 (+ 2 with sincos) (+ D with concat_inputs)]`, in the
  order `[inputs], one_hot, flag, [sin, cos]`.
  """

  def __init__(self, period: int, sincos: bool = False,
               concat_inputs: bool = False, name: str = "counter_core"):
    """Initializes the counter.

    Args:
      period: the counter loops every `period` steps.
      sincos: if True, also output sin and cos of `2 pi step / period`.
      concat_inputs: if True, the output starts with the (float) inputs.
      name: module name.

    Raises:
      ValueError: if period is not an int >= 1.
    """
    super().__init__(name=name)
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
      raise ValueError(f"period must be an int >= 1, got {period!r}.")
    self._period = period
    self._sincos = sincos
    self._concat_inputs = concat_inputs

  @property
  def period(self) -> int:
    return self._period

  @property
  def feature_size(self) -> int:
    return self._period + 1 + (2 if self._sincos else 0)

  def initial_state(self, batch_size: int, **unused_kwargs) -> CounterState:
    return CounterState(tf.zeros([batch_size], dtype=tf.int32))

  def __call__(self, inputs: tf.Tensor,
               prev_state: CounterState) -> Tuple[tf.Tensor, CounterState]:
    """Emits the features of `prev_state.step`, then advances it by one.

    Args:
      inputs: `[B, ...]`; only its batch size is used unless `concat_inputs`,
        which needs `[B, D]`.
      prev_state: the current step.

    Returns:
      `(features [B, F], CounterState)`.
    """
    step = tf.convert_to_tensor(prev_state.step)
    if step.shape.rank != 1 or not step.dtype.is_integer:
      raise ValueError("prev_state.step must be an integer tensor of shape "
                       f"[B], got {step.dtype.name} {step.shape}.")
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank is None or inputs.shape.rank < 1 or (
        not inputs.shape[:1].is_compatible_with(step.shape)):
      raise ValueError(f"inputs must have shape [B, ...] with B = "
                       f"{step.shape[0]}, got {inputs.shape}.")
    step = tf.math.floormod(tf.cast(step, tf.int32), self._period)
    features = [tf.one_hot(step, self._period, dtype=tf.float32),
                tf.cast(tf.equal(step, 0), tf.float32)[:, tf.newaxis]]
    if self._sincos:
      phase = (2.0 * math.pi / self._period) * tf.cast(step, tf.float32)
      features += [tf.sin(phase)[:, tf.newaxis], tf.cos(phase)[:, tf.newaxis]]
    if self._concat_inputs:
      if inputs.shape.rank != 2:
        raise ValueError("with concat_inputs, inputs must have shape [B, D], "
                         f"got {inputs.shape}.")
      features.insert(0, tf.cast(inputs, tf.float32))
    output = tf.concat(features, axis=-1)
    return output, CounterState(tf.math.floormod(step + 1, self._period))
