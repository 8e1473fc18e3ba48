"""Tests of ftw.tf.losses.vtrace against hand values and the IMPALA sum form."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import vtrace


def np_vtrace(log_rhos, discounts, rewards, values, bootstrap, rho_bar, pg_rho_bar, lam):
  """Espeholt et al. (2018) eq. (1) written as an explicit sum, per batch entry."""
  T = log_rhos.shape[0]
  rhos = np.exp(log_rhos)
  clip = lambda x, c: x if c is None else np.minimum(c, x)
  cs = lam * np.minimum(1.0, rhos)
  next_values = np.concatenate([values[1:], bootstrap[None]], 0)
  deltas = clip(rhos, rho_bar) * (rewards + discounts * next_values - values)
  vs = np.array(values, np.float64)
  for s in range(T):
    for t in range(s, T):
      weight = np.prod(discounts[s:t] * cs[s:t], axis=0)
      vs[s] += weight * deltas[t]
  next_vs = np.concatenate([vs[1:], bootstrap[None]], 0)
  q = lam * next_vs + (1 - lam) * next_values
  pg = clip(rhos, pg_rho_bar) * (rewards + discounts * q - values)
  return vs, pg


def np_log_softmax(x):
  x = x - x.max(-1, keepdims=True)
  return x - np.log(np.exp(x).sum(-1, keepdims=True))


def random_inputs(T=5, B=3, seed=0):
  rng = np.random.default_rng(seed)
  f = lambda *s: rng.normal(size=s).astype(np.float32)
  discounts = rng.choice([0.0, 0.9, 0.99], size=(T, B), p=[0.2, 0.4, 0.4]).astype(np.float32)
  discounts[2, 0] = 0.0  # An episode ends mid-sequence.
  return dict(log_rhos=f(T, B), discounts=discounts, rewards=f(T, B), values=f(T, B),
              bootstrap_value=f(B))


def test_hand_computed():
  # rhos = [2, 0.5]; clipped value rhos [1.5, 0.5]; pg rhos [0.8, 0.5]; cs [1, 0.5].
  out = vtrace.from_importance_weights(
      log_rhos=np.log([[2.0], [0.5]]).astype(np.float32),
      discounts=[[0.9], [0.9]], rewards=[[1.0], [2.0]], values=[[3.0], [4.0]],
      bootstrap_value=[5.0], clip_rho_threshold=1.5, clip_pg_rho_threshold=0.8)
  # delta_1 = 0.5 * (2 + 4.5 - 4) = 1.25; delta_0 = 1.5 * (1 + 3.6 - 3) = 2.4.
  np.testing.assert_allclose(out.vs.numpy()[:, 0], [3 + 2.4 + 0.9 * 1.25, 5.25], rtol=1e-6)
  np.testing.assert_allclose(out.pg_advantages.numpy()[:, 0],
                             [0.8 * (1 + 0.9 * 5.25 - 3), 0.5 * (2 + 4.5 - 4)], rtol=1e-6)


def test_hand_computed_lambda_and_episode_end():
  # lambda 0.5, no clipping, discount 0 at step 0: step 0 ignores the future.
  out = vtrace.from_importance_weights(
      log_rhos=np.zeros((2, 1), np.float32), discounts=[[0.0], [0.5]],
      rewards=[[1.0], [2.0]], values=[[3.0], [4.0]], bootstrap_value=[6.0],
      clip_rho_threshold=None, clip_pg_rho_threshold=None, lambda_=0.5)
  # vs_1 = 4 + (2 + 3 - 4) = 5; vs_0 = 3 + (1 - 3) = 1.
  np.testing.assert_allclose(out.vs.numpy()[:, 0], [1.0, 5.0], rtol=1e-6)
  # pg_1 = 2 + 0.5 * (0.5 * 6 + 0.5 * 6) - 4 = 1; pg_0 = 1 - 3.
  np.testing.assert_allclose(out.pg_advantages.numpy()[:, 0], [-2.0, 1.0], rtol=1e-6)


@pytest.mark.parametrize("rho_bar,pg_rho_bar,lam", [
    (1.0, 1.0, 1.0), (0.7, 1.6, 1.0), (2.5, 0.4, 0.6), (None, None, 1.0), (None, 0.9, 0.8),
])
def test_random_against_numpy(rho_bar, pg_rho_bar, lam):
  inputs = random_inputs()
  out = vtrace.from_importance_weights(**inputs, clip_rho_threshold=rho_bar,
                                       clip_pg_rho_threshold=pg_rho_bar, lambda_=lam)
  vs, pg = np_vtrace(*inputs.values(), rho_bar, pg_rho_bar, lam)
  np.testing.assert_allclose(out.vs.numpy(), vs, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out.pg_advantages.numpy(), pg, rtol=1e-5, atol=1e-5)


def test_on_policy_lambda_one_is_n_step_return():
  # rho = 1 everywhere: vs is the discounted return bootstrapped at the end.
  inputs = random_inputs()
  inputs["log_rhos"] = np.zeros_like(inputs["log_rhos"])
  out = vtrace.from_importance_weights(**inputs)
  d, r, b = inputs["discounts"], inputs["rewards"], inputs["bootstrap_value"]
  expected, g = np.zeros_like(r), b
  for t in reversed(range(r.shape[0])):
    g = r[t] + d[t] * g
    expected[t] = g
  np.testing.assert_allclose(out.vs.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_from_logits_multi_discrete():
  rng = np.random.default_rng(3)
  T, B, sizes = 4, 2, (3, 5)
  behaviour = [rng.normal(size=(T, B, a)).astype(np.float32) for a in sizes]
  target = [rng.normal(size=(T, B, a)).astype(np.float32) for a in sizes]
  actions = np.stack([rng.integers(0, a, size=(T, B)) for a in sizes], -1).astype(np.int32)
  inputs = random_inputs(T, B, seed=4)
  del inputs["log_rhos"]
  out = vtrace.from_logits(behaviour, target, actions, **inputs,
                           clip_rho_threshold=1.3, clip_pg_rho_threshold=0.9, lambda_=0.9)
  pick = lambda logits: sum(
      np.take_along_axis(np_log_softmax(l), actions[..., g, None], -1)[..., 0]
      for g, l in enumerate(logits))
  np.testing.assert_allclose(out.behaviour_action_log_probs.numpy(), pick(behaviour), rtol=1e-5)
  np.testing.assert_allclose(out.target_action_log_probs.numpy(), pick(target), rtol=1e-5)
  log_rhos = pick(target) - pick(behaviour)
  np.testing.assert_allclose(out.log_rhos.numpy(), log_rhos, rtol=1e-5, atol=1e-6)
  vs, pg = np_vtrace(log_rhos, *inputs.values(), 1.3, 0.9, 0.9)
  np.testing.assert_allclose(out.vs.numpy(), vs, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(out.pg_advantages.numpy(), pg, rtol=1e-4, atol=1e-5)


def test_from_logits_single_group():
  rng = np.random.default_rng(5)
  behaviour = rng.normal(size=(3, 2, 4)).astype(np.float32)
  target = rng.normal(size=(3, 2, 4)).astype(np.float32)
  actions = rng.integers(0, 4, size=(3, 2)).astype(np.int32)
  inputs = random_inputs(3, 2, seed=6)
  del inputs["log_rhos"]
  out = vtrace.from_logits(behaviour, target, actions, **inputs)
  pick = lambda l: np.take_along_axis(np_log_softmax(l), actions[..., None], -1)[..., 0]
  np.testing.assert_allclose(out.log_rhos.numpy(), pick(target) - pick(behaviour), rtol=1e-5)


def test_gradients():
  inputs = random_inputs(4, 2, seed=7)
  del inputs["log_rhos"]
  values = tf.Variable(inputs.pop("values"))
  rng = np.random.default_rng(8)
  target_logits = tf.Variable(rng.normal(size=(4, 2, 3)).astype(np.float32))
  behaviour_logits = tf.constant(rng.normal(size=(4, 2, 3)).astype(np.float32))
  actions = rng.integers(0, 3, size=(4, 2)).astype(np.int32)
  with tf.GradientTape(persistent=True) as tape:
    out = vtrace.from_logits(behaviour_logits, target_logits, actions, values=values, **inputs)
    vs_sum = tf.reduce_sum(out.vs) + tf.reduce_sum(out.pg_advantages)
    pg_loss = -tf.reduce_sum(out.target_action_log_probs * out.pg_advantages)
    baseline = tf.reduce_sum(0.5 * tf.square(out.vs - values))
  assert tape.gradient(vs_sum, values) is None
  assert tape.gradient(vs_sum, target_logits) is None
  grad_logits = tape.gradient(pg_loss, target_logits)
  assert grad_logits is not None and np.abs(grad_logits.numpy()).sum() > 0
  np.testing.assert_allclose(tape.gradient(baseline, values).numpy(),
                             (values - out.vs).numpy(), rtol=1e-6)


def test_errors_name_the_argument():
  inputs = random_inputs(3, 2)
  bad = dict(inputs, rewards=inputs["rewards"][:2])
  with pytest.raises(ValueError, match="rewards"):
    vtrace.from_importance_weights(**bad)
  with pytest.raises(ValueError, match="bootstrap_value"):
    vtrace.from_importance_weights(**dict(inputs, bootstrap_value=np.zeros((3,), np.float32)))
  with pytest.raises(ValueError, match="values"):
    vtrace.from_importance_weights(**dict(inputs, values=inputs["values"][..., None]))
  with pytest.raises(ValueError, match="clip_rho_threshold"):
    vtrace.from_importance_weights(**inputs, clip_rho_threshold=0.0)
  del inputs["log_rhos"]
  logits = [np.zeros((3, 2, 2), np.float32)] * 2
  with pytest.raises(ValueError, match="actions"):
    vtrace.from_logits(logits, logits, np.zeros((3, 2, 3), np.int32), **inputs)
  with pytest.raises(ValueError, match="actions"):
    vtrace.from_logits(logits[0], logits[0], np.zeros((3, 3), np.int32), **inputs)
  with pytest.raises(ValueError, match="target_policy_logits"):
    vtrace.from_logits(logits[0], logits[0][0], np.zeros((3, 2), np.int32), **inputs)
