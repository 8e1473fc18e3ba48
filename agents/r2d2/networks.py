"""R2D2's recurrent Q-network: FtwTorso + OAR embedding + core + Q head.

  OAR(observation, previous action, previous reward)
    -> OAREmbedding(FtwTorso)            [B, D]
    -> core: snt.LSTM or RPTH (its z)    [B, F]
    -> QHead: dueling or plain MLP       [B, A]

`unroll` runs the embedding and the head once over all T x B inputs and only
the core through time, as `FtwNetwork.unroll` does.
"""

from typing import Any, Tuple

import sonnet as snt
import tensorflow as tf

from ftw import types
from ftw.tf.networks import auxiliary
from ftw.tf.networks.argument_checks import check_positive_int
from ftw.tf.networks.embedding import OAREmbedding
from ftw.tf.networks.recurrence import RPTH
from ftw.tf.networks import unroll
from ftw.tf.networks.vision import FtwTorso


class QHead(snt.Module):
  """[B, F] -> Q-values [B, A]: an MLP, or dueling V + A - mean(A)."""

  def __init__(self, num_actions: int, hidden_size: int, dueling: bool = True,
               name: str = "q_head"):
    super().__init__(name=name)
    self._num_actions = check_positive_int("num_actions", num_actions)
    check_positive_int("hidden_size", hidden_size)
    self._dueling = dueling
    if dueling:
      self._value = snt.nets.MLP([hidden_size, 1], name="value")
      self._advantage = snt.nets.MLP([hidden_size, num_actions],
                                     name="advantage")
    else:
      self._q = snt.nets.MLP([hidden_size, num_actions], name="q")

  def __call__(self, features: tf.Tensor) -> tf.Tensor:
    if not self._dueling:
      return self._q(features)
    advantage = self._advantage(features)
    advantage -= tf.reduce_mean(advantage, axis=-1, keepdims=True)
    return self._value(features) + advantage


class RecurrentQNetwork(snt.RNNCore):
  """A recurrent Q-network with the RNNCore interface (state in, state out)."""

  def __init__(self, embed: snt.Module, core: snt.RNNCore, head: QHead,
               num_actions: int, name: str = "recurrent_q_network"):
    super().__init__(name=name)
    self._embed = embed
    self._core = core
    self._head = head
    self.num_actions = num_actions

  def initial_state(self, batch_size: int, **kwargs):
    return self._core.initial_state(batch_size, **kwargs)

  def __call__(self, inputs: types.OAR, prev_state) -> Tuple[tf.Tensor, Any]:
    """One step: OAR [B, ...] -> (Q-values [B, A], new state)."""
    core_output, state = self._core(self._embed(inputs), prev_state)
    return self._head(auxiliary.core_features(core_output)), state

  def unroll(self, inputs: types.OAR, state) -> Tuple[tf.Tensor, Any]:
    """OAR [T, B, ...] from `state` -> (Q-values [T, B, A], final state)."""
    embeddings = snt.BatchApply(self._embed)(inputs)
    core_outputs, final_state = unroll.dynamic_unroll(self._core, embeddings,
                                                      state)
    features = auxiliary.core_features(core_outputs)
    return snt.BatchApply(self._head)(features), final_state


def make_r2d2_network(num_actions: int, config) -> RecurrentQNetwork:
  """The network an `R2D2Config` describes, for `num_actions` actions."""
  if not isinstance(num_actions, int):
    raise ValueError("R2D2 needs one discrete action (an int num_actions), "
                     f"got {num_actions!r}")
  torso = FtwTorso(conv_filters=config.conv_filters,
                   residual_filters=config.residual_filters,
                   hidden_size=config.torso_hidden_size)
  embed = OAREmbedding(torso, num_actions)
  if config.core == "lstm":
    core = snt.LSTM(config.hidden_size)
  else:
    core = RPTH(config.rpth_period, hidden_size=config.hidden_size,
                num_dimensions=config.num_dimensions)
  head = QHead(num_actions, config.head_hidden_size, config.dueling)
  return RecurrentQNetwork(embed, core, head, num_actions)
