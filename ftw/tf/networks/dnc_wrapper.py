"""DNC core: an LSTM controller wired to a (possibly shared) DNC memory.

Follows the DNC core of deepmind/dnc (Graves et al. 2016), but takes the
controller, the `MemoryAccess` module and the output layer as arguments, so
one `MemoryAccess` (and its weights) can serve several cores, as the RPTH of
the FTW agent (Jaderberg et al. 2019, Figure S11) does.

Step t, with r_{t-1} the previous read words:
  h_t, s_t = controller([x_t, flatten(r_{t-1})], s_{t-1})      (clipped)
  r_t, m_t = memory(h_t, m_{t-1})
  y_t = output_layer([h_t, flatten(r_t)])                       (clipped)
"""

import collections
import numbers
from typing import Any, Callable, Optional, Union

import sonnet as snt
import tensorflow as tf
import tree

from ftw.tf.networks.dnc.access import MemoryAccess

DNCState = collections.namedtuple(
    'DNCState', ('controller_state', 'access_state', 'access_output'))


def _flatten(x: tf.Tensor) -> tf.Tensor:
  """[B, ...] -> [B, prod(...)], keeping the static feature size if known."""
  size = x.shape[1:].num_elements()
  return tf.reshape(x, [-1, size if size is not None else tf.reduce_prod(
      tf.shape(x)[1:])])


class DNCWrapper(snt.RNNCore):
  """LSTM controller + DNC `MemoryAccess` + optional output layer.

  The memory module is kept as the public attribute `memory` and its state
  is the `access_state` field of `DNCState`, so callers can share both.
  """

  def __init__(self, lstm: snt.LSTM, memory: MemoryAccess,
               output_layer: Optional[Union[snt.Module,
                                            Callable[[tf.Tensor], Any]]] = None,
               clip_value: Optional[float] = None,
               name: str = 'dnc_wrapper'):
    """Initializes the module.

    Args:
      lstm: controller core, an `snt.LSTM` (any `snt.RNNCore` is accepted).
      memory: DNC `MemoryAccess` module; may be shared with other cores.
      output_layer: applied to [controller output, flattened read words];
        returns a tensor or a distribution. None for no layer.
      clip_value: if set, clips the controller output and state and the
        (tensor) core output to [-clip_value, clip_value].
      name: module name.

    Raises:
      ValueError: on an argument of the wrong type or range.
    """
    super().__init__(name=name)
    if not isinstance(lstm, snt.RNNCore):
      raise ValueError(
          f'lstm must be an snt.LSTM (or snt.RNNCore), got {type(lstm)}.')
    # Any memory with MemoryAccess's interface works (e.g. the NTM's
    # NTMAccess): an RNNCore with initial_state and output_size [R, W].
    if not isinstance(memory, MemoryAccess) and not (
        isinstance(memory, snt.RNNCore) and
        len(getattr(memory, 'output_size', ())) == 2):
      raise ValueError(
          'memory must be a dnc.access.MemoryAccess (or an snt.RNNCore with '
          f'output_size [num_reads, word_size]), got {type(memory)}.')
    if output_layer is not None and not callable(output_layer):
      raise ValueError(
          f'output_layer must be an snt.Module, a callable or None, '
          f'got {type(output_layer)}.')
    if clip_value is not None and (
        isinstance(clip_value, bool)
        or not isinstance(clip_value, numbers.Real) or not clip_value > 0):
      raise ValueError(
          f'clip_value must be a positive number or None, got {clip_value!r}.')
    self.lstm = lstm
    self.memory = memory
    self.output_layer = output_layer
    self.clip_value = None if clip_value is None else float(clip_value)

  def _clip(self, nest):
    if self.clip_value is None:
      return nest

    def clip(x):
      if tf.is_tensor(x) and x.dtype.is_floating:
        return tf.clip_by_value(x, -self.clip_value, self.clip_value)
      return x
    return tree.map_structure(clip, nest)

  def __call__(self, inputs: tf.Tensor,
               prev_state: DNCState) -> tuple[Any, DNCState]:
    """One DNC step.

    Args:
      inputs: [B, ...] inputs, flattened to [B, D].
      prev_state: `DNCState` of the previous step.

    Returns:
      (output, DNCState). Without output layer the output is
      [B, hidden + num_reads * word_size].
    """
    if not isinstance(prev_state, DNCState):
      raise ValueError(
          f'prev_state must be a DNCState, got {type(prev_state)}.')
    controller_input = tf.concat(
        [_flatten(inputs),
         tf.cast(_flatten(prev_state.access_output), inputs.dtype)], axis=-1)
    controller_output, controller_state = self.lstm(
        controller_input, prev_state.controller_state)
    controller_output = self._clip(controller_output)
    controller_state = self._clip(controller_state)

    access_output, access_state = self.memory(
        controller_output, prev_state.access_state)

    output = tf.concat([controller_output, _flatten(access_output)], axis=-1)
    if self.output_layer is not None:
      output = self.output_layer(output)
    if tf.is_tensor(output):  # distributions are returned unclipped
      output = self._clip(output)
    return output, DNCState(controller_state=controller_state,
                            access_state=access_state,
                            access_output=access_output)

  def initial_state(self, batch_size: int, **unused_kwargs) -> DNCState:
    """Zero memory state, LSTM initial state, zero read words [B, R, W]."""
    return DNCState(
        controller_state=self.lstm.initial_state(batch_size),
        access_state=self.memory.initial_state(batch_size),
        access_output=tf.zeros(
            [batch_size, *self.memory.output_size.as_list()]))
