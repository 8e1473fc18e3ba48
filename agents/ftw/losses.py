"""The FTW agent's total loss: policy/value plus its auxiliary tasks.

Inputs are time-major `[T, B, ...]` sequences from the replay queue, with
`mask[t] = 0` on padding after an episode's end. The policy loss is V-trace
(Espeholt et al. 2018) or n-step A2C; auxiliary terms are UNREAL's pixel
control and reward prediction (Jaderberg et al. 2016) and FTW's RPTH KL terms
(Jaderberg et al. 2019): KL(posterior || prior) and KL(prior || N(0, I)).

Multi-discrete actions (`num_actions` a sequence of G group sizes): actions
are [T, B, G] and logits the groups' concatenated; log-probabilities and
entropies are sums over the groups, pixel control has one Q-function per
group (see `ftw.tf.losses.pixel_control`).
"""

import math
import typing
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

import tensorflow as tf

from ftw import checks
from ftw.tf.losses import a2c
from ftw.tf.losses import kl as kl_lib
from ftw.tf.losses import pixel_control
from ftw.tf.losses import policy as policy_lib
from ftw.tf.losses import returns as returns_lib
from ftw.tf.losses import reward_prediction
from ftw.tf.losses import vtrace
from ftw.tf.networks import normalization

# FTW and UNREAL crop 84x84 frames to their central 80x80 for pixel control.
_CROP = (2, 82)
# |log rho| above this (rho outside [1/1.1, 1.1]) counts as far off-policy.
_FAR_LOG_RHO = math.log(1.1)


class Sequence(NamedTuple):
  """A time-major batch of sequences, as the learner sees it."""
  observation: Any  # OAR nest, [T, B, ...]
  action: tf.Tensor  # [T, B], or [T, B, G] for G action groups
  reward: tf.Tensor  # [T, B]
  discount: tf.Tensor  # [T, B]
  behaviour_logits: tf.Tensor  # [T, B, A] (A = A_1 + ... + A_G for groups)
  mask: tf.Tensor  # [T, B], 1 on real steps


def _masked_mean(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  return tf.reduce_sum(x * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def _masked_moments(x: tf.Tensor, mask: tf.Tensor):
  mean = _masked_mean(x, mask)
  variance = _masked_mean(tf.square(x - mean), mask)
  return mean, tf.sqrt(variance)


# typing.Sequence: `Sequence` here is the batch of sequences.
NumActions = Optional[Union[int, typing.Sequence[int]]]


def _group_sizes(num_actions: NumActions) -> Optional[List[int]]:
  """The action group sizes if multi-discrete, else None."""
  if num_actions is None or checks.is_int(num_actions):
    return None
  return list(num_actions)


def _policy_logits(logits: tf.Tensor, num_actions: NumActions, name: str):
  """Logits as the policy losses take them: a tensor, or a list per group."""
  sizes = _group_sizes(num_actions)
  if sizes is None:
    return logits
  return policy_lib.split_logits(logits, sizes, name)


def policy_value_loss(
    config, seq: Sequence, outputs, return_normalizer=None,
    num_actions: NumActions = None
) -> Tuple[Dict[str, tf.Tensor], Dict[str, tf.Tensor],
           Optional[normalization.MergedStatistics]]:
  """V-trace or n-step A2C policy and value terms, entropy regularised.

  A pure function: it reads `return_normalizer` but changes no variable.

  With `config.normalize_advantages` the policy-gradient advantages are
  standardised over the real steps of the batch (zero mean, unit standard
  deviation), as PPO implementations do; the value targets are unchanged.

  With a `return_normalizer` (a RunningMeanStd of value targets) the value
  head predicts standardised values: V = mu + sigma * head output is what
  the returns use (the current statistics), and the value loss compares the
  head output with the targets standardised by the statistics merged with
  this batch's targets (Sample Factory's normalize_returns). Those merged
  statistics are returned; the caller assigns them
  (`return_normalizer.assign`) after the loss.

  `num_actions`: the network's; a sequence of group sizes means a
  multi-discrete action (see the module doc), None or an int a single one.

  Returns:
    (loss terms to add up, diagnostics of the learning signal: entropy,
    advantage and value-target scale, importance-weight statistics,
    the return statistics merged with this batch's value targets or None
    without a `return_normalizer`).
  """
  logits = _policy_logits(outputs.policy_logits[:-1], num_actions,
                          "policy_logits")
  behaviour_logits = _policy_logits(seq.behaviour_logits[:-1], num_actions,
                                    "behaviour_logits")
  head_values = outputs.value
  all_values = head_values
  if return_normalizer is not None:
    sigma = tf.sqrt(return_normalizer.variance + 1e-8)
    all_values = tf.stop_gradient(return_normalizer.mean + sigma * head_values)
  values = all_values[:-1]
  bootstrap = all_values[-1]
  actions = seq.action[:-1]
  rewards = seq.reward[:-1]
  discounts = seq.discount[:-1] * config.discount
  mask = seq.mask[:-1]
  stats = {}
  if config.loss == "vtrace":
    returns = vtrace.from_logits(
        behaviour_policy_logits=behaviour_logits,
        target_policy_logits=logits, actions=actions, discounts=discounts,
        rewards=rewards, values=values, bootstrap_value=bootstrap,
        clip_rho_threshold=config.clip_rho_threshold,
        clip_pg_rho_threshold=config.clip_pg_rho_threshold,
        lambda_=config.vtrace_lambda)
    advantages = returns.pg_advantages
    log_probs = returns.target_action_log_probs
    targets = returns.vs
    rhos = tf.exp(returns.log_rhos)
    stats["rho_mean"] = _masked_mean(rhos, mask)
    stats["rho_clip_fraction"] = _masked_mean(
        tf.cast(rhos > (config.clip_rho_threshold or float("inf")),
                tf.float32), mask)
    stats["abs_log_rho"] = _masked_mean(tf.abs(returns.log_rhos), mask)
    # rho > 1 at rho-bar 1 counts steps off by a rounding error too (half
    # of them with no lag at all); lag worth a look moves rho by > 10%.
    stats["rho_far_fraction"] = _masked_mean(
        tf.cast(tf.abs(returns.log_rhos) > _FAR_LOG_RHO, tf.float32), mask)
  else:
    next_values = tf.concat([values[1:], bootstrap[None]], axis=0)
    targets = returns_lib.n_step_bootstrapped_returns(
        rewards, discounts, next_values, config.n_steps)
    advantages = targets - values
    log_probs = policy_lib.action_log_probs(logits, actions)
  advantages = tf.stop_gradient(advantages)
  adv_mean, adv_std = _masked_moments(advantages, mask)
  stats.update(advantage_mean=adv_mean, advantage_std=adv_std,
               value_target_mean=_masked_mean(targets, mask),
               value_target_std=_masked_moments(targets, mask)[1])
  if config.normalize_advantages:
    advantages = (advantages - adv_mean) / (adv_std + 1e-6)
  pg = -log_probs * advantages
  targets = tf.stop_gradient(targets)
  return_statistics = None
  if return_normalizer is None:
    baseline = 0.5 * tf.square(targets - values)
  else:
    return_statistics = return_normalizer.merged(tf.reshape(targets, [-1]),
                                                 tf.reshape(mask, [-1]))
    sigma = tf.sqrt(return_statistics.variance + 1e-8)
    normalized = (targets - return_statistics.mean) / sigma
    baseline = 0.5 * tf.square(normalized - head_values[:-1])
  entropy = a2c.entropy_loss(logits)
  stats["entropy"] = -_masked_mean(entropy, mask)
  terms = {
      "policy_loss": _masked_mean(pg, mask),
      "baseline_loss": config.baseline_cost * _masked_mean(baseline, mask),
      "entropy_loss": config.entropy_cost * _masked_mean(entropy, mask),
  }
  return terms, stats, return_statistics


def pixel_control_term(config, seq: Sequence, q_values,
                       num_actions: NumActions = None) -> tf.Tensor:
  """UNREAL pixel control on the central 80x80 crop.

  A multi-discrete `num_actions` (group sizes) trains one Q-function per
  action group, the groups' losses summed.

  After an episode's final observation the frames are padding (zeros): a
  change into a padded frame would read as a huge pixel change, so those
  steps' pseudo-rewards are 0 (what repeating the final frame over the
  padding gives: padding only follows an episode's end) and the discount
  stops bootstrapping at the episode's end. Frames are scaled to [0, 1].
  The rewards come from the frames as stored (uint8), cropped in the same
  compiled pass (see `pixel_control.pixel_control_rewards`).
  """
  frames = seq.observation.observation  # [T+1, B, H, W, C]
  mask = seq.mask
  # A frame is real if its step is a transition or the final observation
  # right after one (mask 0 there, but a real frame); padding follows.
  real = tf.maximum(mask[1:], mask[:-1])  # frames 1..T
  rewards = pixel_control.pixel_control_rewards(
      frames, config.pixel_control_cell_size, _CROP, _CROP) / 255.0
  rewards *= real[:, :, None, None]
  discount = config.pixel_control_discount * seq.discount[:-1] * mask[:-1]
  output = pixel_control.pixel_control_q_loss(
      rewards, actions=seq.action[:-1], action_values=q_values,
      discount_factor=discount, action_sizes=_group_sizes(num_actions))
  return config.pixel_control_cost * tf.reduce_mean(output.loss)


def reward_prediction_term(config, logits, rewards) -> tf.Tensor:
  loss = reward_prediction.reward_prediction_loss(logits, rewards)
  return config.reward_prediction_cost * tf.reduce_mean(loss)


def rpth_kl_terms(config, core_output, mask) -> Dict[str, tf.Tensor]:
  """KL(posterior || each prior) and KL(each prior || N(0, I))."""
  params = core_output.distribution_params  # Slow to fast: posterior last.
  posterior, priors = params[-1], params[:-1]
  kl = tf.zeros_like(mask)
  prior_kl = tf.zeros_like(mask)
  for prior in priors:
    kl += kl_lib.diagonal_gaussian_kl(posterior.loc, posterior.scale,
                                      prior.loc, prior.scale)
    prior_kl += kl_lib.diagonal_gaussian_kl(
        prior.loc, prior.scale, tf.zeros_like(prior.loc),
        tf.ones_like(prior.scale))
  return {"kl_loss": config.kl_cost * _masked_mean(kl, mask),
          "kl_prior_loss": config.kl_prior_cost * _masked_mean(prior_kl, mask)}
