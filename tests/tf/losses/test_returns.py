"""Tests of ftw.tf.losses.returns against hand values and a numpy sum."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import returns


def np_n_step_sum(r, d, v, n):
  """lambda = 1 reference: explicit discounted sum, truncated at min(n, T - t)."""
  T = r.shape[0]
  out = np.zeros_like(r)
  for t in range(T):
    m = T - t if n is None else min(n, T - t)
    g, scale = 0.0, 1.0
    for k in range(m):
      g = g + scale * r[t + k]
      scale = scale * d[t + k]
    out[t] = g + scale * v[t + m - 1]
  return out


def np_lambda(r, d, v, n, lam):
  """Reference with lambda: explicit recursion of depth n per step, padded."""
  T = r.shape[0]
  out = np.zeros_like(r)
  for t in range(T):
    depth = T - t if n is None else n
    g = v[min(t + depth - 1, T - 1)]
    for k in reversed(range(depth)):
      i = t + k
      ri, di, vi = (r[i], d[i], v[i]) if i < T else (0.0 * r[0], 1.0, v[-1])
      g = ri + di * ((1 - lam) * vi + lam * g)
    out[t] = g
  return out


R = np.array([[1.], [2.], [3.]], np.float32)
V = np.array([[10.], [20.], [30.]], np.float32)


@pytest.mark.parametrize("n,lam,expected", [
    (1, 1.0, [6.0, 12.0, 18.0]),
    (2, 1.0, [7.0, 11.0, 18.0]),      # step 2 pads: 3 + 0.5 * (0 + 1 * 30)
    (None, 1.0, [6.5, 11.0, 18.0]),
    (5, 1.0, [6.5, 11.0, 18.0]),      # n > T equals the full return
    (2, 0.5, [1 + 0.5 * (5 + 0.5 * 12), 2 + 0.5 * (10 + 0.5 * 18), 18.0]),
])
def test_hand_values(n, lam, expected):
  d = np.full_like(R, 0.5)
  out = returns.n_step_bootstrapped_returns(R, d, V, n, lam)
  np.testing.assert_allclose(out.numpy()[:, 0], expected, rtol=1e-6)


def test_episode_end_mid_sequence():
  d = np.array([[0.5], [0.0], [0.5]], np.float32)
  for n, expected in ((2, [2.0, 2.0, 18.0]), (None, [2.0, 2.0, 18.0]), (1, [6.0, 2.0, 18.0])):
    out = returns.n_step_bootstrapped_returns(R, d, V, n)
    np.testing.assert_allclose(out.numpy()[:, 0], expected, rtol=1e-6)
  # lambda 0.5, n = 2: G_0 = 1 + 0.5 * (0.5 * 10 + 0.5 * 2) = 4.
  out = returns.n_step_bootstrapped_returns(R, d, V, 2, 0.5)
  np.testing.assert_allclose(out.numpy()[:, 0], [4.0, 2.0, 18.0], rtol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3, 6, None])
def test_random_against_numpy(n):
  rng = np.random.default_rng(0)
  T, B = 6, 3
  r = rng.normal(size=(T, B)).astype(np.float32)
  d = rng.choice([0.0, 0.9, 0.95], size=(T, B)).astype(np.float32)
  v = rng.normal(size=(T, B)).astype(np.float32)
  out = returns.n_step_bootstrapped_returns(r, d, v, n)
  np.testing.assert_allclose(out.numpy(), np_n_step_sum(r, d, v, n), rtol=1e-5, atol=1e-5)
  out = returns.n_step_bootstrapped_returns(r, d, v, n, lambda_=0.7)
  np.testing.assert_allclose(out.numpy(), np_lambda(r, d, v, n, 0.7), rtol=1e-5, atol=1e-5)


def test_extra_trailing_dims_and_tensor_lambda():
  rng = np.random.default_rng(1)
  r = rng.normal(size=(4, 2, 3)).astype(np.float32)
  d = np.full_like(r, 0.9)
  v = rng.normal(size=(4, 2, 3)).astype(np.float32)
  lam = np.full_like(r, 0.3)
  out = returns.n_step_bootstrapped_returns(r, d, v, 2, tf.constant(lam))
  flat = lambda x: x.reshape(4, 6)
  np.testing.assert_allclose(flat(out.numpy()), np_lambda(flat(r), flat(d), flat(v), 2, 0.3),
                             rtol=1e-5)


def test_no_gradient_through_targets():
  v = tf.Variable(V)
  with tf.GradientTape() as tape:
    out = returns.n_step_bootstrapped_returns(R, np.full_like(R, 0.5), v, 2)
    total = tf.reduce_sum(out)
  assert tape.gradient(total, v) is None
  with tf.GradientTape() as tape:
    out = returns.n_step_bootstrapped_returns(R, np.full_like(R, 0.5), v, 2,
                                              stop_target_gradients=False)
    total = tf.reduce_sum(out)
  np.testing.assert_allclose(tape.gradient(total, v).numpy()[:, 0], [0.0, 0.25, 0.25 + 0.5])


def test_errors_name_the_argument():
  d = np.full_like(R, 0.5)
  with pytest.raises(ValueError, match="discounts"):
    returns.n_step_bootstrapped_returns(R, d[:2], V, 1)
  with pytest.raises(ValueError, match="bootstrap_values"):
    returns.n_step_bootstrapped_returns(R, d, V[:, :, None], 1)
  with pytest.raises(ValueError, match="rewards"):
    returns.n_step_bootstrapped_returns(R[:, 0], d[:, 0], V[:, 0], 1)
  with pytest.raises(ValueError, match="`n`"):
    returns.n_step_bootstrapped_returns(R, d, V, 0)
