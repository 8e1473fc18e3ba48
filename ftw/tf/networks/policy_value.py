"""Policy and value head of the FTW agent."""

from typing import Callable, Tuple

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.argument_checks import check_positive_int


class PolicyValueHead(snt.Module):
  """A network with linear layers, for policy and value respectively.

  The policy and the value have separate hidden layers:
    policy: linear(hidden_size) -> activation -> linear(num_actions)
    value:  linear(hidden_size) -> activation -> linear(1)

  Shapes: [B, D] -> (policy_logits [B, num_actions], value [B]).
  """

  def __init__(self,
               num_actions: int,
               hidden_size: int = 256,
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu):
    """Initializes the PolicyValueHead module.

    Args:
      num_actions: Number of actions in discrete action space.
      hidden_size: Size of hidden layers (between input and output layers).
      activation: Activation function to be used by this module (between
        hidden and output layers).

    Raises:
      ValueError: If shapes and/or types of constructor arguments do not match
        expected shapes and types.
    """
    super().__init__(name='policy_value_head')
    self._num_actions = check_positive_int('num_actions', num_actions)
    check_positive_int('hidden_size', hidden_size)
    if not callable(activation):
      raise ValueError(f'activation must be callable, got {activation!r}.')
    self._activation = activation
    self._policy_hidden = snt.Linear(hidden_size, name='policy_hidden')
    self._policy_logits = snt.Linear(num_actions, name='policy_logits')
    self._value_hidden = snt.Linear(hidden_size, name='value_hidden')
    self._value = snt.Linear(1, name='value')

  @property
  def num_actions(self) -> int:
    return self._num_actions

  def __call__(self, inputs: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    if inputs.shape.rank != 2:
      raise ValueError(f'inputs must have shape [B, D], got {inputs.shape}.')
    policy_logits = self._policy_logits(
        self._activation(self._policy_hidden(inputs)))
    value = self._value(self._activation(self._value_hidden(inputs)))
    return policy_logits, tf.squeeze(value, axis=-1)
