"""Truncated n-step lambda-returns on time-major sequences.

The shared target computation behind the A2C, Q-learning, SARSA and pixel
control losses (Sutton & Barto 2018, ch. 7 and 12; Mnih et al. 2016 for the
n-step actor-critic use).
"""

from typing import Optional, Union

import tensorflow as tf

from ftw.tf.losses import _checks

Lambda = Union[float, tf.Tensor]


def n_step_bootstrapped_returns(rewards: tf.Tensor,
                                discounts: tf.Tensor,
                                bootstrap_values: tf.Tensor,
                                n: Optional[int],
                                lambda_: Lambda = 1.0,
                                stop_target_gradients: bool = True) -> tf.Tensor:
  """Computes n-step bootstrapped lambda-returns for every step of a sequence.

  With `v_t = bootstrap_values[t]`, the value of the state *after* step t,
  the return obeys

      G_t = r_t + discount_t * ((1 - lambda_) * v_t + lambda_ * G_{t+1})

  truncated after `n` steps, where the remaining return is replaced by the
  bootstrap value: the n-step return of step t ends with `v_{t+n-1}`. Steps
  past the end of the sequence are padded with reward 0, discount 1 and the
  last value `v_{T-1}`, so steps near the end use fewer real steps and
  bootstrap from `v_{T-1}`. A discount of 0 ends an episode: nothing after it
  reaches the return.

  With `n=1` this is the one-step TD target `r_t + discount_t * v_t`; with
  `n=None` (or n >= T) and lambda 1 it is the discounted return of the whole
  sequence bootstrapped from `v_{T-1}`.

  Args:
    rewards: [T, B, ...] rewards r_t received after the action at step t.
    discounts: [T, B, ...] discounts (gamma times 0 at episode ends).
    bootstrap_values: [T, B, ...] state values V(x_{t+1}).
    n: number of steps before bootstrapping (>= 1), or None for the full
      sequence.
    lambda_: mixing factor in [0, 1]: a Python float or a tensor that
      broadcasts to [T, B, ...].
    stop_target_gradients: if True (the default) no gradient flows through
      the returns into any input.

  Returns:
    [T, B, ...] returns G_t, with the dtype of `bootstrap_values`.

  Raises:
    ValueError: on ranks below 2, mismatched shapes, or n < 1.
  """
  bootstrap_values = _checks.to_float(bootstrap_values, "bootstrap_values")
  dtype = bootstrap_values.dtype
  rewards = _checks.to_float(rewards, "rewards", dtype)
  discounts = _checks.to_float(discounts, "discounts", dtype)
  _checks.check_min_rank(rewards, 2, "rewards", "[T, B, ...]")
  _checks.check_same_shape(rewards, "rewards", discounts, "discounts")
  _checks.check_same_shape(rewards, "rewards", bootstrap_values, "bootstrap_values")
  if n is not None and (not isinstance(n, int) or n < 1):
    raise ValueError(f"`n` must be a positive int or None, got {n!r}.")
  lambdas = tf.broadcast_to(_checks.to_float(lambda_, "lambda_", dtype),
                            tf.shape(rewards))

  static_t = rewards.shape[0]
  if n is not None and static_t is not None:
    n = min(n, static_t)  # Exact: every padded step's return equals v_{T-1}.

  if n is None:
    returns = _full_returns(rewards, discounts, bootstrap_values, lambdas)
  else:
    returns = _truncated_returns(rewards, discounts, bootstrap_values, lambdas, n)
  if stop_target_gradients:
    returns = tf.stop_gradient(returns)
  return returns


def _full_returns(rewards, discounts, values, lambdas):
  """Untruncated recursion, run backwards with G_T = v_{T-1}."""

  def step(next_return, elems):
    reward, discount, value, lam = elems
    return reward + discount * ((1.0 - lam) * value + lam * next_return)

  return tf.scan(step, (rewards, discounts, values, lambdas),
                 initializer=values[-1], reverse=True)


def _truncated_returns(rewards, discounts, values, lambdas, n: int):
  """n passes over the whole sequence, each one step shallower than the last."""
  length = tf.shape(rewards)[0]
  pad = n - 1
  tail_shape = tf.concat([[pad], tf.shape(rewards)[1:]], axis=0)
  rewards = tf.concat([rewards, tf.zeros(tail_shape, rewards.dtype)], axis=0)
  discounts = tf.concat([discounts, tf.ones(tail_shape, discounts.dtype)], axis=0)
  lambdas = tf.concat([lambdas, tf.ones(tail_shape, lambdas.dtype)], axis=0)
  last = tf.broadcast_to(values[-1:], tail_shape)
  values = tf.concat([values, last], axis=0)

  # Depth-0 return of step t+n is the bootstrap value v_{t+n-1}.
  returns = values[pad:pad + length]
  for i in reversed(range(n)):
    lam = lambdas[i:i + length]
    returns = rewards[i:i + length] + discounts[i:i + length] * (
        (1.0 - lam) * values[i:i + length] + lam * returns)
  return returns
