"""Tests for ftw.tf.networks.policy_value."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf.networks.policy_value import PolicyValueHead


def _linear(x, layer):
  return x @ layer.w.numpy() + layer.b.numpy()


def test_outputs_match_numpy_forward_pass():
  head = PolicyValueHead(num_actions=4, hidden_size=6)
  x = np.random.RandomState(1).randn(3, 5).astype(np.float32)
  logits, value = head(tf.constant(x))
  assert logits.shape == (3, 4) and value.shape == (3,)
  relu = lambda v: np.maximum(v, 0.)
  expected_logits = _linear(relu(_linear(x, head._policy_hidden)),
                            head._policy_logits)
  expected_value = _linear(relu(_linear(x, head._value_hidden)),
                           head._value)[:, 0]
  np.testing.assert_allclose(logits, expected_logits, atol=1e-5)
  np.testing.assert_allclose(value, expected_value, atol=1e-5)


def test_policy_and_value_have_separate_hidden_layers():
  head = PolicyValueHead(num_actions=3, hidden_size=4)
  x = tf.random.normal([2, 5])
  with tf.GradientTape(persistent=True) as tape:
    logits, value = head(x)
    policy_loss, value_loss = tf.reduce_sum(logits), tf.reduce_sum(value)
  policy_vars = (head._policy_hidden.trainable_variables +
                 head._policy_logits.trainable_variables)
  value_vars = (head._value_hidden.trainable_variables +
                head._value.trainable_variables)
  assert len(head.trainable_variables) == 8
  assert all(g is None for g in tape.gradient(value_loss, policy_vars))
  assert all(g is None for g in tape.gradient(policy_loss, value_vars))
  assert all(g is not None for g in tape.gradient(value_loss, value_vars))
  assert all(g is not None for g in tape.gradient(policy_loss, policy_vars))


@pytest.mark.parametrize('kwargs, argname', [
    (dict(num_actions=0), 'num_actions'),
    (dict(num_actions=2.0), 'num_actions'),
    (dict(num_actions=2, hidden_size=-1), 'hidden_size'),
    (dict(num_actions=2, activation=None), 'activation'),
])
def test_bad_constructor_args(kwargs, argname):
  with pytest.raises(ValueError, match=argname):
    PolicyValueHead(**kwargs)


def test_bad_input_rank():
  with pytest.raises(ValueError, match=r'\[B, D\]'):
    PolicyValueHead(2)(tf.zeros([2, 3, 4]))


def test_multi_discrete_logits_are_the_groups_concatenated():
  head = PolicyValueHead(num_actions=[5, 3, 3], hidden_size=6)
  x = np.random.RandomState(2).randn(4, 7).astype(np.float32)
  logits, value = head(tf.constant(x))
  assert logits.shape == (4, 11) and value.shape == (4,)
  assert head.num_actions == (5, 3, 3) and head.action_sizes == (5, 3, 3)
  # One linear layer of 11 outputs: each group's logits have their own weights.
  assert head._policy_logits.w.shape == (6, 11)
  relu = lambda v: np.maximum(v, 0.)
  expected = _linear(relu(_linear(x, head._policy_hidden)),
                     head._policy_logits)
  np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_discrete_head_reports_its_sizes():
  head = PolicyValueHead(num_actions=np.int64(4))
  assert head.num_actions == 4 and isinstance(head.num_actions, int)
  assert head.action_sizes == (4,)


@pytest.mark.parametrize('num_actions', [[], [3, 0], (2, -1), [2, 1.5],
                                         'abc', [True, 2]])
def test_bad_multi_discrete_num_actions(num_actions):
  with pytest.raises(ValueError, match='num_actions'):
    PolicyValueHead(num_actions)
