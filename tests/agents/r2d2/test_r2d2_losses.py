"""R2D2's loss against a hand-computed table: n-step double Q, plain max,
SARSA, terminations, value rescaling, priorities, gradients and errors."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from agents.r2d2 import losses

# T = 4 steps, B = 1, A = 2; steps 0..2 are trained, step 3 bootstraps.
Q = np.array([[1, 2], [3, 0], [0.5, 4], [2, 1]], np.float32)[:, None]
TARGET_Q = np.array([[0, 0], [10, 20], [30, 5], [7, 9]], np.float32)[:, None]
ACTIONS = np.array([1, 1, 1, 1], np.int32)[:, None]
REWARDS = np.array([1, 2, 3, 4], np.float32)[:, None]
DISCOUNTS = np.full([4, 1], 0.5, np.float32)


def _loss(**kwargs):
  args = dict(q_values=Q, target_q_values=TARGET_Q, actions=ACTIONS,
              rewards=REWARDS, discounts=DISCOUNTS, n_step=2,
              value_rescaling=False, priority_eta=0.9)
  args.update(kwargs)
  return losses.r2d2_loss(**args)


def test_two_step_double_q_targets_match_the_hand_table():
  # Double Q: the online argmax at x_1, x_2, x_3 is 0, 1, 0, so the target
  # network's values are 10, 5, 7.
  #   G_0 = 1 + .5 * 2 + .25 * 5 = 3.25
  #   G_1 = 2 + .5 * 3 + .25 * 7 = 5.25
  #   G_2 = 3 + .5 * 7           = 6.5   (one step left in the sequence)
  out = _loss(double_q=True)
  np.testing.assert_allclose(out.targets.numpy()[:, 0], [3.25, 5.25, 6.5])
  np.testing.assert_allclose(out.action_values.numpy()[:, 0], [2, 0, 4])
  np.testing.assert_allclose(out.td_errors.numpy()[:, 0], [1.25, 5.25, 2.5])
  # Loss: mean over the 3 steps of 0.5 td^2.
  expected = 0.5 * (1.25 ** 2 + 5.25 ** 2 + 2.5 ** 2) / 3
  np.testing.assert_allclose(out.loss.numpy(), [expected], rtol=1e-6)
  # Priority: 0.9 * max |td| + 0.1 * mean |td| = 0.9 * 5.25 + 0.1 * 3.
  np.testing.assert_allclose(out.priorities.numpy(), [5.025], rtol=1e-6)


def test_plain_max_and_sarsa_targets():
  # max_a Q_target at x_1..x_3: 20, 30, 9.
  out = _loss(double_q=False)
  np.testing.assert_allclose(out.targets.numpy()[:, 0],
                             [1 + 1 + .25 * 30, 2 + 1.5 + .25 * 9, 3 + .5 * 9])
  # SARSA: Q_target at the next taken actions (all 1): 20, 5, 9.
  out = _loss(td_target="sarsa")
  np.testing.assert_allclose(out.targets.numpy()[:, 0],
                             [1 + 1 + .25 * 5, 2 + 1.5 + .25 * 9, 3 + .5 * 9])


def test_termination_stops_the_return_and_masked_steps_get_no_loss():
  # The episode ends after step 1 (discount 0); step 2 is the final
  # observation (mask 0), step 3 padding.
  discounts = np.array([[0.5], [0.0], [0.0], [0.0]], np.float32)
  mask = np.array([[1], [1], [0], [0]], np.float32)
  out = _loss(discounts=discounts, mask=mask, n_step=5)
  np.testing.assert_allclose(out.targets.numpy()[:2, 0], [1 + .5 * 2, 2])
  assert out.td_errors.numpy()[2, 0] == 0
  expected = 0.5 * ((2 - 2) ** 2 + (2 - 0) ** 2) / 2
  np.testing.assert_allclose(out.loss.numpy(), [expected])


def test_value_rescaling_is_invertible_and_wraps_the_return():
  x = tf.constant([-1000.0, -3.0, -0.1, 0.0, 0.5, 7.0, 12345.0])
  np.testing.assert_allclose(
      losses.signed_parabolic(losses.signed_hyperbolic(x)).numpy(), x.numpy(),
      rtol=1e-4, atol=1e-4)
  h = lambda v: np.sign(v) * (np.sqrt(np.abs(v) + 1) - 1) + 1e-3 * v
  np.testing.assert_allclose(losses.signed_hyperbolic(x).numpy(), h(x.numpy()),
                             rtol=1e-5)
  # One step: G = h(r + d * h^-1(v)), v the double-Q value (in h space).
  out = _loss(n_step=1, value_rescaling=True)
  v = np.array([10.0, 5.0, 7.0])
  h_inv = losses.signed_parabolic(tf.constant(v)).numpy()
  np.testing.assert_allclose(out.targets.numpy()[:, 0],
                             h(np.array([1, 2, 3]) + 0.5 * h_inv), rtol=1e-5)


def test_gradient_reaches_only_taken_actions_of_trained_steps():
  q = tf.Variable(Q)
  target = tf.Variable(TARGET_Q)
  with tf.GradientTape() as tape:
    out = losses.r2d2_loss(q, target, ACTIONS, REWARDS, DISCOUNTS, n_step=2,
                           value_rescaling=False)
  grad_q, grad_target = tape.gradient(out.loss, [q, target])
  assert grad_target is None
  grad = grad_q.numpy()[:, 0]
  # d/dQ 0.5 (G - Q)^2 / 3 = -(G - Q) / 3 at the taken action (1).
  np.testing.assert_allclose(grad[:3, 1], -np.array([1.25, 5.25, 2.5]) / 3,
                             rtol=1e-6)
  assert not grad[:, 0].any() and not grad[3].any()


def test_priorities_of_a_batch():
  td = np.array([[1.0, -4.0], [-3.0, 0.0], [2.0, 9.0]], np.float32)
  mask = np.array([[1, 1], [1, 1], [1, 0]], np.float32)
  out = losses.sequence_priorities(td, mask, eta=0.5).numpy()
  np.testing.assert_allclose(out, [0.5 * 3 + 0.5 * 2, 0.5 * 4 + 0.5 * 2])


@pytest.mark.parametrize("kwargs, name", [
    (dict(q_values=Q[:, :, 0]), "q_values"),
    (dict(actions=ACTIONS[:3]), "actions"),
    (dict(discounts=DISCOUNTS[:3]), "discounts"),
    (dict(target_q_values=TARGET_Q[:3]), "target_q_values"),
    (dict(td_target="expected_sarsa"), "td_target"),
    (dict(actions=ACTIONS.astype(np.float32)), "actions"),
    (dict(n_step=0), "n"),
])
def test_bad_inputs_name_the_argument(kwargs, name):
  with pytest.raises(ValueError, match=name):
    _loss(**kwargs)
