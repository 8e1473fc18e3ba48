"""V-trace off-policy targets (Espeholt et al. 2018, "IMPALA", section 4).

With importance ratios rho_t = pi(a_t|x_t) / mu(a_t|x_t) of the target policy
pi over the behaviour policy mu, V-trace targets are

    v_s = V(x_s) + sum_{t>=s} (prod_{i=s}^{t-1} gamma_i c_i) delta_t,
    delta_t = min(rho_bar, rho_t) * (r_t + gamma_t V(x_{t+1}) - V(x_t)),
    c_i = lambda_ * min(1, rho_i),

computed backwards as v_s - V(x_s) = delta_s + gamma_s c_s (v_{s+1} - V(x_{s+1})).
The policy-gradient advantage at s is

    min(pg_rho_bar, rho_s) * (r_s + gamma_s q_{s+1} - V(x_s)),
    q_{s+1} = lambda_ * v_{s+1} + (1 - lambda_) * V(x_{s+1}),

with v_T = V(x_T) = bootstrap_value. Both outputs are targets: no gradient
flows through them. A threshold of None disables that clipping.
"""

import collections
from typing import Optional

import tensorflow as tf

from ftw.tf.losses import _checks
from ftw.tf.losses import policy

VTraceReturns = collections.namedtuple("VTraceReturns", ["vs", "pg_advantages"])

VTraceFromLogitsReturns = collections.namedtuple(
    "VTraceFromLogitsReturns",
    ["vs", "pg_advantages", "log_rhos", "behaviour_action_log_probs",
     "target_action_log_probs"])



def from_importance_weights(log_rhos: tf.Tensor,
                            discounts: tf.Tensor,
                            rewards: tf.Tensor,
                            values: tf.Tensor,
                            bootstrap_value: tf.Tensor,
                            clip_rho_threshold: Optional[float] = 1.0,
                            clip_pg_rho_threshold: Optional[float] = 1.0,
                            lambda_: float = 1.0) -> VTraceReturns:
  """V-trace targets and policy-gradient advantages from log importance ratios.

  Args:
    log_rhos: [T, B] log(pi(a_t|x_t) / mu(a_t|x_t)).
    discounts: [T, B] discount gamma_t applied after step t (0 at episode ends).
    rewards: [T, B] rewards r_t.
    values: [T, B] value estimates V(x_t) of the target policy.
    bootstrap_value: [B] value estimate V(x_T).
    clip_rho_threshold: rho_bar, clipping of the rhos in the value targets;
      None for no clipping.
    clip_pg_rho_threshold: clipping of the rhos in the policy-gradient
      advantages; None for no clipping.
    lambda_: trace mixing factor in [0, 1] (c_t = lambda_ * min(1, rho_t)).

  Returns:
    VTraceReturns(vs [T, B], pg_advantages [T, B]), both stop-gradient.

  Raises:
    ValueError: if a rank or shape does not match the above.
  """
  values = _checks.to_float(values, "values")
  dtype = values.dtype
  log_rhos = _checks.to_float(log_rhos, "log_rhos", dtype)
  discounts = _checks.to_float(discounts, "discounts", dtype)
  rewards = _checks.to_float(rewards, "rewards", dtype)
  bootstrap_value = _checks.to_float(bootstrap_value, "bootstrap_value", dtype)
  _checks.check_rank(values, 2, "values", "[T, B]")
  for name, tensor in (("log_rhos", log_rhos), ("discounts", discounts),
                       ("rewards", rewards)):
    _checks.check_same_shape(values, "values", tensor, name)
  batch = values.shape[1] if values.shape.rank else None
  _checks.check_shape(bootstrap_value, [batch], "bootstrap_value", "[B]")
  for name, threshold in (("clip_rho_threshold", clip_rho_threshold),
                          ("clip_pg_rho_threshold", clip_pg_rho_threshold)):
    if threshold is not None and not threshold > 0:
      raise ValueError(f"`{name}` must be positive or None, got {threshold!r}.")
  if isinstance(lambda_, (int, float)) and not 0.0 <= lambda_ <= 1.0:
    raise ValueError(f"`lambda_` must lie in [0, 1], got {lambda_!r}.")

  with tf.name_scope("vtrace_from_importance_weights"):
    # Targets carry no gradient; stopping inputs also keeps the scan cheap.
    log_rhos, discounts, rewards, values_in, bootstrap_value = [
        tf.stop_gradient(x) for x in
        (log_rhos, discounts, rewards, values, bootstrap_value)]
    rhos = tf.exp(log_rhos)
    clipped_rhos = _clip(rhos, clip_rho_threshold)
    cs = lambda_ * tf.minimum(tf.ones_like(rhos), rhos)
    next_values = tf.concat([values_in[1:], bootstrap_value[None]], axis=0)
    deltas = clipped_rhos * (rewards + discounts * next_values - values_in)

    def step(next_correction, elems):
      delta, discount, c = elems
      return delta + discount * c * next_correction

    corrections = tf.scan(step, (deltas, discounts, cs),
                          initializer=tf.zeros_like(bootstrap_value), reverse=True)
    vs = corrections + values_in

    next_vs = tf.concat([vs[1:], bootstrap_value[None]], axis=0)
    next_q = lambda_ * next_vs + (1.0 - lambda_) * next_values
    pg_rhos = _clip(rhos, clip_pg_rho_threshold)
    pg_advantages = pg_rhos * (rewards + discounts * next_q - values_in)
    return VTraceReturns(vs=tf.stop_gradient(vs),
                         pg_advantages=tf.stop_gradient(pg_advantages))


def from_logits(behaviour_policy_logits: policy.Logits,
                target_policy_logits: policy.Logits,
                actions: tf.Tensor,
                discounts: tf.Tensor,
                rewards: tf.Tensor,
                values: tf.Tensor,
                bootstrap_value: tf.Tensor,
                clip_rho_threshold: Optional[float] = 1.0,
                clip_pg_rho_threshold: Optional[float] = 1.0,
                lambda_: float = 1.0) -> VTraceFromLogitsReturns:
  """V-trace for softmax policies given by logits.

  Single discrete action: logits [T, B, A] and actions [T, B]. Multi-discrete
  action (G independent groups, e.g. the FTW action space): a list of G
  logits tensors, each [T, B, A_g], and actions [T, B, G]; the log-probability
  of a joint action is the sum over groups.

  Args:
    behaviour_policy_logits: logits of mu, as above (no gradient is needed).
    target_policy_logits: logits of pi, as above.
    actions: [T, B] or [T, B, G] integer actions taken.
    discounts, rewards, values, bootstrap_value, clip_rho_threshold,
    clip_pg_rho_threshold, lambda_: as in `from_importance_weights`.

  Returns:
    VTraceFromLogitsReturns: `vs` and `pg_advantages` ([T, B], stop-gradient);
    `log_rhos`, `behaviour_action_log_probs`, `target_action_log_probs`
    ([T, B], differentiable: the policy-gradient loss is
    `-target_action_log_probs * pg_advantages`).

  Raises:
    ValueError: on mismatched ranks, shapes or group counts.
  """
  behaviour_log_probs = policy.action_log_probs(behaviour_policy_logits, actions,
                                         "behaviour_policy_logits")
  target_log_probs = policy.action_log_probs(target_policy_logits, actions,
                                      "target_policy_logits")
  log_rhos = target_log_probs - behaviour_log_probs
  returns = from_importance_weights(
      log_rhos=log_rhos, discounts=discounts, rewards=rewards, values=values,
      bootstrap_value=bootstrap_value, clip_rho_threshold=clip_rho_threshold,
      clip_pg_rho_threshold=clip_pg_rho_threshold, lambda_=lambda_)
  return VTraceFromLogitsReturns(
      vs=returns.vs, pg_advantages=returns.pg_advantages, log_rhos=log_rhos,
      behaviour_action_log_probs=behaviour_log_probs,
      target_action_log_probs=target_log_probs)


def _clip(rhos: tf.Tensor, threshold: Optional[float]) -> tf.Tensor:
  if threshold is None:
    return rhos
  return tf.minimum(tf.cast(threshold, rhos.dtype), rhos)
