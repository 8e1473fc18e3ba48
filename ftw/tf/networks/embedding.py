"""Embedding of (observation, previous action, previous reward) inputs."""

from typing import Optional, Sequence, Tuple, Union

import sonnet as snt
import tensorflow as tf

from ftw import types
from ftw.tf.internal_reward.ftw_internal_reward import InternalRewards
from ftw.tf.networks.argument_checks import action_sizes
from ftw.tf.networks.argument_checks import check_num_actions


def _validate_num_actions(num_actions) -> Tuple[Tuple[int, ...], bool]:
  """Returns (sizes of the action groups, whether multi-discrete)."""
  num_actions = check_num_actions('num_actions', num_actions)
  return action_sizes(num_actions), not isinstance(num_actions, int)


class OAREmbedding(snt.Module):
  """Module for embedding (observation, action, reward) inputs together.

  Based on dm-acme's OAREmbedding, extended with
    * multi-discrete/decomposed action spaces: one one-hot per action group,
      concatenated;
    * internal rewards (FTW): the reward feature is
      - scalar reward [B] and scalar weight: reward * w         -> [B, 1]
      - reward vector [B, R] and scalar weight: reward * w      -> [B, R]
      - reward vector [B, R] and weight vector [R]: reward . w  -> [B, 1]
      A scalar reward with a weight vector raises a ValueError.
    Without internal rewards the reward is used as is ([B, 1] or [B, R]).

  Shapes: OAR(observation [B, ...], action int [B] (or [B, G] for G groups),
  reward float [B] or [B, R]) -> concat(torso(observation), one-hot(action),
  reward features) [B, D].
  """

  def __init__(self,
               torso: snt.Module,
               num_actions: Union[int, Sequence[int]],
               internal_rewards: Optional[InternalRewards] = None):
    """Initializes the OAREmbedding module.

    Args:
      torso: Module transforming observations into an embedding [B, D_obs].
      num_actions: Number of actions in action space. Supports discrete action
        space (if int is supplied), or multi-discrete/decomposed action space
        (if sequence of ints is supplied, one for each action group).
      internal_rewards: InternalRewards module (as used in the FTW paper).
        Optional. If None, no internal rewards calculation will be done.

    Raises:
      ValueError: If shapes and/or types of constructor arguments do not match
        expected shapes and types.
    """
    super().__init__(name='oar_embedding')
    if not callable(torso):
      raise ValueError(f'torso must be a callable module, got {torso!r}.')
    if internal_rewards is not None and not isinstance(internal_rewards,
                                                       InternalRewards):
      raise ValueError(
          'internal_rewards must be an InternalRewards module or None, got '
          f'{internal_rewards!r}.')
    self._torso = torso
    self._action_sizes, self._multi_discrete = _validate_num_actions(
        num_actions)
    self._internal_rewards = internal_rewards

  @property
  def torso(self) -> snt.Module:
    return self._torso

  @property
  def internal_rewards(self) -> Optional[InternalRewards]:
    return self._internal_rewards

  def _embed_action(self, action: tf.Tensor) -> tf.Tensor:
    action = tf.convert_to_tensor(action)
    if not action.dtype.is_integer:
      raise ValueError(f'action must be an int tensor, got {action.dtype}.')
    if self._multi_discrete:
      num_groups = len(self._action_sizes)
      if action.shape.rank != 2 or action.shape[-1] != num_groups:
        raise ValueError(
            f'action must have shape [B, {num_groups}] for {num_groups} '
            f'action groups, got {action.shape}.')
      groups = tf.unstack(action, axis=-1)
    else:
      if action.shape.rank != 1:
        raise ValueError(f'action must have shape [B], got {action.shape}.')
      groups = [action]
    one_hots = []
    for group, size in zip(groups, self._action_sizes):
      # tf.one_hot silently gives zeros for out-of-range ids: check instead.
      with tf.control_dependencies([
          tf.debugging.assert_non_negative(group, message='action < 0'),
          tf.debugging.assert_less(
              group, tf.cast(size, group.dtype),
              message=f'action >= num_actions ({size})'),
      ]):
        one_hots.append(tf.one_hot(group, depth=size, dtype=tf.float32))
    return tf.concat(one_hots, axis=-1)

  def _embed_reward(self, reward: tf.Tensor) -> tf.Tensor:
    reward = tf.cast(tf.convert_to_tensor(reward), tf.float32)
    if reward.shape.rank not in (1, 2):
      raise ValueError(
          f'reward must have shape [B] or [B, R], got {reward.shape}.')
    if self._internal_rewards is not None:
      if reward.shape.rank == 1 and not self._internal_rewards.is_scalar:
        raise ValueError(
            f'reward must have shape [B, {self._internal_rewards.num_rewards}] '
            'to match the vector of internal reward weights, got scalar '
            f'rewards of shape {reward.shape}.')
      reward = self._internal_rewards(reward)
    if reward.shape.rank == 1:
      reward = tf.expand_dims(reward, axis=-1)
    return reward

  def __call__(self, inputs: types.OAR) -> tf.Tensor:
    if not all(hasattr(inputs, f) for f in types.OAR._fields):
      raise ValueError(
          'inputs must be an ftw.types.OAR(observation, action, reward), got '
          f'{type(inputs).__name__}.')
    features = self._torso(inputs.observation)
    action = self._embed_action(inputs.action)
    reward = self._embed_reward(inputs.reward)
    return tf.concat([features, action, reward], axis=-1)
