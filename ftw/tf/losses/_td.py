"""Shared pieces of the AgentNet-style TD losses (A2C, Q-learning, SARSA).

Conventions (time-major versions of AgentNet's `get_elementwise_objective`):

* `is_alive[t]` is 1 while the episode is running at tick t and 0 after it
  ended. The discount after tick t is `gamma_t * is_alive[t+1]`, so the last
  alive tick of an episode gets the target `r_t` with no bootstrap, and dead
  ticks get no loss (the elementwise loss is multiplied by `is_alive`).
* Without a value for the state after the last tick (AgentNet's
  `crop_last=True`), tick T-1 only provides the bootstrap value for the
  earlier ticks and its loss is 0.
"""

from typing import Callable, Optional, Tuple, Union

import tensorflow as tf

from ftw.tf.losses import _checks
from ftw.tf.losses import returns as returns_lib

LossFunction = Union[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]


def check_q_inputs(q_values, actions, rewards, q_values_target
                   ) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
  """Converts and checks Q-learning / SARSA inputs at entry.

  Returns (q_values [T, B, A], actions int [T, B], rewards [T, B],
  q_values_target [T, B, A], which is q_values when None was given).
  """
  q_values = _checks.to_float(q_values, "q_values")
  _checks.check_rank(q_values, 3, "q_values", "[T, B, A]")
  lead = q_values.shape[:2].as_list() if q_values.shape.rank else [None, None]
  actions = _checks.to_int(actions, "actions")
  _checks.check_shape(actions, lead, "actions", "[T, B] matching `q_values`")
  rewards = _checks.to_float(rewards, "rewards", q_values.dtype)
  _checks.check_shape(rewards, lead, "rewards", "[T, B] matching `q_values`")
  if q_values_target is None:
    return q_values, actions, rewards, q_values
  q_values_target = _checks.to_float(q_values_target, "q_values_target",
                                     q_values.dtype)
  _checks.check_same_shape(q_values, "q_values", q_values_target,
                           "q_values_target")
  return q_values, actions, rewards, q_values_target


def elementwise_loss(targets: tf.Tensor, predictions: tf.Tensor,
                     loss_function: LossFunction, huber_delta: float = 1.0) -> tf.Tensor:
  """Per-element regression loss of `predictions` towards `targets`.

  Args:
    targets: target values (already stop-gradient).
    predictions: learned values, same shape.
    loss_function: "squared" for 0.5 * (target - prediction)^2, "huber" for
      the Huber loss with threshold `huber_delta` (0.5 x^2 inside, linear
      outside), or a callable `f(targets, predictions)` as in AgentNet
      (e.g. `lambda t, p: (t - p) ** 2` for lasagne's squared_error).
    huber_delta: threshold of the Huber loss.

  Returns:
    Elementwise loss, the shape of `targets`.
  """
  if callable(loss_function):
    return loss_function(targets, predictions)
  td = targets - predictions
  if loss_function == "squared":
    return 0.5 * tf.square(td)
  if loss_function == "huber":
    if not huber_delta > 0:
      raise ValueError(f"`huber_delta` must be positive, got {huber_delta!r}.")
    abs_td = tf.abs(td)
    quadratic = tf.minimum(abs_td, huber_delta)
    return 0.5 * tf.square(quadratic) + huber_delta * (abs_td - quadratic)
  raise ValueError("`loss_function` must be 'squared', 'huber' or a callable, "
                   f"got {loss_function!r}.")


def alive_mask(is_alive, rewards: tf.Tensor) -> tf.Tensor:
  """[T, B] float mask from `is_alive` (None means always alive)."""
  if is_alive is None:
    return tf.ones_like(rewards)
  is_alive = _checks.to_float(is_alive, "is_alive", rewards.dtype)
  _checks.check_same_shape(rewards, "rewards", is_alive, "is_alive")
  return is_alive


def gammas(gamma_or_gammas, rewards: tf.Tensor) -> tf.Tensor:
  """Broadcasts a scalar or [T, B] (or e.g. [T, 1]) discount to `rewards`."""
  gamma = _checks.to_float(gamma_or_gammas, "gamma_or_gammas", rewards.dtype)
  try:
    fits = tf.broadcast_static_shape(gamma.shape, rewards.shape) == rewards.shape
  except ValueError:
    fits = False
  if gamma.shape.rank is not None and (gamma.shape.rank > 2 or not fits):
    raise ValueError("`gamma_or_gammas` must be a scalar or broadcast to [T, B] "
                     f"{rewards.shape}, got shape {gamma.shape}.")
  return tf.broadcast_to(gamma, tf.shape(rewards))


def sequence_targets(rewards: tf.Tensor, discounts: tf.Tensor, is_alive: tf.Tensor,
                     state_values: tf.Tensor, value_after_end: Optional[tf.Tensor],
                     n_steps: Optional[int],
                     after_end_name: str = "state_values_after_end"
                     ) -> Tuple[tf.Tensor, tf.Tensor]:
  """n-step targets (lambda = 1) and the loss mask for a [T, B] sequence.

  Args:
    rewards: [T, B] rewards.
    discounts: [T, B] gammas (before episode-end masking).
    is_alive: [T, B] float alive indicator.
    state_values: [T, B] bootstrap state values V(x_t) (no gradient needed).
    value_after_end: [B] V(x_T), or None to crop the last tick.
    n_steps: steps before bootstrapping, None for the whole sequence.
    after_end_name: argument name of `value_after_end` for error messages.

  Returns:
    (targets [T, B] stop-gradient, mask [T, B]). When cropping, the target
    of the last tick is its own state value and its mask is 0.
  """
  state_values = tf.stop_gradient(state_values)
  if value_after_end is None:
    if rewards.shape[0] is not None and rewards.shape[0] < 2:
      raise ValueError("`rewards` needs T >= 2 when the last tick is cropped "
                       f"(no value after the end given), got shape {rewards.shape}.")
    targets = returns_lib.n_step_bootstrapped_returns(
        rewards[:-1], discounts[:-1] * is_alive[1:], state_values[1:], n_steps)
    targets = tf.concat([targets, state_values[-1:]], axis=0)
    not_last = tf.concat([tf.ones_like(rewards[:-1]), tf.zeros_like(rewards[-1:])], 0)
    return targets, is_alive * not_last
  value_after_end = tf.stop_gradient(
      _checks.to_float(value_after_end, after_end_name, rewards.dtype))
  batch = rewards.shape[1] if rewards.shape.rank else None
  _checks.check_shape(value_after_end, [batch], after_end_name, "[B]")
  # The state after the last tick is alive if the last tick is.
  next_alive = tf.concat([is_alive[1:], is_alive[-1:]], axis=0)
  next_values = tf.concat([state_values[1:], value_after_end[None]], axis=0)
  targets = returns_lib.n_step_bootstrapped_returns(
      rewards, discounts * next_alive, next_values, n_steps)
  return targets, is_alive


def select(values: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
  """values[t, b, actions[t, b]] for [T, B, A] values and [T, B] actions."""
  return tf.gather(values, actions, axis=-1, batch_dims=2)
