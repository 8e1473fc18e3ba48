"""Tests for ftw.tf.internal_reward.ftw_internal_reward."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf.internal_reward.ftw_internal_reward import InternalRewards


def test_scalar_weight_scales_scalar_and_vector_rewards():
  module = InternalRewards(0.5)
  assert module.is_scalar and module.num_rewards is None
  np.testing.assert_allclose(module(tf.constant([2., -4.])), [1., -2.])
  np.testing.assert_allclose(
      module(tf.constant([[1., 2.], [3., -6.]])), [[.5, 1.], [1.5, -3.]])


def test_vector_weights_dot_product():
  weights = [1.0, -0.5, 2.0]
  module = InternalRewards(weights)
  events = np.array([[1., 0., 1.], [0., 2., 0.], [0., 0., 0.]], np.float32)
  expected = events @ np.array(weights, np.float32)  # [3., -1., 0.]
  np.testing.assert_allclose(module(events), expected)
  assert module.num_rewards == 3
  assert module(events).shape == (3,)


def test_weights_variable_not_trainable_by_default():
  module = InternalRewards([1., 2.])
  assert isinstance(module.weights, tf.Variable)
  assert not module.trainable_variables
  np.testing.assert_allclose(module.weights.numpy(), [1., 2.])
  trainable = InternalRewards([1., 2.], trainable=True)
  assert len(trainable.trainable_variables) == 1


def test_assign_changes_output_inside_existing_tf_function():
  module = InternalRewards([1., 1.])
  compute = tf.function(module.__call__)
  rewards = tf.constant([[1., 2.]])
  np.testing.assert_allclose(compute(rewards), [3.])
  module.assign([2., -1.])
  np.testing.assert_allclose(compute(rewards), [0.])


def test_checkpoint_round_trip(tmp_path):
  module = InternalRewards([0.1, 0.2])
  path = tf.train.Checkpoint(module=module).save(str(tmp_path / 'ckpt'))
  restored = InternalRewards([0., 0.])
  tf.train.Checkpoint(module=restored).restore(path).assert_consumed()
  np.testing.assert_allclose(restored.weights.numpy(), [0.1, 0.2])


@pytest.mark.parametrize('weights', [[[1., 2.]], [], [float('nan')], 'abc',
                                     None])
def test_bad_initial_weights(weights):
  with pytest.raises(ValueError, match='initial_weights'):
    InternalRewards(weights)


def test_bad_trainable():
  with pytest.raises(ValueError, match='trainable'):
    InternalRewards(1.0, trainable='yes')


def test_assign_shape_mismatch():
  module = InternalRewards([1., 2.])
  with pytest.raises(ValueError, match='new_weights'):
    module.assign([1., 2., 3.])


def test_vector_weights_reject_scalar_and_mismatched_rewards():
  module = InternalRewards([1., 2.])
  with pytest.raises(ValueError, match='rewards must have shape'):
    module(tf.constant([1., 2.]))
  with pytest.raises(ValueError, match='last dimension 2'):
    module(tf.constant([[1., 2., 3.]]))
