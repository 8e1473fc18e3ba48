"""Tests for ftw.tf.networks.embedding."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.types import OAR
from ftw.tf.internal_reward.ftw_internal_reward import InternalRewards
from ftw.tf.networks.embedding import OAREmbedding

# A parameter-free torso makes the whole embedding checkable by hand.
OBS = np.array([[1., 2.], [3., 4.]], np.float32)  # [B=2, 2]


def _embed(num_actions, action, reward, internal_rewards=None):
  embedding = OAREmbedding(snt.Flatten(), num_actions, internal_rewards)
  return embedding(OAR(tf.constant(OBS), tf.constant(action, tf.int32),
                       tf.constant(reward, tf.float32))).numpy()


def test_discrete_action_one_hot_and_scalar_reward():
  out = _embed(3, [2, 0], [0.5, -1.])
  np.testing.assert_allclose(out, [[1., 2., 0., 0., 1., 0.5],
                                   [3., 4., 1., 0., 0., -1.]])


def test_multi_discrete_actions_concatenate_one_hots():
  out = _embed((3, 2), [[2, 1], [0, 0]], [0., 1.])
  np.testing.assert_allclose(out, [[1., 2., 0., 0., 1., 0., 1., 0.],
                                   [3., 4., 1., 0., 0., 1., 0., 1.]])


def test_reward_vector_without_internal_rewards_is_kept():
  out = _embed(2, [0, 1], [[1., 2., 3.], [4., 5., 6.]])
  np.testing.assert_allclose(out[:, -3:], [[1., 2., 3.], [4., 5., 6.]])


def test_scalar_reward_times_scalar_internal_reward():
  out = _embed(2, [0, 1], [1.5, -2.], InternalRewards(0.5))
  assert out.shape == (2, 2 + 2 + 1)
  np.testing.assert_allclose(out[:, -1], [0.75, -1.])


def test_reward_vector_times_scalar_internal_reward():
  out = _embed(2, [0, 1], [[1., 2.], [3., 4.]], InternalRewards(2.))
  assert out.shape == (2, 2 + 2 + 2)
  np.testing.assert_allclose(out[:, -2:], [[2., 4.], [6., 8.]])


def test_reward_vector_dot_internal_reward_vector():
  rewards = np.array([[1., 2.], [3., 4.]], np.float32)
  weights = np.array([0.5, -1.], np.float32)
  out = _embed(2, [0, 1], rewards, InternalRewards(weights))
  assert out.shape == (2, 2 + 2 + 1)
  np.testing.assert_allclose(out[:, -1], rewards @ weights)  # [-1.5, -2.5]


def test_scalar_reward_with_internal_reward_vector_is_rejected():
  with pytest.raises(ValueError, match='reward must have shape'):
    _embed(2, [0, 1], [1., 2.], InternalRewards([1., 2.]))


def test_reward_vector_size_mismatch_is_rejected():
  with pytest.raises(ValueError, match='last dimension 2'):
    _embed(2, [0, 1], [[1., 2., 3.], [1., 2., 3.]], InternalRewards([1., 2.]))


def test_bad_action_shapes_and_values():
  with pytest.raises(ValueError, match=r'action must have shape \[B\]'):
    _embed(3, [[0], [1]], [0., 0.])
  with pytest.raises(ValueError, match=r'\[B, 2\] for 2 action groups'):
    _embed((3, 2), [0, 1], [0., 0.])
  with pytest.raises(tf.errors.InvalidArgumentError, match='num_actions'):
    _embed(3, [3, 0], [0., 0.])
  with pytest.raises(tf.errors.InvalidArgumentError, match='action < 0'):
    _embed(3, [-1, 0], [0., 0.])


def test_bad_reward_rank():
  with pytest.raises(ValueError, match=r'reward must have shape \[B\] or'):
    _embed(3, [0, 0], [[[0.]], [[0.]]])


def test_trainable_torso_receives_gradients():
  embedding = OAREmbedding(snt.Linear(3), 2)
  inputs = OAR(tf.constant(OBS), tf.constant([0, 1]), tf.constant([1., 0.]))
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(embedding(inputs) ** 2)
  grads = tape.gradient(loss, embedding.trainable_variables)
  assert len(grads) == 2 and all(g is not None for g in grads)


@pytest.mark.parametrize('num_actions', [0, -2, [], [2, 0], 'ab', 2.5, True])
def test_bad_num_actions(num_actions):
  with pytest.raises(ValueError, match='num_actions'):
    OAREmbedding(snt.Flatten(), num_actions)


def test_bad_torso_and_internal_rewards():
  with pytest.raises(ValueError, match='torso'):
    OAREmbedding(None, 2)
  with pytest.raises(ValueError, match='internal_rewards'):
    OAREmbedding(snt.Flatten(), 2, internal_rewards=0.5)


def test_inputs_must_be_oar():
  with pytest.raises(ValueError, match='OAR'):
    OAREmbedding(snt.Flatten(), 2)(tf.constant(OBS))
