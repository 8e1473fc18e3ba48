"""R2D2Learner: recurrent Q-learning on prioritised sequences from Reverb."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from agents.r2d2 import losses
from agents.r2d2 import replay as replay_lib
from ftw import core
from ftw import variable_utils
from ftw.replay import layout
from ftw.tf import target_networks
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib


def time_major(x: tf.Tensor) -> tf.Tensor:
  """[B, T, ...] -> [T, B, ...]."""
  return tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))


def burn_in(network, observations, state, steps: int):
  """Unrolls `network` over the first `steps` observations from `state`.

  Returns (the state after them, without gradient; the remaining
  observations [T - steps, B, ...]). With steps = 0: (state, observations).
  """
  if steps == 0:
    return state, observations
  warm = tree.map_structure(lambda x: x[:steps], observations)
  _, state = network.unroll(warm, state)
  rest = tree.map_structure(lambda x: x[steps:], observations)
  return tree.map_structure(tf.stop_gradient, state), rest


class R2D2Learner(core.Learner):
  """Double Q-learning with burn-in, value rescaling and priorities.

  Each step: a batch of sequences [B, T] with the actor's core state at
  their first step; the online and target networks are burnt in over the
  first `burn_in` steps from that state, then unrolled over the rest; the
  TD loss (`losses.r2d2_loss`) is weighted by importance weights (when
  prioritised), the new priorities go back to Reverb, and the target
  network follows (hard every `target_update_period` steps, or Polyak).
  Batches are fetched outside the `tf.function`.
  """

  _RELEASED_ON_CLOSE = ("_iterator", "_write_priorities", "_step_fn")

  def __init__(self, network, target_network, config, iterator: Iterator,
               priority_writer: Optional[Callable[[np.ndarray, np.ndarray],
                                                  None]] = None,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers_lib.Logger] = None):
    self._network = network
    self._target_network = target_network
    self._config = config
    self._iterator = iterator
    self._write_priorities = priority_writer
    self._counter = counter or counting.Counter(prefix="learner")
    self._logger = logger
    self.optimizer = snt.optimizers.Adam(config.learning_rate,
                                         epsilon=config.adam_epsilon)
    # Slots now, not in the first trace (and restorable from a checkpoint).
    self.optimizer._initialize(network.trainable_variables)  # pylint: disable=protected-access
    target_networks.hard_update(network.variables, target_network.variables)
    self.target_updater = target_networks.TargetUpdater(
        network.variables, target_network.variables,
        period=config.target_update_period, tau=config.target_update_tau)
    self._step_fn = tf.function(self._step, autograph=False)
    self._step_log = counting.LearnerStepLog(self._counter, self._logger)

  @property
  def network(self):
    return self._network

  @property
  def target_network(self):
    return self._target_network

  def _step(self, data, probabilities, table_size) -> Dict[str, tf.Tensor]:
    c = self._config
    data, state = layout.split_core_state(data)
    data = tree.map_structure(time_major, data)
    b = c.burn_in
    online_state, observations = burn_in(self._network, data.observation,
                                         state, b)
    target_state, _ = burn_in(self._target_network, data.observation, state,
                              b)
    target_q, _ = self._target_network.unroll(observations, target_state)
    discounts = c.discount * tf.cast(data.discount[b:], tf.float32)
    with tf.GradientTape() as tape:
      q_values, _ = self._network.unroll(observations, online_state)
      out = losses.r2d2_loss(
          q_values, target_q, data.action[b:],
          tf.cast(data.reward[b:], tf.float32), discounts,
          tf.cast(data.mask[b:], tf.float32), n_step=c.n_step,
          td_target=c.td_target, double_q=c.double_q,
          value_rescaling=c.value_rescaling,
          rescaling_epsilon=c.rescaling_epsilon,
          loss_function=c.loss_function, priority_eta=c.priority_eta)
      if c.prioritized:
        weights = replay_lib.importance_weights(
            probabilities, table_size, c.importance_sampling_exponent)
      else:
        weights = tf.ones_like(out.loss)
      loss = tf.reduce_mean(weights * out.loss)
    variables = self._network.trainable_variables
    grads = tape.gradient(loss, variables)
    grads, grad_norm = tf.clip_by_global_norm(grads, c.max_gradient_norm)
    self.optimizer.apply(grads, variables)
    updated = self.target_updater()
    mask = tf.cast(data.mask[b:-1], tf.float32)
    return {
        "loss": loss, "grad_norm": grad_norm,
        "mean_q": tf.reduce_mean(out.action_values * mask) /
                  tf.maximum(tf.reduce_mean(mask), 1e-6),
        "mean_abs_td": tf.reduce_sum(tf.abs(out.td_errors)) /
                       tf.maximum(tf.reduce_sum(mask), 1.0),
        "priority_mean": tf.reduce_mean(out.priorities),
        "importance_weight_min": tf.reduce_min(weights),
        "target_updated": tf.cast(updated, tf.float32),
        "priorities": out.priorities,
    }

  def step(self) -> Dict[str, float]:
    self._check_open()
    sample = next(self._iterator)
    info = sample.info
    metrics = self._step_fn(sample.data, info.probability, info.table_size)
    priorities = metrics.pop("priorities")
    if self._write_priorities is not None and self._config.prioritized:
      self._write_priorities(info.key.numpy(), priorities.numpy())
    return self._step_log.record(metrics)

  def checkpoint_objects(self) -> Dict[str, Any]:
    """What a checkpoint of this learner holds (TF trackables by name)."""
    return {"network": self._network, "target_network": self._target_network,
            "optimizer": self.optimizer,
            "target_updater": self.target_updater}

  VARIABLE_GROUPS = ("policy", "network")

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    """The online network's values for each named group."""
    core.check_variable_groups(names, self.VARIABLE_GROUPS)
    # Served to other threads: no module name scope is entered.
    values = [v.numpy() for v in
              variable_utils.unscoped_variables(self._network)]
    return [values for _ in names]
