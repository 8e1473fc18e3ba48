"""R2D2's loss: n-step (double) Q-learning or SARSA on sequences, with value
rescaling and sequence priorities (Kapturowski et al. 2019).

Pure functions on time-major tensors. A sequence of T steps (after burn-in)
holds, at step t, Q(x_t, .), the action a_t, the reward r_{t+1} and the
discount gamma * d_{t+1} that followed it, and mask_t (1 on real
transitions, 0 on the final observation and padding). Steps 0..T-2 are
trained; step T-1 only bootstraps. Targets bootstrap from the state after
each step, n steps on (fewer near the end of the sequence):

    G_t = h( r_{t+1} + g_{t+1} r_{t+2} + ... + g_{t+1}..g_{t+n} h^-1(v_{t+n}) )

with v = max_a Q_target (plain), Q_target(argmax_a Q_online) (double Q) or
Q_target at the taken action (SARSA); h is R2D2's value rescaling
(`signed_hyperbolic`) or the identity.
"""

from typing import NamedTuple, Optional

import tensorflow as tf

from ftw.tf.losses import _checks
from ftw.tf.losses import _td
from ftw.tf.losses import returns as returns_lib


def signed_hyperbolic(x: tf.Tensor, epsilon: float = 1e-3) -> tf.Tensor:
  """R2D2's h(x) = sign(x) (sqrt(|x| + 1) - 1) + epsilon x."""
  return tf.sign(x) * (tf.sqrt(tf.abs(x) + 1.0) - 1.0) + epsilon * x


def signed_parabolic(x: tf.Tensor, epsilon: float = 1e-3) -> tf.Tensor:
  """h^-1 of `signed_hyperbolic` (same epsilon)."""
  z = (tf.sqrt(1.0 + 4.0 * epsilon * (tf.abs(x) + 1.0 + epsilon)) - 1.0) / (
      2.0 * epsilon)
  return tf.sign(x) * (tf.square(z) - 1.0)


def n_step_targets(bootstrap_values: tf.Tensor, rewards: tf.Tensor,
                   discounts: tf.Tensor, n_step: int,
                   value_rescaling: bool = False,
                   rescaling_epsilon: float = 1e-3) -> tf.Tensor:
  """Truncated n-step targets [T, B] from values of the next states.

  Args:
    bootstrap_values: [T, B] v_{t+1}, the (rescaled) value of the state after
      step t.
    rewards: [T, B] r_{t+1}.
    discounts: [T, B] gamma * d_{t+1} (0 after a termination).
    n_step: steps before bootstrapping, >= 1.
    value_rescaling: values are h(Q): unrescale before adding rewards, and
      rescale the return.
    rescaling_epsilon: epsilon of h.
  """
  values = _checks.to_float(bootstrap_values, "bootstrap_values")
  _checks.check_rank(values, 2, "bootstrap_values", "[T, B]")
  if value_rescaling:
    values = signed_parabolic(values, rescaling_epsilon)
  targets = returns_lib.n_step_bootstrapped_returns(rewards, discounts, values,
                                                    n_step)
  if value_rescaling:
    targets = signed_hyperbolic(targets, rescaling_epsilon)
  return tf.stop_gradient(targets)


class R2D2LossOutput(NamedTuple):
  """loss [B] per sequence (masked mean over time); td_errors, targets and
  action_values [T-1, B]; priorities [B]."""
  loss: tf.Tensor
  td_errors: tf.Tensor
  targets: tf.Tensor
  action_values: tf.Tensor
  priorities: tf.Tensor


def sequence_priorities(td_errors: tf.Tensor, mask: tf.Tensor,
                        eta: float = 0.9) -> tf.Tensor:
  """[B] priorities eta * max_t |td| + (1 - eta) * mean_t |td| (masked)."""
  td_errors = _checks.to_float(td_errors, "td_errors")
  _checks.check_rank(td_errors, 2, "td_errors", "[T, B]")
  mask = _checks.to_float(mask, "mask", td_errors.dtype)
  _checks.check_same_shape(td_errors, "td_errors", mask, "mask")
  if not 0.0 <= eta <= 1.0:
    raise ValueError(f"`eta` must be in [0, 1], got {eta!r}.")
  abs_td = tf.abs(td_errors) * mask
  mean = tf.reduce_sum(abs_td, 0) / tf.maximum(tf.reduce_sum(mask, 0), 1.0)
  return eta * tf.reduce_max(abs_td, 0) + (1.0 - eta) * mean


def r2d2_loss(q_values: tf.Tensor,
              target_q_values: tf.Tensor,
              actions: tf.Tensor,
              rewards: tf.Tensor,
              discounts: tf.Tensor,
              mask: Optional[tf.Tensor] = None,
              n_step: int = 5,
              td_target: str = "qlearning",
              double_q: bool = True,
              value_rescaling: bool = True,
              rescaling_epsilon: float = 1e-3,
              loss_function: str = "squared",
              priority_eta: float = 0.9) -> R2D2LossOutput:
  """Sequence TD loss of R2D2.

  Args:
    q_values: [T, B, A] online Q(x_t, .) (differentiable).
    target_q_values: [T, B, A] target network's Q(x_t, .).
    actions: [T, B] int actions a_t.
    rewards: [T, B] r_{t+1}.
    discounts: [T, B] gamma * d_{t+1}.
    mask: [T, B] 1 on real transitions (None: all).
    n_step: steps before bootstrapping.
    td_target: 'qlearning' or 'sarsa' (bootstrap on the next taken action).
    double_q: Q-learning: pick the bootstrap action with `q_values`.
    value_rescaling: Q-values estimate h(return) (see `n_step_targets`).
    rescaling_epsilon: epsilon of h.
    loss_function: 'squared' or 'huber'.
    priority_eta: mix of max and mean |td| in the priorities.

  Returns:
    R2D2LossOutput; gradient reaches Q(x_t, a_t) of trained steps only.

  Raises:
    ValueError: on a wrong rank, shape or option (naming the argument).
  """
  if target_q_values is None:
    raise ValueError("`target_q_values` must be given.")
  q_values, actions, rewards, _ = _td.check_q_inputs(q_values, actions,
                                                     rewards, None)
  target_q_values = _checks.to_float(target_q_values, "target_q_values",
                                     q_values.dtype)
  _checks.check_same_shape(q_values, "q_values", target_q_values,
                           "target_q_values")
  _checks.check_same_shape(rewards, "rewards",
                           _checks.to_float(discounts, "discounts"),
                           "discounts")
  if q_values.shape[0] is not None and q_values.shape[0] < 2:
    raise ValueError(f"`q_values` needs T >= 2, got shape {q_values.shape}.")
  if td_target not in ("qlearning", "sarsa"):
    raise ValueError(f"`td_target` must be 'qlearning' or 'sarsa', got "
                     f"{td_target!r}.")
  mask = _td.alive_mask(mask, rewards)
  discounts = _checks.to_float(discounts, "discounts", q_values.dtype)
  target_q_values = tf.stop_gradient(target_q_values)
  next_target = target_q_values[1:]
  if td_target == "sarsa":
    values = _td.select(next_target, actions[1:])
  elif double_q:
    best = tf.argmax(tf.stop_gradient(q_values[1:]), -1, output_type=tf.int32)
    values = _td.select(next_target, best)
  else:
    values = tf.reduce_max(next_target, -1)
  targets = n_step_targets(values, rewards[:-1], discounts[:-1], n_step,
                           value_rescaling, rescaling_epsilon)
  action_values = _td.select(q_values[:-1], actions[:-1])
  mask = mask[:-1]
  td_errors = (targets - action_values) * mask
  per_step = _td.elementwise_loss(targets, action_values, loss_function) * mask
  loss = tf.reduce_sum(per_step, 0) / tf.maximum(tf.reduce_sum(mask, 0), 1.0)
  priorities = sequence_priorities(tf.stop_gradient(td_errors), mask,
                                   priority_eta)
  return R2D2LossOutput(loss=loss, td_errors=tf.stop_gradient(td_errors),
                        targets=targets, action_values=action_values,
                        priorities=priorities)
