"""Tests of ftw.tf.losses.sarsa: n-step SARSA, AgentNet style."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import sarsa

Q = np.array([[[1., 2.]], [[3., 5.]], [[4., 0.]]], np.float32)      # [T=3, B=1, A=2]
Q_TARGET = np.array([[[0., 0.]], [[7., -1.]], [[2., 9.]]], np.float32)
ACTIONS = np.array([[0], [0], [1]], np.int32)                        # Q taken: 1, 3, 0
REWARDS = np.ones((3, 1), np.float32)


@pytest.mark.parametrize("kwargs,targets,loss", [
    (dict(), [2.5, 1.0], [1.125, 2.0]),              # bootstrap Q(x_{t+1}, a_{t+1})
    (dict(n_steps=2), [1.5, 1.0], [0.125, 2.0]),     # 1 + .5 * 1 + .25 * 0
    (dict(n_steps=None), [1.5, 1.0], [0.125, 2.0]),
    (dict(q_values_target=Q_TARGET), [4.5, 5.5], [6.125, 3.125]),
    (dict(is_alive=[[1.], [1.], [0.]]), [2.5, 1.0], [1.125, 2.0]),
    (dict(is_alive=[[1.], [0.], [0.]]), [1.0, 1.0], [0.0, 0.0]),      # tick 1 dead: no loss
    (dict(loss_function="huber", huber_delta=1.0), [2.5, 1.0], [1.0, 1.5]),
])
def test_hand_computed(kwargs, targets, loss):
  out = sarsa.get_elementwise_objective(Q, ACTIONS, REWARDS, gamma_or_gammas=0.5, **kwargs)
  np.testing.assert_allclose(out.targets.numpy()[:2, 0], targets, rtol=1e-6)
  np.testing.assert_allclose(out.loss.numpy()[:, 0], loss + [0.0], rtol=1e-6)


def test_random_against_numpy():
  rng = np.random.default_rng(0)
  T, B, A = 5, 2, 3
  q = rng.normal(size=(T, B, A)).astype(np.float32)
  actions = rng.integers(0, A, size=(T, B)).astype(np.int32)
  rewards = rng.normal(size=(T, B)).astype(np.float32)
  gamma = rng.uniform(0.5, 1.0, size=(T, B)).astype(np.float32)
  out = sarsa.get_elementwise_objective(q, actions, rewards, n_steps=2, gamma_or_gammas=gamma)
  q_taken = np.take_along_axis(q, actions[..., None], -1)[..., 0]
  expected = np.zeros((T - 1, B))
  for t in range(T - 1):
    if t + 2 <= T - 1:
      expected[t] = (rewards[t] + gamma[t] * rewards[t + 1]
                     + gamma[t] * gamma[t + 1] * q_taken[t + 2])
    else:  # Truncated at the sequence end: bootstrap from the last tick.
      expected[t] = rewards[t] + gamma[t] * q_taken[t + 1]
  np.testing.assert_allclose(out.targets.numpy()[:-1], expected, rtol=1e-5)


def test_gradient_only_to_taken_actions_before_last_tick():
  q = tf.Variable(Q)
  with tf.GradientTape() as tape:
    out = sarsa.get_elementwise_objective(q, ACTIONS, REWARDS, gamma_or_gammas=0.5)
    total = tf.reduce_sum(out.loss)
  expected = np.zeros_like(Q)
  expected[0, 0, 0] = 1.0 - 2.5
  expected[1, 0, 0] = 3.0 - 1.0
  np.testing.assert_allclose(tape.gradient(total, q).numpy(), expected, rtol=1e-6)


def test_errors_name_the_argument():
  with pytest.raises(ValueError, match="q_values"):
    sarsa.get_elementwise_objective(Q[0], ACTIONS, REWARDS)
  with pytest.raises(ValueError, match="actions"):
    sarsa.get_elementwise_objective(Q, ACTIONS[:, 0], REWARDS)
  with pytest.raises(ValueError, match="rewards"):
    sarsa.get_elementwise_objective(Q, ACTIONS, REWARDS[:1])
  with pytest.raises(ValueError, match="gamma_or_gammas"):
    sarsa.get_elementwise_objective(Q, ACTIONS, REWARDS, gamma_or_gammas=np.ones((2, 1)))
  with pytest.raises(ValueError, match="rewards"):  # cropping needs T >= 2
    sarsa.get_elementwise_objective(Q[:1], ACTIONS[:1], REWARDS[:1])
