"""DPG's losses: the policy gradient on a known quadratic critic, n-step
critic targets by hand, the networks' action scaling, and errors."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from agents.dpg import losses
from agents.dpg.networks import DPGNetworks


def test_actor_gradient_climbs_a_quadratic_critic():
  # Linear policy a = W s + b; critic Q(s, a) = -||a - c||^2, best at c.
  rng = np.random.default_rng(0)
  states = tf.constant(rng.normal(size=(3, 4, 2)), tf.float32)  # [T, B, O]
  w = tf.Variable(rng.normal(size=(2, 2)), dtype=tf.float32)
  b = tf.Variable([0.5, -0.5])
  c = tf.constant([1.0, 2.0])

  def act():
    return tf.einsum("tbo,oa->tba", states, w) + b

  actions = act()
  with tf.GradientTape() as q_tape:
    q_tape.watch(actions)
    q = -tf.reduce_sum(tf.square(actions - c), -1)
  dq_da = q_tape.gradient(q, actions)
  np.testing.assert_allclose(dq_da.numpy(), -2 * (actions - c).numpy(),
                             rtol=1e-6)
  with tf.GradientTape() as tape:
    loss = tf.reduce_mean(losses.dpg_loss(act(), dq_da))
  grad_w, grad_b = tape.gradient(loss, [w, b])
  # dLoss/da = -dQ/da = 2 (a - c), averaged over the T x B steps.
  expected_b = np.mean(2 * (actions - c).numpy(), axis=(0, 1))
  np.testing.assert_allclose(grad_b.numpy(), expected_b, rtol=1e-5)
  expected_w = np.einsum("tbo,tba->oa", states.numpy(),
                         2 * (actions - c).numpy()) / 12
  np.testing.assert_allclose(grad_w.numpy(), expected_w, rtol=1e-4)
  # A small step against the gradient moves every action towards c.
  before = np.linalg.norm(actions.numpy() - c.numpy(), axis=-1)
  w.assign_sub(0.01 * grad_w)
  b.assign_sub(0.01 * grad_b)
  after = np.linalg.norm(act().numpy() - c.numpy(), axis=-1)
  assert np.mean(after) < np.mean(before)


def test_dqda_clipping_bounds_the_gradient():
  actions = tf.Variable(tf.zeros([1, 2, 1]))
  dq_da = tf.constant([[[5.0], [-0.5]]])
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(losses.dpg_loss(actions, dq_da, dqda_clipping=1.0))
  np.testing.assert_allclose(tape.gradient(loss, actions).numpy()[0, :, 0],
                             [-1.0, 0.5])


def test_n_step_critic_targets_by_hand():
  next_values = tf.constant([[10.0], [20.0], [30.0]])
  rewards = tf.constant([[1.0], [2.0], [3.0]])
  discounts = tf.constant([[0.9], [0.0], [0.9]])  # Terminal after step 1.
  targets = losses.critic_targets(next_values, rewards, discounts, n_step=2)
  # G_0 = 1 + .9 * 2 + .9 * 0 * V = 2.8; G_1 = 2; G_2 = 3 + .9 * 30.
  np.testing.assert_allclose(targets.numpy()[:, 0], [2.8, 2.0, 30.0])
  loss = losses.critic_loss(tf.constant([[2.0], [0.0], [30.0]]), targets,
                            mask=tf.constant([[1.0], [1.0], [0.0]]))
  np.testing.assert_allclose(loss.numpy()[:, 0], [0.5 * 0.8 ** 2, 2.0, 0.0],
                             rtol=1e-5)


def test_networks_scale_actions_to_the_bounds():
  networks = DPGNetworks([-2.0], [2.0], (8,), (8,), exploration_sigma=0.3)
  np.testing.assert_allclose(
      networks.to_env(tf.constant([[-1.0], [0.0], [1.0]])).numpy()[:, 0],
      [-2, 0, 2])
  np.testing.assert_allclose(
      networks.from_env(tf.constant([[-2.0], [1.0]])).numpy()[:, 0],
      [-1, 0.5])
  params = networks.policy(tf.zeros([5, 7, 3]))
  assert params.loc.shape == (5, 7, 1)
  assert np.all(np.abs(params.loc.numpy()) <= 1)
  np.testing.assert_allclose(params.scale.numpy(), 0.3)
  assert networks.critic(tf.zeros([5, 7, 3]), params.loc).shape == (5, 7)
  with pytest.raises(ValueError, match="bounds"):
    DPGNetworks([-np.inf], [2.0], (8,), (8,), 0.3)


@pytest.mark.parametrize("call, name", [
    (lambda: losses.dpg_loss(tf.zeros([2, 3]), tf.zeros([2, 3])), "actions"),
    (lambda: losses.dpg_loss(tf.zeros([2, 3, 1]), tf.zeros([2, 3, 2])),
     "dq_da"),
    (lambda: losses.dpg_loss(tf.zeros([1, 1, 1]), tf.zeros([1, 1, 1]), 0.0),
     "dqda_clipping"),
    (lambda: losses.critic_loss(tf.zeros([2, 3]), tf.zeros([2, 2])),
     "targets"),
    (lambda: losses.critic_targets(tf.zeros([2]), tf.zeros([2]),
                                   tf.zeros([2]), 1), "next_values"),
])
def test_bad_inputs_name_the_argument(call, name):
  with pytest.raises(ValueError, match=name):
    call()
