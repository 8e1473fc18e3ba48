"""DPGLearner: deterministic policy gradient with an n-step critic.

Each step takes a batch of sequences [B, T] from a uniform replay; every
transition t = 0..T-2 trains the critic towards n-step targets bootstrapped
with the target policy and target critic, and the policy up the critic's
action gradient (`losses.dpg_loss`); the targets then follow by Polyak
averaging (or hard copies). Batches are fetched outside the `tf.function`.
"""

from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from agents.dpg import losses
from agents.r2d2.learner import time_major
from ftw import core
from ftw import variable_utils
from ftw.tf import target_networks
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib


def _masked_mean(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  return tf.reduce_sum(x * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


class DPGLearner(core.Learner):
  """Trains `networks` (a `DPGNetworks`; `target` is a second one, its
  target networks) from sequences of transitions."""

  def __init__(self, networks, target, config, iterator: Iterator,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers_lib.Logger] = None):
    self._networks = networks
    self._target = target
    self._config = config
    self._iterator = iterator
    self._counter = counter or counting.Counter(prefix="learner")
    self._logger = logger
    self.policy_optimizer = snt.optimizers.Adam(config.policy_learning_rate)
    self.critic_optimizer = snt.optimizers.Adam(config.critic_learning_rate)
    # Slots now, not in the first trace (and restorable from a checkpoint).
    self.policy_optimizer._initialize(networks.policy.trainable_variables)  # pylint: disable=protected-access
    self.critic_optimizer._initialize(networks.critic.trainable_variables)  # pylint: disable=protected-access
    target_networks.hard_update(networks.variables, self._target.variables)
    self.target_updater = target_networks.TargetUpdater(
        networks.variables, self._target.variables,
        period=config.target_update_period, tau=config.target_update_tau)
    self._step_fn = tf.function(self._step, autograph=False)
    self._step_log = counting.LearnerStepLog(self._counter, self._logger)

  @property
  def networks(self):
    return self._networks

  def _step(self, data) -> Dict[str, tf.Tensor]:
    c = self._config
    data = tree.map_structure(time_major, data)
    observations = tf.cast(data.observation, tf.float32)
    o_tm1, o_t = observations[:-1], observations[1:]
    a_tm1 = self._networks.from_env(data.action[:-1])
    rewards = c.reward_scale * tf.cast(data.reward[:-1], tf.float32)
    discounts = c.discount * tf.cast(data.discount[:-1], tf.float32)
    mask = tf.cast(data.mask[:-1], tf.float32)

    next_actions = self._target.policy(o_t).loc
    next_values = self._target.critic(o_t, next_actions)
    targets = losses.critic_targets(next_values, rewards, discounts, c.n_step)

    policy = self._networks.policy
    critic = self._networks.critic
    with tf.GradientTape(persistent=True) as tape:
      q_values = critic(o_tm1, a_tm1)
      critic_loss = _masked_mean(
          losses.critic_loss(q_values, targets), mask)
      actions = policy(o_tm1).loc
      with tf.GradientTape() as action_tape:
        action_tape.watch(actions)
        q_policy = critic(o_tm1, actions)
      dq_da = action_tape.gradient(q_policy, actions)
      policy_loss = _masked_mean(
          losses.dpg_loss(actions, dq_da, c.dqda_clipping), mask)
    metrics = {}
    for name, loss, module, optimizer in (
        ("critic", critic_loss, critic, self.critic_optimizer),
        ("policy", policy_loss, policy, self.policy_optimizer)):
      variables = module.trainable_variables
      grads = tape.gradient(loss, variables)
      grads, norm = tf.clip_by_global_norm(grads, c.max_gradient_norm)
      optimizer.apply(grads, variables)
      metrics[f"{name}_loss"] = loss
      metrics[f"{name}_grad_norm"] = norm
    del tape
    self.target_updater()
    metrics.update(
        mean_q=_masked_mean(q_values, mask),
        mean_policy_q=_masked_mean(q_policy, mask),
        mean_target=_masked_mean(targets, mask),
        mean_abs_dq_da=_masked_mean(
            tf.reduce_mean(tf.abs(dq_da), -1), mask))
    return metrics

  def step(self) -> Dict[str, float]:
    self._check_open()
    sample = next(self._iterator)
    metrics = self._step_fn(getattr(sample, "data", sample))
    return self._step_log.record(metrics)

  def checkpoint_objects(self) -> Dict[str, Any]:
    """What a checkpoint of this learner holds (TF trackables by name)."""
    return {"networks": self._networks, "target_networks": self._target,
            "policy_optimizer": self.policy_optimizer,
            "critic_optimizer": self.critic_optimizer,
            "target_updater": self.target_updater}

  VARIABLE_GROUPS = ("policy", "critic")

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    """Values of the policy's or the critic's variables, per name."""
    core.check_variable_groups(names, self.VARIABLE_GROUPS)
    modules = {"policy": self._networks.policy,
               "critic": self._networks.critic}
    # Served to other threads: no module name scope is entered.
    return [[v.numpy() for v in variable_utils.unscoped_variables(modules[n])]
            for n in names]
