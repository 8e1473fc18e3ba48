"""Tests of ftw.tf.losses.policy: multi-discrete log-probabilities, entropy.

Independent checks: numpy log-softmax per group, and the equivalent single
softmax over the product action space (for groups [a, b] the joint action
(i, j) has logit l1[i] + l2[j]; its softmax factorises into the groups').
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import policy
from ftw.tf.losses import vtrace

SIZES = (5, 3, 3)


def np_log_softmax(x):
  x = x - x.max(-1, keepdims=True)
  return x - np.log(np.exp(x).sum(-1, keepdims=True))


def random_policy(T=4, B=3, sizes=SIZES, seed=0):
  rng = np.random.default_rng(seed)
  logits = rng.normal(size=(T, B, sum(sizes))).astype(np.float32)
  actions = np.stack([rng.integers(0, n, size=(T, B)) for n in sizes],
                     -1).astype(np.int32)
  return logits, actions


def product_space(logits, actions, sizes):
  """Joint logits [T, B, prod(sizes)] and joint actions [T, B]."""
  groups = np.split(logits, np.cumsum(sizes)[:-1], axis=-1)
  joint = np.stack([sum(g[..., i] for g, i in zip(groups, index))
                    for index in itertools.product(*map(range, sizes))], -1)
  return joint, np.ravel_multi_index(np.moveaxis(actions, -1, 0), sizes)


def test_log_probs_against_numpy_and_product_space():
  logits, actions = random_policy()
  out = policy.multi_discrete_log_probs(logits, actions, SIZES)
  assert out.shape == (4, 3)
  groups = np.split(logits, np.cumsum(SIZES)[:-1], axis=-1)
  expected = sum(
      np.take_along_axis(np_log_softmax(g), actions[..., k, None], -1)[..., 0]
      for k, g in enumerate(groups))
  np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
  joint, joint_actions = product_space(logits, actions, SIZES)
  single = policy.action_log_probs(joint, joint_actions)
  np.testing.assert_allclose(out.numpy(), single.numpy(), rtol=1e-5, atol=1e-5)


def test_entropy_is_the_sum_of_group_entropies():
  logits, actions = random_policy(seed=1)
  out = policy.multi_discrete_entropy(logits, SIZES)
  assert out.shape == (4, 3)
  expected = 0.0
  for g in np.split(logits, np.cumsum(SIZES)[:-1], axis=-1):
    log_p = np_log_softmax(g.astype(np.float64))
    expected = expected - (np.exp(log_p) * log_p).sum(-1)
  np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
  joint, _ = product_space(logits, actions, SIZES)
  np.testing.assert_allclose(out.numpy(), policy.entropy(joint).numpy(),
                             rtol=1e-5)


def test_split_logits_and_gradients():
  logits, actions = random_policy(seed=2)
  groups = policy.split_logits(logits, SIZES)
  assert [g.shape[-1] for g in groups] == list(SIZES)
  variable = tf.Variable(logits)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(policy.multi_discrete_log_probs(variable, actions,
                                                         SIZES))
  grad = tape.gradient(loss, variable).numpy()
  # d log softmax(l)[a] / dl = onehot(a) - softmax(l), in every group.
  for k, (g, lo) in enumerate(zip(np.split(grad, np.cumsum(SIZES)[:-1], -1),
                                  np.split(logits, np.cumsum(SIZES)[:-1],
                                           -1))):
    onehot = np.eye(SIZES[k])[actions[..., k]]
    np.testing.assert_allclose(g, onehot - np.exp(np_log_softmax(lo)),
                               atol=1e-5)


def test_vtrace_with_multi_discrete_actions_equals_the_product_space():
  T, B, sizes = 5, 3, (4, 3)
  behaviour, actions = random_policy(T, B, sizes, seed=3)
  target, _ = random_policy(T, B, sizes, seed=4)
  rng = np.random.default_rng(5)
  inputs = dict(
      discounts=rng.choice([0.0, 0.9], size=(T, B)).astype(np.float32),
      rewards=rng.normal(size=(T, B)).astype(np.float32),
      values=rng.normal(size=(T, B)).astype(np.float32),
      bootstrap_value=rng.normal(size=(B,)).astype(np.float32),
      clip_rho_threshold=1.2, clip_pg_rho_threshold=0.8, lambda_=0.95)
  multi = vtrace.from_logits(policy.split_logits(behaviour, sizes),
                             policy.split_logits(target, sizes), actions,
                             **inputs)
  joint_behaviour, joint_actions = product_space(behaviour, actions, sizes)
  joint_target, _ = product_space(target, actions, sizes)
  single = vtrace.from_logits(joint_behaviour, joint_target, joint_actions,
                              **inputs)
  for field in single._fields:
    np.testing.assert_allclose(getattr(multi, field).numpy(),
                               getattr(single, field).numpy(),
                               rtol=1e-4, atol=1e-5, err_msg=field)


def test_errors_name_the_argument_and_expected_shape():
  logits, actions = random_policy()
  with pytest.raises(ValueError, match=r"`actions`.*\[T, B, G\] with G = 3"):
    policy.multi_discrete_log_probs(logits, actions[..., :2], SIZES)
  with pytest.raises(ValueError, match=r"`actions`.*\[T, B, G\]"):
    policy.multi_discrete_log_probs(logits, actions[..., 0], SIZES)
  with pytest.raises(ValueError, match=r"`logits`.*\[\.\.\., 11\]"):
    policy.multi_discrete_log_probs(logits[..., :10], actions, SIZES)
  with pytest.raises(ValueError, match=r"`logits`.*rank 3"):
    policy.multi_discrete_log_probs(logits[0], actions[0], SIZES)
  with pytest.raises(ValueError, match="actions.*integer"):
    policy.multi_discrete_log_probs(logits, actions.astype(np.float32), SIZES)
  for sizes in ([], [5, 0, 6], "ab", [5.0, 6]):
    with pytest.raises(ValueError, match="sizes"):
      policy.multi_discrete_log_probs(logits, actions, sizes)
  with pytest.raises(ValueError, match=r"`logits`.*\[\.\.\., 11\]"):
    policy.multi_discrete_entropy(logits[..., :4], SIZES)
