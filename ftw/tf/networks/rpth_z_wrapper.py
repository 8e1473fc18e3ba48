"""RPTHZWrapper: an RPTH whose output is its latent z alone.

The original FTW library feeds recurrent auxiliary heads (e.g.
`RNNPixelControlNetwork`) with an RNNCore whose output is a plain tensor;
this wrapper turns an RPTH (output `RPTHOutput(z, distribution_params)`)
into such a core, sharing the RPTH's variables and state.
"""

from typing import Tuple

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.rpth import RPTH
from ftw.tf.networks.rpth import RPTHState


class RPTHZWrapper(snt.RNNCore):
  """Wraps an RPTH: `(inputs [B, F], RPTHState) -> (z [B, N], RPTHState)`."""

  def __init__(self, rpth: RPTH, name: str = 'rpth_z_wrapper'):
    """Wraps `rpth` (its variables and noise generator are shared).

    Raises:
      ValueError: if `rpth` is not an RPTH.
    """
    super().__init__(name=name)
    if not isinstance(rpth, RPTH):
      raise ValueError(f'rpth must be an RPTH, got {rpth!r}.')
    self._rpth = rpth

  @property
  def rpth(self) -> RPTH:
    return self._rpth

  def __call__(self, inputs: tf.Tensor,
               prev_state: RPTHState) -> Tuple[tf.Tensor, RPTHState]:
    output, state = self._rpth(inputs, prev_state)
    return output.z, state

  def initial_state(self, batch_size: int, **kwargs) -> RPTHState:
    return self._rpth.initial_state(batch_size, **kwargs)
