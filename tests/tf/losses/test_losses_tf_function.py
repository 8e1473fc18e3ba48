"""Every loss traced once under tf.function gives its eager result."""

import numpy as np
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf import losses


def test_losses_match_eager_under_tf_function():
  rng = np.random.default_rng(0)
  T, B, A = 4, 2, 3
  f = lambda *s: tf.constant(rng.normal(size=s).astype(np.float32))
  logits, logits2, values, rewards = f(T, B, A), f(T, B, A), f(T, B), f(T, B)
  bootstrap = f(B)
  actions = tf.constant(rng.integers(0, A, size=(T, B)).astype(np.int32))
  discounts = tf.fill([T, B], 0.9)
  frames = tf.constant(rng.integers(0, 256, size=(T + 1, B, 6, 6, 3)).astype(np.uint8))
  pc_q = f(T + 1, B, 2, 2, A)

  def compute():
    return [
        losses.returns.n_step_bootstrapped_returns(rewards, discounts, values, 2, 0.8),
        losses.returns.n_step_bootstrapped_returns(rewards, discounts, values, None),
        losses.vtrace.from_logits([logits], [logits2], actions[..., None], discounts,
                                  rewards, values, bootstrap, 1.2, 0.8, 0.9).vs,
        losses.a2c.a2c_loss(logits, values, actions, rewards, bootstrap_value=bootstrap,
                            n_steps=2).total,
        losses.qlearning.get_elementwise_objective(logits, actions, rewards,
                                                   double_q=True, n_steps=2).loss,
        losses.sarsa.get_elementwise_objective(logits, actions, rewards, n_steps=None).loss,
        losses.pixel_control.pixel_control_loss(frames, actions, pc_q, 2, discounts,
                                                crop_height_dim=(1, 5),
                                                crop_width_dim=(1, 5)).loss,
        losses.reward_prediction.reward_prediction_loss(logits[0], rewards[0]),
        losses.kl.diagonal_gaussian_kl(values, tf.exp(rewards), 0.0, 1.0),
    ]

  eager = compute()
  traced = tf.function(compute)()
  assert len(eager) == len(traced)
  for e, t in zip(eager, traced):
    np.testing.assert_allclose(t.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


def test_unknown_time_dimension_under_tf_function():
  spec = tf.TensorSpec([None, 2], tf.float32)

  @tf.function(input_signature=[spec, spec, spec])
  def returns_fn(rewards, discounts, values):
    return losses.returns.n_step_bootstrapped_returns(rewards, discounts, values, 3)

  r = np.arange(10, dtype=np.float32).reshape(5, 2)
  d = np.full((5, 2), 0.5, np.float32)
  eager = losses.returns.n_step_bootstrapped_returns(r, d, r, 3)
  np.testing.assert_allclose(returns_fn(r, d, r).numpy(), eager.numpy(), rtol=1e-6)
  short = returns_fn(r[:2], d[:2], r[:2])   # T < n with the same trace.
  np.testing.assert_allclose(short.numpy(),
                             losses.returns.n_step_bootstrapped_returns(r[:2], d[:2], r[:2],
                                                                        3).numpy(), rtol=1e-6)
