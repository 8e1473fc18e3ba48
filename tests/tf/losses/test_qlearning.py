"""Tests of ftw.tf.losses.qlearning: n-step (double) Q-learning, AgentNet style."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import qlearning

Q = np.array([[[1., 2.]], [[3., 5.]], [[4., 0.]]], np.float32)      # [T=3, B=1, A=2]
Q_TARGET = np.array([[[0., 0.]], [[7., -1.]], [[2., 9.]]], np.float32)
ACTIONS = np.array([[0], [1], [0]], np.int32)
REWARDS = np.ones((3, 1), np.float32)


@pytest.mark.parametrize("kwargs,targets,loss", [
    (dict(), [3.5, 3.0], [3.125, 2.0]),                              # V = max Q
    (dict(n_steps=2), [2.5, 3.0], [1.125, 2.0]),                     # 1 + .5 + .25 * 4
    (dict(q_values_target=Q_TARGET), [4.5, 5.5], [6.125, 0.125]),
    (dict(q_values_target=Q_TARGET, double_q=True), [0.5, 2.0], [0.125, 4.5]),
    (dict(is_alive=[[1.], [1.], [0.]]), [3.5, 1.0], [3.125, 8.0]),   # ends after tick 1
    (dict(loss_function="huber"), [3.5, 3.0], [2.0, 1.5]),
    (dict(loss_function=lambda t, p: (t - p) ** 2), [3.5, 3.0], [6.25, 4.0]),
])
def test_hand_computed(kwargs, targets, loss):
  out = qlearning.get_elementwise_objective(Q, ACTIONS, REWARDS, gamma_or_gammas=0.5, **kwargs)
  np.testing.assert_allclose(out.targets.numpy()[:2, 0], targets, rtol=1e-6)
  np.testing.assert_allclose(out.loss.numpy()[:, 0], loss + [0.0], rtol=1e-6)
  np.testing.assert_allclose(out.action_values.numpy()[:, 0], [1.0, 5.0, 4.0])


def np_n_step_sum(r, d, v, n):
  T = r.shape[0]
  out = np.zeros_like(r)
  for t in range(T):
    m = T - t if n is None else min(n, T - t)
    g, scale = 0.0, 1.0
    for k in range(m):
      g, scale = g + scale * r[t + k], scale * d[t + k]
    out[t] = g + scale * v[t + m - 1]
  return out


@pytest.mark.parametrize("n,double_q", [(1, False), (3, True), (None, False)])
def test_random_against_numpy(n, double_q):
  rng = np.random.default_rng(0)
  T, B, A = 6, 3, 4
  q = rng.normal(size=(T, B, A)).astype(np.float32)
  q_target = rng.normal(size=(T, B, A)).astype(np.float32)
  actions = rng.integers(0, A, size=(T, B)).astype(np.int32)
  rewards = rng.normal(size=(T, B)).astype(np.float32)
  alive = np.ones((T, B), np.float32)
  alive[3:, 1] = 0.0
  out = qlearning.get_elementwise_objective(q, actions, rewards, is_alive=alive,
                                            q_values_target=q_target, double_q=double_q,
                                            n_steps=n, gamma_or_gammas=0.9)
  if double_q:
    v = np.take_along_axis(q_target, q.argmax(-1)[..., None], -1)[..., 0]
  else:
    v = q_target.max(-1)
  targets = np_n_step_sum(rewards[:-1], 0.9 * alive[1:], v[1:], n)
  q_taken = np.take_along_axis(q, actions[..., None], -1)[..., 0]
  loss = 0.5 * (targets - q_taken[:-1]) ** 2 * alive[:-1]
  np.testing.assert_allclose(out.targets.numpy()[:-1], targets, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out.loss.numpy(), np.concatenate([loss, np.zeros((1, B))]),
                             rtol=1e-5, atol=1e-6)


def test_gradient_only_to_taken_actions_before_last_tick():
  q = tf.Variable(Q)
  for double_q in (False, True):
    with tf.GradientTape() as tape:
      out = qlearning.get_elementwise_objective(q, ACTIONS, REWARDS, gamma_or_gammas=0.5,
                                                double_q=double_q)
      total = tf.reduce_sum(out.loss)
    grad = tape.gradient(total, q).numpy()
    expected = np.zeros_like(Q)
    expected[0, 0, 0] = 1.0 - out.targets.numpy()[0, 0]
    expected[1, 0, 1] = 5.0 - out.targets.numpy()[1, 0]
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
  target = tf.Variable(Q_TARGET)
  with tf.GradientTape() as tape:
    total = tf.reduce_sum(qlearning.get_elementwise_objective(
        q, ACTIONS, REWARDS, q_values_target=target).loss)
  assert tape.gradient(total, target) is None


def test_errors_name_the_argument():
  with pytest.raises(ValueError, match="q_values"):
    qlearning.get_elementwise_objective(Q[..., 0], ACTIONS, REWARDS)
  with pytest.raises(ValueError, match="actions"):
    qlearning.get_elementwise_objective(Q, ACTIONS[:2], REWARDS)
  with pytest.raises(ValueError, match="actions"):
    qlearning.get_elementwise_objective(Q, ACTIONS.astype(np.float32), REWARDS)
  with pytest.raises(ValueError, match="rewards"):
    qlearning.get_elementwise_objective(Q, ACTIONS, REWARDS[:, :, None])
  with pytest.raises(ValueError, match="q_values_target"):
    qlearning.get_elementwise_objective(Q, ACTIONS, REWARDS, q_values_target=Q[:, :, :1])
  with pytest.raises(ValueError, match="is_alive"):
    qlearning.get_elementwise_objective(Q, ACTIONS, REWARDS, is_alive=REWARDS[:2])
  with pytest.raises(ValueError, match="huber_delta"):
    qlearning.get_elementwise_objective(Q, ACTIONS, REWARDS, loss_function="huber",
                                        huber_delta=0.0)
