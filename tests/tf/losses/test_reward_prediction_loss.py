"""Tests of ftw.tf.losses.reward_prediction."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import reward_prediction


def test_reward_to_class():
  classes = reward_prediction.reward_to_class([0.0, -0.5, 2.0, 1e-6, -3.0, -0.0])
  assert classes.dtype == tf.int32
  np.testing.assert_array_equal(classes.numpy(), [0, 1, 2, 2, 1, 0])
  np.testing.assert_array_equal(reward_prediction.reward_to_class([[1, 0], [-1, 5]]).numpy(),
                                [[2, 0], [1, 2]])


def test_loss_hand_computed_and_gradient():
  logits = tf.Variable([[0.0, 0.0, 0.0], [2.0, 0.0, -1.0], [1.0, 3.0, 0.5]])
  rewards = np.array([5.0, 0.0, -1.0], np.float32)
  with tf.GradientTape() as tape:
    loss = reward_prediction.reward_prediction_loss(logits, rewards)
    total = tf.reduce_sum(loss)
  z = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, -1.0], [1.0, 3.0, 0.5]])
  log_norm = np.log(np.exp(z).sum(-1))
  expected = log_norm - z[[0, 1, 2], [2, 0, 1]]    # classes: positive, zero, negative
  np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6)
  np.testing.assert_allclose(loss.numpy()[0], np.log(3.0), rtol=1e-6)
  probs = np.exp(z - log_norm[:, None])
  probs[[0, 1, 2], [2, 0, 1]] -= 1.0
  np.testing.assert_allclose(tape.gradient(total, logits).numpy(), probs, rtol=1e-5, atol=1e-7)


def test_errors_name_the_argument():
  with pytest.raises(ValueError, match="logits"):
    reward_prediction.reward_prediction_loss(np.zeros((2, 4), np.float32), [0.0, 1.0])
  with pytest.raises(ValueError, match="logits"):
    reward_prediction.reward_prediction_loss(np.zeros((3,), np.float32), [0.0])
  with pytest.raises(ValueError, match="rewards"):
    reward_prediction.reward_prediction_loss(np.zeros((2, 3), np.float32), [0.0, 1.0, 2.0])
