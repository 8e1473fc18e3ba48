"""Deterministic policy gradient losses (Silver et al. 2014; DDPG, Lillicrap
et al. 2016; D4PG's n-step critic, Barth-Maron et al. 2018).

Pure functions on time-major tensors:

  dpg_loss(actions, dq_da)   a loss whose gradient with respect to the
                             actions is -dQ/da: minimising it moves the
                             policy's actions up the critic;
  critic_targets(...)        n-step targets from the target critic's
                             values of the next states;
  critic_loss(q, targets)    0.5 (target - Q)^2, masked.
"""

from typing import Optional

import tensorflow as tf

from ftw.tf.losses import _checks
from ftw.tf.losses import returns as returns_lib


def dpg_loss(actions: tf.Tensor, dq_da: tf.Tensor,
             dqda_clipping: Optional[float] = None) -> tf.Tensor:
  """[T, B] loss 0.5 ||stop_gradient(a + dQ/da) - a||^2.

  Its gradient with respect to `actions` is -dQ/da (clipped to
  +-dqda_clipping), so the chain rule through a = mu(s) gives the
  deterministic policy gradient -dQ/da * dmu/dtheta.

  Args:
    actions: [T, B, A] the policy's actions mu(s_t) (differentiable).
    dq_da: [T, B, A] gradient of the critic at those actions.
    dqda_clipping: optional bound > 0 of |dQ/da|.
  """
  actions = _checks.to_float(actions, "actions")
  _checks.check_rank(actions, 3, "actions", "[T, B, A]")
  dq_da = _checks.to_float(dq_da, "dq_da", actions.dtype)
  _checks.check_same_shape(actions, "actions", dq_da, "dq_da")
  if dqda_clipping is not None:
    if not dqda_clipping > 0:
      raise ValueError(f"`dqda_clipping` must be > 0 or None, got "
                       f"{dqda_clipping!r}.")
    dq_da = tf.clip_by_value(dq_da, -dqda_clipping, dqda_clipping)
  target = tf.stop_gradient(actions + dq_da)
  return 0.5 * tf.reduce_sum(tf.square(target - actions), axis=-1)


def critic_targets(next_values: tf.Tensor, rewards: tf.Tensor,
                   discounts: tf.Tensor, n_step: int) -> tf.Tensor:
  """[T, B] n-step targets (truncated at the sequence end), stop-gradient.

  Args:
    next_values: [T, B] target Q(s_{t+1}, mu_target(s_{t+1})).
    rewards: [T, B] r_{t+1}.
    discounts: [T, B] gamma * d_{t+1} (0 after a termination, gamma after a
      time-limit truncation: the value of the last state is bootstrapped).
    n_step: steps before bootstrapping.
  """
  next_values = _checks.to_float(next_values, "next_values")
  _checks.check_rank(next_values, 2, "next_values", "[T, B]")
  return returns_lib.n_step_bootstrapped_returns(rewards, discounts,
                                                 next_values, n_step)


def critic_loss(q_values: tf.Tensor, targets: tf.Tensor,
                mask: Optional[tf.Tensor] = None) -> tf.Tensor:
  """[T, B] 0.5 (target - Q)^2 times mask (1 on real transitions)."""
  q_values = _checks.to_float(q_values, "q_values")
  _checks.check_rank(q_values, 2, "q_values", "[T, B]")
  targets = _checks.to_float(targets, "targets", q_values.dtype)
  _checks.check_same_shape(q_values, "q_values", targets, "targets")
  loss = 0.5 * tf.square(tf.stop_gradient(targets) - q_values)
  if mask is None:
    return loss
  mask = _checks.to_float(mask, "mask", q_values.dtype)
  _checks.check_same_shape(q_values, "q_values", mask, "mask")
  return loss * mask
