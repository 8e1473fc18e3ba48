"""Tests of ftw.tf.losses.kl.diagonal_gaussian_kl."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import kl


def test_hand_computed():
  # N(0, 1) vs N(0, 2^2): log 2 + 1/8 - 1/2 per dimension.
  out = kl.diagonal_gaussian_kl(np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32),
                                0.0, 2.0)
  np.testing.assert_allclose(out.numpy(), np.full(2, 3 * (np.log(2.0) - 0.375)), rtol=1e-6)
  # N(1, 1) vs N(0, 1): 1/2 per dimension; KL(q || q) = 0.
  out = kl.diagonal_gaussian_kl([[1.0, 1.0]], [[1.0, 1.0]], [[0.0, 0.0]], [[1.0, 1.0]])
  np.testing.assert_allclose(out.numpy(), [1.0], rtol=1e-6)
  same = kl.diagonal_gaussian_kl([[0.3, -2.0]], [[0.5, 3.0]], [[0.3, -2.0]], [[0.5, 3.0]])
  np.testing.assert_allclose(same.numpy(), [0.0], atol=1e-6)


def test_random_against_numpy_quadrature():
  # Independent check: E_q[log q(x) - log p(x)] by 1-D numerical integration per dimension.
  rng = np.random.default_rng(0)
  mq, mp = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
  sq, sp = rng.uniform(0.3, 2.0, size=(2, 4)), rng.uniform(0.3, 2.0, size=(2, 4))
  x = np.linspace(-20, 20, 40001)
  log_pdf = lambda m, s: -0.5 * ((x - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)
  expected = np.zeros((2,))
  for b in range(2):
    for i in range(4):
      lq, lp = log_pdf(mq[b, i], sq[b, i]), log_pdf(mp[b, i], sp[b, i])
      expected[b] += np.trapz(np.exp(lq) * (lq - lp), x)
  out = kl.diagonal_gaussian_kl(mq, sq, mp, sp)
  np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_gradients_reach_both_arguments():
  loc_q, scale_q = tf.Variable([[0.5, -1.0]]), tf.Variable([[0.7, 1.3]])
  loc_p, scale_p = tf.Variable([[0.0, 0.2]]), tf.Variable([[1.0, 0.6]])
  with tf.GradientTape() as tape:
    total = tf.reduce_sum(kl.diagonal_gaussian_kl(loc_q, scale_q, loc_p, scale_p))
  g_lq, g_sq, g_lp, g_sp = tape.gradient(total, [loc_q, scale_q, loc_p, scale_p])
  d = (loc_q - loc_p).numpy() / scale_p.numpy() ** 2
  np.testing.assert_allclose(g_lq.numpy(), d, rtol=1e-5)
  np.testing.assert_allclose(g_lp.numpy(), -d, rtol=1e-5)
  np.testing.assert_allclose(g_sq.numpy(), scale_q.numpy() / scale_p.numpy() ** 2
                             - 1 / scale_q.numpy(), rtol=1e-5)
  assert np.all(np.abs(g_sp.numpy()) > 0)


def test_errors_name_the_argument():
  with pytest.raises(ValueError, match="scale_q"):
    kl.diagonal_gaussian_kl(np.zeros((2, 3)), np.ones((2, 4)), 0.0, 1.0)
  with pytest.raises(ValueError, match="loc_p"):
    kl.diagonal_gaussian_kl(np.zeros((2, 3)), np.ones((2, 3)), np.zeros((2, 4)), 1.0)
  with pytest.raises(ValueError, match="loc_q"):
    kl.diagonal_gaussian_kl(0.0, 1.0, 0.0, 1.0)
