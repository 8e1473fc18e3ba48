"""Policy and value head of the FTW agent."""

from typing import Callable, Sequence, Tuple, Union

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.argument_checks import action_sizes
from ftw.tf.networks.argument_checks import check_num_actions
from ftw.tf.networks.argument_checks import check_positive_int


class PolicyValueHead(snt.Module):
  """A network with linear layers, for policy and value respectively.

  The policy and the value have separate hidden layers:
    policy: linear(hidden_size) -> activation -> linear(sum of group sizes)
    value:  linear(hidden_size) -> activation -> linear(1)

  Shapes: [B, D] -> (policy_logits [B, A], value [B]), with A = num_actions
  for a discrete action space.

  Multi-discrete action spaces (num_actions = [A_1, ..., A_G], e.g. Capture
  the Flag's [5, 3, 3] for move, turn, fire) get one softmax per action group.
  Their logits are concatenated, [B, A_1 + ... + A_G] in group order: the
  logits of group g are `policy_logits[..., offset_g:offset_g + A_g]`. One
  linear layer of A_1 + ... + A_G outputs is exactly G linear heads on the
  same hidden layer (each output has its own weights), computed in one matmul.
  """

  def __init__(self,
               num_actions: Union[int, Sequence[int]],
               hidden_size: int = 256,
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu):
    """Initializes the PolicyValueHead module.

    Args:
      num_actions: Number of actions in discrete action space (an int), or
        the number of actions of each group of a multi-discrete action space
        (a sequence of ints).
      hidden_size: Size of hidden layers (between input and output layers).
      activation: Activation function to be used by this module (between
        hidden and output layers).

    Raises:
      ValueError: If shapes and/or types of constructor arguments do not match
        expected shapes and types.
    """
    super().__init__(name='policy_value_head')
    self._num_actions = check_num_actions('num_actions', num_actions)
    self._action_sizes = action_sizes(self._num_actions)
    check_positive_int('hidden_size', hidden_size)
    if not callable(activation):
      raise ValueError(f'activation must be callable, got {activation!r}.')
    self._activation = activation
    self._policy_hidden = snt.Linear(hidden_size, name='policy_hidden')
    self._policy_logits = snt.Linear(sum(self._action_sizes),
                                     name='policy_logits')
    self._value_hidden = snt.Linear(hidden_size, name='value_hidden')
    self._value = snt.Linear(1, name='value')

  @property
  def num_actions(self) -> Union[int, Tuple[int, ...]]:
    """An int (discrete) or a tuple of group sizes (multi-discrete)."""
    return self._num_actions

  @property
  def action_sizes(self) -> Tuple[int, ...]:
    """Sizes of the action groups; (A,) for a discrete action space."""
    return self._action_sizes

  def __call__(self, inputs: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    if inputs.shape.rank != 2:
      raise ValueError(f'inputs must have shape [B, D], got {inputs.shape}.')
    policy_logits = self._policy_logits(
        self._activation(self._policy_hidden(inputs)))
    value = self._value(self._activation(self._value_hidden(inputs)))
    return policy_logits, tf.squeeze(value, axis=-1)
