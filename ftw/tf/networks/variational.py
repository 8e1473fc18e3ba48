"""Variational units: recurrent cores whose output is a diagonal normal.

The FTW agent (Jaderberg et al. 2019, supplementary Figure S11) stacks a
fast and one or more slow variational units. A `VariationalUnit` is an LSTM
(or a DNC core with an LSTM controller around a possibly shared memory)
followed by a `MultivariateNormalDiagLocScaleHead`. A
`PeriodicVariationalUnit` updates its core only every `period` steps and
carries its previous state and output in between.
"""

from typing import Any, NamedTuple, Optional, Tuple, Union

import sonnet as snt
import tensorflow as tf
import tree

from ftw.tf.networks import argument_checks as checks
from ftw.tf.networks.distributional import Initializer
from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.distributional import MultivariateNormalDiagLocScaleHead
from ftw.tf.networks.dnc.access import MemoryAccess
from ftw.tf.networks.dnc_wrapper import DNCWrapper


class PeriodicRNNState(NamedTuple):
  """State of a `PeriodicVariationalUnit`.

  core_state: state of the wrapped core (`snt.LSTMState` or `DNCState`).
  output: `LocScaleDistributionParameters` of the last update, [B, N] each.
  step: int32 [B], calls since `initial_state` for each batch element.
  """
  core_state: Any
  output: LocScaleDistributionParameters
  step: tf.Tensor


class VariationalUnit(snt.RNNCore):
  """Variational Unit module as introduced by the FTW paper.

  Maps inputs [B, F] to `LocScaleDistributionParameters(loc [B, N],
  scale [B, N])`. Can be used with a shared DNC MemoryAccess module.
  """

  def __init__(self,
               hidden_size: int,
               num_dimensions: int,
               shared_memory: Optional[MemoryAccess] = None,
               dnc_clip_value=None,
               use_dnc_linear_projection: bool = True,
               init_scale: float = 0.1,
               min_scale: float = 1e-6,
               tanh_mean: bool = False,
               fixed_scale: bool = False,
               w_init: Optional[Initializer] = None,
               b_init: Optional[Initializer] = None,
               name='variational_unit'):
    """Initialization.

    Args:
      hidden_size: Hidden size of LSTM.
      num_dimensions: Number of dimensions of MVN distribution.
      shared_memory: (Possibly shared) DNC MemoryAccess module. Optional. If
        None, no memory is used.
      dnc_clip_value: Only used when shared_memory is not None. Clip value
        used by the DNC core for the (LSTM) controller output and state and
        the linear output. None for no clipping.
      use_dnc_linear_projection: Only used when shared_memory is not None.
        Whether the DNC core outputs a linear projection (of size
        hidden_size) of the concatenated LSTM and memory outputs, as the
        original DNC does, or the concatenation itself.
      init_scale: Initial standard deviation.
      min_scale: Minimum standard deviation.
      tanh_mean: Whether to transform the mean (via tanh).
      fixed_scale: Whether to use a fixed variance.
      w_init: Initialization for the head's linear layer weights.
      b_init: Initialization for the head's linear layer biases.
      name: Name for the module.

    Raises:
      ValueError: If an argument has the wrong type or range.
    """
    super().__init__(name=checks.check_name(name))
    self._hidden_size = checks.check_positive_int('hidden_size', hidden_size)
    checks.check_optional_positive_real('dnc_clip_value', dnc_clip_value)
    checks.check_bool('use_dnc_linear_projection', use_dnc_linear_projection)
    if shared_memory is not None and not isinstance(shared_memory,
                                                    MemoryAccess):
      raise ValueError(
          'shared_memory must be None or a ftw.tf.networks.dnc.access.'
          f'MemoryAccess, got {type(shared_memory)}.')
    self._init_scale = init_scale
    # The head checks num_dimensions, the scales, tanh_mean and initializers.
    self._head = MultivariateNormalDiagLocScaleHead(
        num_dimensions=num_dimensions, init_scale=init_scale,
        min_scale=min_scale, tanh_mean=tanh_mean, fixed_scale=fixed_scale,
        w_init=w_init, b_init=b_init)
    lstm = snt.LSTM(self._hidden_size, name='lstm')
    if shared_memory is None:
      self._core = lstm
    else:
      projection = None
      if use_dnc_linear_projection:
        projection = snt.Linear(self._hidden_size, name='dnc_projection')
      self._core = DNCWrapper(lstm, shared_memory, output_layer=projection,
                              clip_value=dnc_clip_value)

  @property
  def core(self) -> Union[snt.LSTM, DNCWrapper]:
    """The recurrent core: an `snt.LSTM`, or a `DNCWrapper` with memory."""
    return self._core

  @property
  def uses_memory(self) -> bool:
    return isinstance(self._core, DNCWrapper)

  @property
  def num_dimensions(self) -> int:
    return self._head.num_dimensions

  def __call__(self, inputs: tf.Tensor,
               prev_state) -> Tuple[LocScaleDistributionParameters, Any]:
    """One step: inputs [B, F] -> (loc/scale [B, N], new core state)."""
    core_output, state = self._core(inputs, prev_state)
    return self._head(core_output), state

  def initial_state(self, batch_size: int, **unused_kwargs):
    """Returns the LSTMState (no memory) or DNCState (memory) of the core."""
    return self._core.initial_state(batch_size)


def scatter_rows(rows: tf.Tensor, updates, carried):
  """`carried` with rows `rows` [K, 1] replaced by `updates`, per leaf.

  `updates` leaves are [K (+ extra rows, ignored), ...], `carried` leaves
  [B, ...] of the same structure; the gradient reaches `updates` for those
  rows and `carried` for the others only.
  """
  num_rows = tf.shape(rows)[0]

  def scatter(new, old):
    old = tf.convert_to_tensor(old)
    return tf.tensor_scatter_nd_update(old, rows,
                                       tf.cast(new[:num_rows], old.dtype))
  return tree.map_structure(scatter, updates, carried)


class PeriodicVariationalUnit(VariationalUnit):
  """Periodic Variational Unit module as introduced by the FTW paper.

  A Variational Unit that only updates its hidden state (and output) when
  step % period == 0, per batch element; otherwise it returns the previous
  output and keeps the previous core state. `step` starts at 0 after
  `initial_state` and grows by one every call. Each call evaluates the core
  on the updating rows only (gathered, their results scattered back into
  the carried state): with period p about B / p of B rows. Running the core
  on every row and selecting with tf.where made the full FTW agent's update
  (B=32, p=8; bench/ftw_learner_parts.py, 2-core AVX2 CPU) take 1.30 s
  against 1.00 s this way. The row count is dynamic, so the module works
  under tf.function and inside a dynamic unroll (`ftw.tf.networks.unroll`).
  """

  def __init__(self,
               period: Union[int, tf.Variable],
               hidden_size: int,
               num_dimensions: int,
               shared_memory: Optional[MemoryAccess] = None,
               dnc_clip_value=None,
               use_dnc_linear_projection: bool = True,
               init_scale: float = 0.1,
               min_scale: float = 1e-6,
               tanh_mean: bool = False,
               fixed_scale: bool = False,
               w_init: Optional[Initializer] = None,
               b_init: Optional[Initializer] = None,
               name='periodic_variational_unit'):
    """Initialization.

    Args:
      period: Update the recurrent core every period steps: an int > 0, or a
        scalar integer tf.Variable (created with trainable=False) holding a
        value > 0, so that e.g. population-based training can change it.
      hidden_size: see `VariationalUnit`; so are all other arguments.
      num_dimensions: see `VariationalUnit`.
      shared_memory: see `VariationalUnit`.
      dnc_clip_value: see `VariationalUnit`.
      use_dnc_linear_projection: see `VariationalUnit`.
      init_scale: see `VariationalUnit`.
      min_scale: see `VariationalUnit`.
      tanh_mean: see `VariationalUnit`.
      fixed_scale: see `VariationalUnit`.
      w_init: see `VariationalUnit`.
      b_init: see `VariationalUnit`.
      name: Name for the module.

    Raises:
      ValueError: If an argument has the wrong type or range.
    """
    period = checks.check_period('period', period)
    super().__init__(
        hidden_size=hidden_size, num_dimensions=num_dimensions,
        shared_memory=shared_memory, dnc_clip_value=dnc_clip_value,
        use_dnc_linear_projection=use_dnc_linear_projection,
        init_scale=init_scale, min_scale=min_scale, tanh_mean=tanh_mean,
        fixed_scale=fixed_scale, w_init=w_init, b_init=b_init, name=name)
    self._period = period

  @property
  def period(self) -> Union[int, tf.Variable]:
    return self._period

  def update_mask(self, step: tf.Tensor) -> tf.Tensor:
    """Returns bool [B]: True where step [B] % period == 0."""
    step = tf.convert_to_tensor(step)
    period = tf.cast(tf.convert_to_tensor(self._period), step.dtype)
    if isinstance(self._period, tf.Variable):
      # The variable may have been reassigned since construction.
      tf.debugging.assert_positive(
          period, message='period must stay positive')
    return tf.equal(tf.math.floormod(step, period), 0)

  def __call__(
      self, inputs: tf.Tensor, prev_state: PeriodicRNNState
  ) -> Tuple[LocScaleDistributionParameters, PeriodicRNNState]:
    """One step: inputs [B, F] -> (loc/scale [B, N], PeriodicRNNState)."""
    if not isinstance(prev_state, PeriodicRNNState):
      raise ValueError(
          f'prev_state must be a PeriodicRNNState, got {type(prev_state)}.')
    rows = tf.where(self.update_mask(prev_state.step))  # [K, 1] int64
    # Plus row 0 once more, its result dropped: the core never sees an empty
    # batch (K = 0 happens), whose gradient TensorFlow's graphs get wrong
    # (mismatched shapes of [0, ...] broadcasts in the backward pass).
    padded = tf.concat([rows, tf.zeros([1, 1], rows.dtype)], axis=0)
    new_output, new_core_state = super().__call__(
        tf.gather_nd(inputs, padded),
        tree.map_structure(lambda x: tf.gather_nd(x, padded),
                           prev_state.core_state))
    output = LocScaleDistributionParameters(*scatter_rows(
        rows, tuple(new_output), tuple(prev_state.output)))
    core_state = scatter_rows(rows, new_core_state, prev_state.core_state)
    return output, PeriodicRNNState(core_state=core_state, output=output,
                                    step=prev_state.step + 1)

  def initial_state(self, batch_size: int,
                    **unused_kwargs) -> PeriodicRNNState:
    """Returns PeriodicRNNState(core initial state, output, step 0 [B]).

    The initial output has loc 0 and scale init_scale; it is never returned
    by a unit started from this state, since step 0 always updates.
    """
    shape = [batch_size, self.num_dimensions]
    output = LocScaleDistributionParameters(
        loc=tf.zeros(shape), scale=tf.fill(shape, self._init_scale))
    return PeriodicRNNState(
        core_state=super().initial_state(batch_size), output=output,
        step=tf.zeros([batch_size], dtype=tf.int32))
