"""The agent's policy/value loss against hand-computed values.

A batch of T=4 steps, B=2 sequences: sequence 0 ends its episode at step 1
(discount 0 there, the final observation at step 2, padding at step 3 with
mask 0); sequence 1 runs through. The policy is uniform over 2 actions, so
log pi(a) = log(1/2) for every action and the behaviour equals the target
(rho = 1): V-trace with lambda 1 is then the discounted return bootstrapped
from the last value, which is written out by hand below.
"""

import collections

import numpy as np
import pytest
import tensorflow as tf

from agents.ftw import losses
from agents.ftw.config import FtwConfig
from ftw.tf.networks.normalization import RunningMeanStd

Outputs = collections.namedtuple("Outputs", "policy_logits value")
GAMMA = 0.9
LOG_HALF = np.log(0.5)

REWARD = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 0.0], [0.0, 3.0]],
                  np.float32)
DISCOUNT = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]],
                    np.float32)
MASK = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.0]], np.float32)
VALUE = np.array([[0.5, 1.0], [0.25, 2.0], [7.0, 3.0], [9.0, 4.0]],
                 np.float32)

# Targets of the trained steps t = 0..2 (step 3 only bootstraps):
# sequence 0: v_1 = r_1 = 2 (terminal), v_0 = 1 + 0.9 * 2 = 2.8; t = 2 is
# the final observation (mask 0, not trained).
# sequence 1: v_2 = 0 + 0.9 * 4 = 3.6, v_1 = 1 + 0.9 * 3.6 = 4.24,
# v_0 = 0 + 0.9 * 4.24 = 3.816.
VS = np.array([[2.8, 3.816], [2.0, 4.24], [0.0, 3.6]], np.float32)
TRAINED = MASK[:-1]


def _seq():
  return losses.Sequence(
      observation=None, action=tf.zeros([4, 2], tf.int32),
      reward=tf.constant(REWARD), discount=tf.constant(DISCOUNT),
      behaviour_logits=tf.zeros([4, 2, 2]), mask=tf.constant(MASK))


def _outputs(value=VALUE):
  return Outputs(policy_logits=tf.zeros([4, 2, 2]), value=tf.constant(value))


def _config(**kwargs):
  return FtwConfig(discount=GAMMA, baseline_cost=0.5, entropy_cost=0.01,
                   **kwargs)


def _masked_mean(x):
  return (x * TRAINED).sum() / TRAINED.sum()


@pytest.mark.parametrize("loss", ["vtrace", "a2c"])
def test_targets_masking_and_bootstrap_at_episode_ends(loss):
  # A2C with n >= T is the same discounted return bootstrapped from V(x_3).
  terms, stats, return_statistics = losses.policy_value_loss(
      _config(loss=loss, n_steps=10), _seq(), _outputs())
  assert return_statistics is None  # No return normaliser.
  advantages = VS - VALUE[:-1]
  np.testing.assert_allclose(terms["baseline_loss"].numpy(),
                             0.5 * _masked_mean(0.5 * advantages ** 2),
                             rtol=1e-5)
  np.testing.assert_allclose(terms["policy_loss"].numpy(),
                             _masked_mean(-LOG_HALF * advantages), rtol=1e-5)
  np.testing.assert_allclose(terms["entropy_loss"].numpy(),
                             0.01 * -np.log(2.0), rtol=1e-5)
  np.testing.assert_allclose(stats["entropy"].numpy(), np.log(2.0),
                             rtol=1e-5)
  np.testing.assert_allclose(stats["value_target_mean"].numpy(),
                             _masked_mean(VS), rtol=1e-5)


def test_importance_weight_statistics_over_trained_steps():
  """Behaviour probabilities of the taken action 0 against the uniform
  target: rho = 0.5 / mu. Trained steps (MASK[:-1]) only."""
  mu = np.array([[0.4, 0.47], [0.6, 0.48], [0.2, 0.44], [0.5, 0.5]])
  behaviour = np.stack([np.log(mu / (1 - mu)), np.zeros_like(mu)], -1)
  seq = _seq()._replace(behaviour_logits=tf.constant(behaviour, tf.float32))
  _, stats, _ = losses.policy_value_loss(_config(), seq, _outputs())
  rho = 0.5 / mu[:-1]
  trained = TRAINED > 0
  # Trained rhos 1.25, 1.064, 0.833, 1.042, 1.136 (2.5 is not trained):
  # above rho-bar 1: 4 of 5; outside [1/1.1, 1.1]: 3 of 5.
  np.testing.assert_allclose(stats["rho_mean"].numpy(), rho[trained].mean(),
                             rtol=1e-5)
  np.testing.assert_allclose(stats["abs_log_rho"].numpy(),
                             np.abs(np.log(rho[trained])).mean(), rtol=1e-5)
  np.testing.assert_allclose(stats["rho_clip_fraction"].numpy(), 0.8)
  np.testing.assert_allclose(stats["rho_far_fraction"].numpy(), 0.6)


def test_normalized_advantages_are_standardised_over_trained_steps():
  terms, stats, _ = losses.policy_value_loss(
      _config(normalize_advantages=True), _seq(), _outputs())
  advantages = (VS - VALUE[:-1])[TRAINED > 0]
  standard = (advantages - advantages.mean()) / (advantages.std() + 1e-6)
  np.testing.assert_allclose(terms["policy_loss"].numpy(),
                             (-LOG_HALF * standard).mean(), rtol=1e-4,
                             atol=1e-6)
  np.testing.assert_allclose(stats["advantage_std"].numpy(),
                             advantages.std(), rtol=1e-5)
  # The value loss is unchanged by it.
  plain, _, _ = losses.policy_value_loss(_config(), _seq(), _outputs())
  np.testing.assert_allclose(terms["baseline_loss"].numpy(),
                             plain["baseline_loss"].numpy(), rtol=1e-6)


def _normalizer():
  normalizer = RunningMeanStd(clip=None)
  normalizer.update(np.array([1.0, 3.0], np.float32))  # mean 2, variance 1.
  return normalizer


def test_return_normalizer_scales_values_and_targets():
  normalizer = _normalizer()
  head = np.array([[0.5, 1.0], [0.25, 2.0], [7.0, 3.0], [9.0, 4.0]],
                  np.float32)
  terms, _, merged_statistics = losses.policy_value_loss(
      _config(), _seq(), _outputs(head), return_normalizer=normalizer)
  # Returns use V = 2 + 1 * head: sequence 0 never bootstraps; sequence 1
  # bootstraps from V(x_3) = 6 instead of 4, i.e. 2 * 0.9^k more k steps back.
  vs = np.array([[2.8, 3.816 + 2 * 0.729], [2.0, 4.24 + 2 * 0.81],
                 [0.0, 3.6 + 2 * 0.9]])
  trained = vs[TRAINED > 0]
  merged = np.concatenate([[1.0, 3.0], trained])
  # The statistics merged with the trained targets come back to the caller.
  np.testing.assert_allclose(merged_statistics.mean.numpy(), merged.mean(),
                             rtol=1e-5)
  np.testing.assert_allclose(merged_statistics.variance.numpy(), merged.var(),
                             rtol=1e-5)
  assert merged_statistics.count.numpy() == merged.size
  # The value loss standardises the targets with those merged statistics.
  normalized = (vs - merged.mean()) / np.sqrt(merged.var() + 1e-8)
  np.testing.assert_allclose(
      terms["baseline_loss"].numpy(),
      0.5 * _masked_mean(0.5 * (normalized - head[:-1]) ** 2), rtol=1e-4)


def test_return_normalizer_is_only_read_by_the_loss():
  """The loss is pure: the caller assigns the merged statistics."""
  normalizer = _normalizer()
  before = [v.numpy() for v in (normalizer.count, normalizer.mean,
                                normalizer.variance)]
  first = losses.policy_value_loss(_config(), _seq(), _outputs(),
                                   return_normalizer=normalizer)
  second = losses.policy_value_loss(_config(), _seq(), _outputs(),
                                    return_normalizer=normalizer)
  after = [v.numpy() for v in (normalizer.count, normalizer.mean,
                               normalizer.variance)]
  np.testing.assert_array_equal(after, before)
  for a, b in zip(tf.nest.flatten(first), tf.nest.flatten(second)):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  # The caller's assignment takes them over exactly.
  normalizer.assign(first[2])
  for name in ("count", "mean", "variance"):
    np.testing.assert_array_equal(getattr(normalizer, name).numpy(),
                                  getattr(first[2], name).numpy(), name)


def test_rpth_kl_terms_take_the_posterior_last():
  from ftw.tf.networks.rpth import RPTHOutput  # pylint: disable=g-import-not-at-top
  from ftw.tf.networks.variational import LocScaleDistributionParameters as P  # pylint: disable=g-import-not-at-top
  prior_loc, prior_scale = np.float32(1.0), np.float32(2.0)
  post_loc, post_scale = np.float32(0.0), np.float32(0.5)
  full = lambda v: tf.fill([2, 1, 3], v)  # [T, B, N]
  output = RPTHOutput(
      z=full(0.0), distribution_params=(
          P(full(prior_loc), full(prior_scale)),
          P(full(post_loc), full(post_scale))))
  mask = tf.constant([[1.0], [0.0]])
  terms = losses.rpth_kl_terms(_config(kl_cost=1.0, kl_prior_cost=1.0),
                               output, mask)

  def kl(m1, s1, m2, s2):  # KL(N(m1, s1^2) || N(m2, s2^2)) per dimension.
    return np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5

  np.testing.assert_allclose(
      terms["kl_loss"].numpy(), 3 * kl(post_loc, post_scale, prior_loc,
                                       prior_scale), rtol=1e-5)
  np.testing.assert_allclose(
      terms["kl_prior_loss"].numpy(), 3 * kl(prior_loc, prior_scale, 0.0,
                                             1.0), rtol=1e-5)


def test_pixel_control_repeats_the_final_frame_over_padding():
  """After an episode's final observation the zero padding would read as a
  huge pixel change: padded frames repeat the final one instead."""
  from ftw.types import OAR  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  t, b, a = 4, 2, 3
  frames = rng.integers(0, 255, (t, b, 84, 84, 3)).astype(np.uint8)
  mask = np.array([[1, 1], [1, 1], [0, 1], [0, 1]], np.float32)
  discount = np.array([[1, 1], [0, 1], [0, 1], [0, 1]], np.float32)
  frames[3, 0] = 0  # Sequence 0: step 2 is the final frame, 3 is padding.
  q_values = tf.constant(rng.normal(size=(t, b, 20, 20, a)), tf.float32)

  def term(pixels):
    seq = losses.Sequence(
        observation=OAR(tf.constant(pixels), None, None),
        action=tf.zeros([t, b], tf.int32), reward=tf.zeros([t, b]),
        discount=tf.constant(discount), behaviour_logits=None,
        mask=tf.constant(mask))
    return float(losses.pixel_control_term(_config(), seq, q_values))

  repeated = frames.copy()
  repeated[3, 0] = frames[2, 0]
  assert term(frames) == pytest.approx(term(repeated), rel=1e-6)
  from ftw.tf.losses import pixel_control  # pylint: disable=g-import-not-at-top
  # The loss on the repeated frames, scaled to [0, 1] as float32.
  expected = pixel_control.pixel_control_loss(
      observations=tf.constant(repeated, tf.float32) / 255.0,
      actions=tf.zeros([t - 1, b], tf.int32), action_values=q_values,
      cell_size=4, discount_factor=0.9 * discount[:-1] * mask[:-1],
      crop_height_dim=(2, 82), crop_width_dim=(2, 82))
  assert term(frames) == pytest.approx(
      0.01 * float(tf.reduce_mean(expected.loss)), rel=1e-5)
  # Without the repetition the padded step would change the loss.
  naive = pixel_control.pixel_control_loss(
      observations=tf.constant(frames, tf.float32) / 255.0,
      actions=tf.zeros([t - 1, b], tf.int32), action_values=q_values,
      cell_size=4, discount_factor=0.9 * discount[:-1] * mask[:-1],
      crop_height_dim=(2, 82), crop_width_dim=(2, 82))
  assert 0.01 * float(tf.reduce_mean(naive.loss)) != pytest.approx(
      term(frames), rel=1e-3)


@pytest.mark.parametrize("loss", ["vtrace", "a2c"])
def test_multi_discrete_terms_equal_the_product_action_space(loss):
  """Groups [3, 2] with logits l1, l2 are one softmax over 6 joint actions
  with logits l1[i] + l2[j]: every term and statistic must agree."""
  rng = np.random.default_rng(1)
  sizes = (3, 2)
  target = rng.normal(size=(4, 2, 5)).astype(np.float32)
  behaviour = rng.normal(size=(4, 2, 5)).astype(np.float32)
  actions = np.stack([rng.integers(0, n, (4, 2)) for n in sizes], -1)
  joint = lambda l: np.stack([l[..., i] + l[..., 3 + j]
                              for i in range(3) for j in range(2)], -1)
  joint_actions = actions[..., 0] * 2 + actions[..., 1]
  config = _config(loss=loss, n_steps=2, clip_rho_threshold=1.1)

  def terms(logits, mu, action, num_actions):
    seq = _seq()._replace(action=tf.constant(action, tf.int32),
                          behaviour_logits=tf.constant(mu))
    outputs = Outputs(policy_logits=tf.constant(logits),
                      value=tf.constant(VALUE))
    out, stats, _ = losses.policy_value_loss(config, seq, outputs,
                                             num_actions=num_actions)
    return {**out, **stats}

  multi = terms(target, behaviour, actions, list(sizes))
  single = terms(joint(target), joint(behaviour), joint_actions, 6)
  assert set(multi) == set(single)
  for key, value in single.items():
    np.testing.assert_allclose(multi[key].numpy(), value.numpy(), rtol=1e-4,
                               atol=1e-6, err_msg=key)


def test_multi_discrete_pixel_control_term():
  from ftw.types import OAR  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(2)
  t, b, sizes = 3, 2, [3, 2]
  frames = rng.integers(0, 255, (t, b, 84, 84, 3)).astype(np.uint8)
  q_values = tf.constant(rng.normal(size=(t, b, 20, 20, 5)), tf.float32)
  actions = np.stack([rng.integers(0, n, (t, b)) for n in sizes], -1)
  seq = losses.Sequence(
      observation=OAR(tf.constant(frames), None, None),
      action=tf.constant(actions, tf.int32), reward=tf.zeros([t, b]),
      discount=tf.ones([t, b]), behaviour_logits=None, mask=tf.ones([t, b]))
  term = losses.pixel_control_term(_config(), seq, q_values,
                                   num_actions=sizes)
  # The sum of each group's term, computed as a single discrete action.
  per_group = [
      losses.pixel_control_term(
          _config(), seq._replace(action=tf.constant(actions[..., g],
                                                     tf.int32)), q)
      for g, q in enumerate(tf.split(q_values, sizes, axis=-1))]
  np.testing.assert_allclose(float(term), float(sum(per_group)), rtol=1e-5)
