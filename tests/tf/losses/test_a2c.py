"""Tests of ftw.tf.losses.a2c: AgentNet-style actor-critic on [T, B] inputs."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import a2c

LOG_HALF = np.log(0.5)


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


def np_targets(rewards, gamma, alive, values, n, after_end=None):
  """AgentNet conventions in numpy: returns (targets, mask)."""
  if after_end is None:
    g = np_n_step_sum(rewards[:-1], gamma[:-1] * alive[1:], values[1:], n)
    mask = alive * np.r_[np.ones(len(rewards) - 1), 0.0][:, None]
    return np.concatenate([g, values[-1:]], 0), mask
  next_alive = np.concatenate([alive[1:], alive[-1:]], 0)
  next_values = np.concatenate([values[1:], after_end[None]], 0)
  return np_n_step_sum(rewards, gamma * next_alive, next_values, n), alive


def test_hand_computed_episode_end_and_crop():
  values = np.array([[10.], [20.], [30.], [40.]], np.float32)
  out = a2c.get_elementwise_objective(
      np.zeros((4, 1, 2), np.float32), values, np.zeros((4, 1), np.int32),
      rewards=[[1.], [2.], [3.], [4.]], is_alive=[[1.], [1.], [0.], [0.]],
      n_steps=2, gamma_or_gammas=0.5, return_separate=True)
  # Targets: G_0 = 1 + 0.5 * (2 + 0) = 2, G_1 = 2 (episode ends after tick 1).
  np.testing.assert_allclose(out.critic_loss.numpy()[:, 0], [32.0, 162.0, 0.0, 0.0])
  np.testing.assert_allclose(out.actor_loss.numpy()[:, 0],
                             [LOG_HALF * 8.0, LOG_HALF * 18.0, 0.0, 0.0], rtol=1e-6)
  total = a2c.get_elementwise_objective(
      np.zeros((4, 1, 2), np.float32), values, np.zeros((4, 1), np.int32),
      rewards=[[1.], [2.], [3.], [4.]], is_alive=[[1.], [1.], [0.], [0.]],
      n_steps=2, gamma_or_gammas=0.5)
  np.testing.assert_allclose(total.numpy(), (out.actor_loss + out.critic_loss).numpy())


def test_hand_computed_bootstrap_after_end():
  out = a2c.get_elementwise_objective(
      np.zeros((2, 1, 2), np.float32), [[10.], [20.]], np.zeros((2, 1), np.int32),
      rewards=[[1.], [2.]], n_steps=None, gamma_or_gammas=0.5,
      state_values_after_end=[30.], return_separate=True)
  # G_1 = 2 + 0.5 * 30 = 17, G_0 = 1 + 0.5 * 17 = 9.5.
  np.testing.assert_allclose(out.critic_loss.numpy()[:, 0], [0.125, 4.5])
  np.testing.assert_allclose(out.actor_loss.numpy()[:, 0], [-LOG_HALF * -0.5, -LOG_HALF * -3.0],
                             rtol=1e-6)


@pytest.mark.parametrize("n,n_adv,after_end", [(1, "same", False), (3, "same", True),
                                                 (None, 2, False), (2, None, True)])
def test_random_against_numpy(n, n_adv, after_end):
  rng = np.random.default_rng(0)
  T, B, A = 6, 3, 4
  logits = rng.normal(size=(T, B, A)).astype(np.float32)
  values = rng.normal(size=(T, B)).astype(np.float32)
  target_values = rng.normal(size=(T, B)).astype(np.float32)
  actions = rng.integers(0, A, size=(T, B)).astype(np.int32)
  rewards = rng.normal(size=(T, B)).astype(np.float32)
  alive = np.ones((T, B), np.float32)
  alive[4:, 0] = 0.0
  alive[2:, 1] = 0.0
  gamma = rng.uniform(0.8, 1.0, size=(T, B)).astype(np.float32)
  end = rng.normal(size=(B,)).astype(np.float32) if after_end else None
  end_target = rng.normal(size=(B,)).astype(np.float32) if after_end else None
  out = a2c.get_elementwise_objective(
      logits, values, actions, rewards, is_alive=alive, state_values_target=target_values,
      n_steps=n, n_steps_advantage=n_adv, gamma_or_gammas=gamma,
      state_values_after_end=end, state_values_target_after_end=end_target,
      return_separate=True, loss_function="huber", huber_delta=0.5)
  critic_t, mask = np_targets(rewards, gamma, alive, target_values, n, end_target)
  td = np.abs(critic_t - values)
  huber = np.where(td <= 0.5, 0.5 * td ** 2, 0.5 * (td - 0.25))
  np.testing.assert_allclose(out.critic_loss.numpy(), huber * mask, rtol=1e-5, atol=1e-6)
  adv_t, _ = np_targets(rewards, gamma, alive, values, n if n_adv == "same" else n_adv, end)
  logp = logits - logits.max(-1, keepdims=True)
  logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
  logp = np.take_along_axis(logp, actions[..., None], -1)[..., 0]
  np.testing.assert_allclose(out.actor_loss.numpy(), -logp * (adv_t - values) * mask,
                             rtol=1e-5, atol=1e-6)


def test_log_policy_input_matches_logits():
  rng = np.random.default_rng(1)
  logits = rng.normal(size=(3, 2, 3)).astype(np.float32)
  log_policy = tf.nn.log_softmax(logits)
  actions = rng.integers(0, 3, size=(3, 2)).astype(np.int32)
  kwargs = dict(state_values=rng.normal(size=(3, 2)).astype(np.float32), actions=actions,
                rewards=rng.normal(size=(3, 2)).astype(np.float32))
  expected = a2c.get_elementwise_objective(logits, **kwargs).numpy()
  got = a2c.get_elementwise_objective(log_policy, treat_policy_as_logpolicy=True, **kwargs)
  np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
  taken = tf.gather(log_policy, actions, axis=-1, batch_dims=2)
  got = a2c.get_elementwise_objective(taken, treat_policy_as_logpolicy=True, **kwargs)
  np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)


def test_entropy_loss():
  logits = np.zeros((2, 1, 4), np.float32)
  np.testing.assert_allclose(a2c.entropy_loss(logits).numpy(), -np.log(4.0) * np.ones((2, 1)),
                             rtol=1e-6)
  p = np.array([0.7, 0.2, 0.1])
  multi = [np.log(p)[None, None].astype(np.float32), np.zeros((1, 1, 2), np.float32)]
  expected = (p * np.log(p)).sum() - np.log(2.0)
  np.testing.assert_allclose(a2c.entropy_loss(multi).numpy(), [[expected]], rtol=1e-5)
  with pytest.raises(ValueError, match="logits"):
    a2c.entropy_loss(np.zeros((2, 4), np.float32))


def test_a2c_loss_terms_and_gradients():
  rng = np.random.default_rng(2)
  T, B, A = 4, 2, 3
  logits = tf.Variable(rng.normal(size=(T, B, A)).astype(np.float32))
  values = tf.Variable(rng.normal(size=(T, B)).astype(np.float32))
  actions = rng.integers(0, A, size=(T, B)).astype(np.int32)
  rewards = rng.normal(size=(T, B)).astype(np.float32)
  alive = np.ones((T, B), np.float32)
  alive[3, 1] = 0.0
  with tf.GradientTape(persistent=True) as tape:
    out = a2c.a2c_loss(logits, values, actions, rewards, is_alive=alive, n_steps=2,
                       discount=0.9, critic_cost=0.5, entropy_cost=0.1)
    policy, critic, entropy = [tf.reduce_sum(x) for x in out[1:]]
  np.testing.assert_allclose(out.total.numpy(),
                             (out.policy + 0.5 * out.critic + 0.1 * out.entropy).numpy(),
                             rtol=1e-6)
  np.testing.assert_allclose(out.entropy.numpy()[-1], 0.0)   # cropped last tick
  np.testing.assert_allclose(out.entropy.numpy()[:-1], a2c.entropy_loss(logits).numpy()[:-1])
  targets, mask = np_targets(rewards, np.full_like(rewards, 0.9), alive, values.numpy(), 2)
  np.testing.assert_allclose(tape.gradient(critic, values).numpy(),
                             (values.numpy() - targets) * mask, rtol=1e-5, atol=1e-6)
  assert tape.gradient(policy, values) is None
  assert tape.gradient(critic, logits) is None
  grad = tape.gradient(policy, logits).numpy()
  assert np.abs(grad[:-1]).sum() > 0 and np.all(grad[-1] == 0)


def test_errors_name_the_argument():
  logits = np.zeros((3, 2, 2), np.float32)
  values = np.zeros((3, 2), np.float32)
  actions = np.zeros((3, 2), np.int32)
  with pytest.raises(ValueError, match="state_values"):
    a2c.get_elementwise_objective(logits, values[..., None], actions, values)
  with pytest.raises(ValueError, match="rewards"):
    a2c.get_elementwise_objective(logits, values, actions, values[:2])
  with pytest.raises(ValueError, match="is_alive"):
    a2c.get_elementwise_objective(logits, values, actions, values, is_alive=values[:, :1])
  with pytest.raises(ValueError, match="gamma_or_gammas"):
    a2c.get_elementwise_objective(logits, values, actions, values, gamma_or_gammas=[0.9, 0.9, 0.9])
  with pytest.raises(ValueError, match="actions"):
    a2c.get_elementwise_objective(logits, values, actions[:2], values)
  with pytest.raises(ValueError, match="actions"):
    a2c.get_elementwise_objective(logits, values, values, values)
  with pytest.raises(ValueError, match="state_values_after_end"):
    a2c.get_elementwise_objective(logits, values, actions, values,
                                  state_values_after_end=np.zeros(3, np.float32))
  with pytest.raises(ValueError, match="state_values_target_after_end"):
    a2c.get_elementwise_objective(logits, values, actions, values,
                                  state_values_target_after_end=np.zeros(2, np.float32))
  with pytest.raises(ValueError, match="loss_function"):
    a2c.get_elementwise_objective(logits, values, actions, values, loss_function="l3")
