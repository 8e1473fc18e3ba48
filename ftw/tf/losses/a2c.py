"""n-step advantage actor-critic loss (Mnih et al. 2016, "A3C").

A time-major TensorFlow 2 version of AgentNet's
`agentnet.learning.a2c.get_elementwise_objective`:

    L_policy(t) = -log pi(a_t|x_t) * A_t,   A_t = G_t - V(x_t)  (no gradient)
    L_critic(t) = loss(G_t, V(x_t)),        G_t the n-step target (no gradient)

with sliding-window n-step targets (see `returns.n_step_bootstrapped_returns`)
and the `is_alive` conventions of `_td`. Unlike AgentNet, which restarts its
n-step windows every n ticks counted from the end, every tick here gets a
full n-step target where the sequence allows it, and the default squared
loss is 0.5 * (G - V)^2 (AgentNet: (G - V)^2; pass a callable to match).
"""

import collections
from typing import Optional, Union

import tensorflow as tf

from ftw.tf.losses import _checks
from ftw.tf.losses import _td
from ftw.tf.losses import policy as policy_lib

A2CSeparateLosses = collections.namedtuple("A2CSeparateLosses",
                                           ["actor_loss", "critic_loss"])
A2CLoss = collections.namedtuple("A2CLoss", ["total", "policy", "critic", "entropy"])

_SAME = "same"


def get_elementwise_objective(
    policy: policy_lib.Logits,
    state_values: tf.Tensor,
    actions: tf.Tensor,
    rewards: tf.Tensor,
    is_alive: Optional[tf.Tensor] = None,
    state_values_target: Optional[tf.Tensor] = None,
    n_steps: Optional[int] = 1,
    n_steps_advantage: Union[str, int, None] = _SAME,
    gamma_or_gammas: Union[float, tf.Tensor] = 0.99,
    state_values_after_end: Optional[tf.Tensor] = None,
    state_values_target_after_end: Optional[tf.Tensor] = None,
    return_separate: bool = False,
    treat_policy_as_logpolicy: bool = False,
    loss_function: _td.LossFunction = "squared",
    huber_delta: float = 1.0):
  """Elementwise actor-critic objective, AgentNet semantics, time-major.

  Args:
    policy: [T, B, A] logits (or a list of [T, B, A_g] logits with actions
      [T, B, G] for a multi-discrete action). With
      `treat_policy_as_logpolicy`, log pi(.|x_t) [T, B, A] or the
      log-probabilities of the taken actions [T, B].
    state_values: [T, B] learned V(x_t).
    actions: [T, B] (or [T, B, G]) integer actions taken.
    rewards: [T, B] rewards after the action at tick t.
    is_alive: [T, B] 1 while the episode runs, 0 after its end; None means
      always alive. Dead ticks get no loss and end the bootstrap chain.
    state_values_target: [T, B] values used for the critic's targets (e.g. a
      target network); defaults to `state_values`. The actor's advantage
      always uses `state_values`, as in AgentNet.
    n_steps: steps of the critic's n-step target; None for the whole sequence.
    n_steps_advantage: steps of the advantage's target; "same" as `n_steps`.
    gamma_or_gammas: discount, a scalar or a tensor that broadcasts to [T, B].
    state_values_after_end: [B] V(x_T) after the last tick. If None
      (AgentNet's crop_last), the last tick only serves as the bootstrap and
      its loss is 0.
    state_values_target_after_end: [B] target-network V(x_T); defaults to
      `state_values_after_end`.
    return_separate: if True return (actor_loss, critic_loss) separately.
    treat_policy_as_logpolicy: `policy` holds log-probabilities, not logits.
    loss_function: critic loss, "squared" (0.5 x^2), "huber" or a callable
      f(targets, predictions).
    huber_delta: threshold of the Huber loss.

  Returns:
    [T, B] actor loss + critic loss, or `A2CSeparateLosses(actor_loss,
    critic_loss)` ([T, B] each) if `return_separate`. Gradients reach
    `policy` through the actor term and `state_values` through the critic
    term only; targets and advantages are stop-gradient.

  Raises:
    ValueError: on mismatched ranks or shapes, or bad options.
  """
  state_values = _checks.to_float(state_values, "state_values")
  dtype = state_values.dtype
  _checks.check_rank(state_values, 2, "state_values", "[T, B]")
  rewards = _checks.to_float(rewards, "rewards", dtype)
  _checks.check_same_shape(state_values, "state_values", rewards, "rewards")
  if state_values_target is None:
    state_values_target = state_values
  else:
    state_values_target = _checks.to_float(state_values_target, "state_values_target", dtype)
    _checks.check_same_shape(state_values, "state_values", state_values_target,
                             "state_values_target")
  if state_values_after_end is None and state_values_target_after_end is not None:
    raise ValueError("`state_values_target_after_end` needs `state_values_after_end` "
                     "(without it the last tick is cropped).")
  if state_values_after_end is not None:
    state_values_after_end = _checks.to_float(state_values_after_end,
                                              "state_values_after_end", dtype)
    batch = state_values.shape[1] if state_values.shape.rank else None
    _checks.check_shape(state_values_after_end, [batch], "state_values_after_end", "[B]")
  if state_values_target_after_end is None:
    state_values_target_after_end = state_values_after_end
  if n_steps_advantage == _SAME:
    n_steps_advantage = n_steps

  alive = _td.alive_mask(is_alive, rewards)
  gammas = _td.gammas(gamma_or_gammas, rewards)
  log_probs = _taken_log_probs(policy, actions, treat_policy_as_logpolicy, state_values)

  critic_targets, mask = _td.sequence_targets(
      rewards, gammas, alive, state_values_target, state_values_target_after_end,
      n_steps, "state_values_target_after_end")
  critic_loss = _td.elementwise_loss(critic_targets, state_values, loss_function,
                                     huber_delta) * mask

  advantage_targets, _ = _td.sequence_targets(
      rewards, gammas, alive, state_values, state_values_after_end, n_steps_advantage)
  advantages = tf.stop_gradient(advantage_targets - state_values)
  actor_loss = -log_probs * advantages * mask

  if return_separate:
    return A2CSeparateLosses(actor_loss=actor_loss, critic_loss=critic_loss)
  return actor_loss + critic_loss


def entropy_loss(logits: policy_lib.Logits) -> tf.Tensor:
  """Entropy regulariser: the negative entropy -H(pi(.|x_t)) of softmax policies.

  Minimising it pushes the policy towards uniform (Williams & Peng 1991;
  Mnih et al. 2016).

  Args:
    logits: [T, B, A] logits, or a list of [T, B, A_g] for multi-discrete
      actions (entropies add up over the groups).

  Returns:
    [T, B] negative entropies, differentiable in `logits`.
  """
  if isinstance(logits, (list, tuple)):
    for g, group in enumerate(logits):
      _checks.check_rank(tf.convert_to_tensor(group), 3, f"logits[{g}]", "[T, B, A_g]")
  else:
    logits = _checks.to_float(logits, "logits")
    _checks.check_rank(logits, 3, "logits", "[T, B, A]")
  return -policy_lib.entropy(logits)


def a2c_loss(policy_logits: policy_lib.Logits,
             values: tf.Tensor,
             actions: tf.Tensor,
             rewards: tf.Tensor,
             is_alive: Optional[tf.Tensor] = None,
             bootstrap_value: Optional[tf.Tensor] = None,
             n_steps: Optional[int] = 1,
             discount: Union[float, tf.Tensor] = 0.99,
             critic_cost: float = 0.5,
             entropy_cost: float = 0.01,
             loss_function: _td.LossFunction = "squared",
             huber_delta: float = 1.0) -> A2CLoss:
  """Actor, critic and entropy terms of A2C and their weighted sum.

  Args:
    policy_logits: [T, B, A] logits (or a list for multi-discrete actions).
    values: [T, B] learned V(x_t).
    actions: [T, B] (or [T, B, G]) integer actions.
    rewards: [T, B] rewards.
    is_alive: [T, B] alive indicator, None for always alive.
    bootstrap_value: [B] V(x_T); None crops the last tick (see
      `get_elementwise_objective`).
    n_steps: n of the n-step targets, None for the whole sequence.
    discount: discount, a scalar or a tensor that broadcasts to [T, B].
    critic_cost: weight of the critic term in `total`.
    entropy_cost: weight of the entropy term in `total`.
    loss_function: critic loss, "squared", "huber" or a callable.
    huber_delta: threshold of the Huber loss.

  Returns:
    A2CLoss of [T, B] elementwise terms, each masked by `is_alive` (and the
    cropped last tick): `policy`, `critic`, `entropy` (negative entropy) and
    `total = policy + critic_cost * critic + entropy_cost * entropy`.
  """
  separate = get_elementwise_objective(
      policy_logits, values, actions, rewards, is_alive=is_alive, n_steps=n_steps,
      gamma_or_gammas=discount, state_values_after_end=bootstrap_value,
      return_separate=True, loss_function=loss_function, huber_delta=huber_delta)
  values = tf.convert_to_tensor(values)
  mask = _td.alive_mask(is_alive, tf.cast(tf.convert_to_tensor(rewards), values.dtype))
  if bootstrap_value is None:
    mask = mask * tf.concat([tf.ones_like(mask[:-1]), tf.zeros_like(mask[-1:])], 0)
  entropy = entropy_loss(policy_logits) * mask
  total = (separate.actor_loss + critic_cost * separate.critic_loss
           + entropy_cost * entropy)
  return A2CLoss(total=total, policy=separate.actor_loss, critic=separate.critic_loss,
                 entropy=entropy)


def _taken_log_probs(policy, actions, treat_policy_as_logpolicy, state_values):
  """log pi(a_t|x_t) [T, B] from logits or log-probabilities."""
  if treat_policy_as_logpolicy and not isinstance(policy, (list, tuple)):
    log_policy = _checks.to_float(policy, "policy", state_values.dtype)
    _checks.check_rank(log_policy, (2, 3), "policy", "[T, B, A] or [T, B]")
    if log_policy.shape.rank == 2:
      _checks.check_same_shape(state_values, "state_values", log_policy, "policy")
      return log_policy
    actions = _checks.to_int(actions, "actions")
    _checks.check_same_shape(state_values, "state_values", actions, "actions")
    _checks.check_shape(log_policy, state_values.shape.as_list() + [None], "policy",
                        "[T, B, A]")
    return _td.select(log_policy, actions)
  # log_softmax leaves log-probabilities unchanged, so lists of them work too.
  log_probs = policy_lib.action_log_probs(policy, actions, "policy")
  _checks.check_same_shape(state_values, "state_values", log_probs,
                           "policy/actions leading [T, B]")
  return tf.cast(log_probs, state_values.dtype)
