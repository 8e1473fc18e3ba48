"""FtwLearner: optimises the FtwNetwork on sequences sampled from Reverb."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from agents.ftw import losses
from agents.ftw.config import FtwConfig
from ftw import core
from ftw import variable_utils
from ftw.replay import layout
from ftw.tf import optimizers
from ftw.tf.networks import normalization
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib


def _time_major(x: tf.Tensor) -> tf.Tensor:
  perm = [1, 0] + list(range(2, x.shape.rank))
  return tf.transpose(x, perm)


def make_optimizer(config: FtwConfig, learning_rate: tf.Variable):
  if config.optimizer == "adam":
    # Sonnet's Adam, each variable's update one fused kernel (ftw.tf.optimizers).
    return optimizers.FusedAdam(learning_rate, epsilon=config.adam_epsilon)
  return snt.optimizers.RMSProp(learning_rate,
                                decay=config.rmsprop_decay,
                                epsilon=config.rmsprop_epsilon)


LOSS_WEIGHTS = ("entropy_cost", "baseline_cost", "kl_cost", "kl_prior_cost",
                "pixel_control_cost", "reward_prediction_cost")
"""Loss weights held as variables: population-based training changes them
while the traced step runs (with `learning_rate`, `HYPERPARAMETERS`)."""
HYPERPARAMETERS = ("learning_rate",) + LOSS_WEIGHTS
_SCHEDULED = ("learning_rate", "entropy_cost")  # See scheduled_values.


class _Hyperparameters(tf.Module):
  """The learner's mutable hyperparameters, one float32 variable each."""

  def __init__(self, config: FtwConfig):
    super().__init__(name="hyperparameters")
    self.values = {name: tf.Variable(float(getattr(config, name)),
                                     trainable=False, dtype=tf.float32,
                                     name=name)
                   for name in HYPERPARAMETERS}


class _LossConfig:
  """The config as the losses see it: loss weights read from variables.

  Only the weights are variables; every structural choice (which losses
  run, V-trace or n-step) stays the config's, fixed for the trace.
  """

  def __init__(self, config: FtwConfig, weights: Dict[str, tf.Variable]):
    self._config = config
    self._weights = weights

  def __getattr__(self, name):
    if name in LOSS_WEIGHTS:
      return self._weights[name]
    return getattr(self._config, name)


class FtwLearner(core.Learner):
  """V-trace / A2C learner with pixel control, reward prediction and KL.

  Batches are fetched from the iterators in Python and handed to a
  `tf.function` step (pulling `next()` inside the traced step has produced
  stale samples on this stack). Runs on a GPU when TensorFlow sees one.
  """

  _RELEASED_ON_CLOSE = ("_iterator", "_rp_iterator", "_make_rp_iterator",
                        "_rp_ready", "_step_fn")

  def __init__(self, network, config: FtwConfig, iterator: Iterator,
               make_reward_prediction_iterator: Optional[
                   Callable[[], Iterator]] = None,
               reward_prediction_ready: Callable[[], bool] = lambda: True,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers_lib.Logger] = None):
    """Creates the learner.

    Args:
      network: the FtwNetwork to train (variables created).
      config: the agent's config (loss weights, optimiser, limits).
      iterator: yields batches of sequence items (`reverb.ReplaySample`).
      make_reward_prediction_iterator: makes the iterator of balanced
        reward-prediction batches; None disables that loss.
      reward_prediction_ready: tells whether both reward-prediction tables
        hold data yet. Until they do (e.g. no non-zero reward was ever seen),
        the learner trains without that loss instead of waiting for it.
      counter: counts learner steps.
      logger: receives the losses of every step.
    """
    self._network = network
    self._config = config
    self._iterator = iterator
    self._make_rp_iterator = make_reward_prediction_iterator
    self._rp_ready = reward_prediction_ready
    self._rp_iterator = None
    self._use_rp = (config.reward_prediction_cost > 0 and
                    make_reward_prediction_iterator is not None)
    self._use_pc = config.pixel_control_cost > 0
    self._counter = counter or counting.Counter(prefix="learner")
    self._logger = logger
    # Variables, so the traced step sees schedule and population changes
    # without retracing.
    self._hyper = _Hyperparameters(config)
    # The values the schedules start from (set_hyperparameters moves them).
    self._base = {name: float(getattr(config, name)) for name in _SCHEDULED}
    # Only these change between steps (the others only by set_hyperparameters).
    self._moving = tuple(name for name, on in (
        ("learning_rate", config.learning_rate_schedule == "linear"),
        ("entropy_cost", config.final_entropy_cost is not None)) if on)
    # Value targets are learned standardised by running return statistics.
    self._return_normalizer = None
    if config.normalize_returns:
      self._return_normalizer = normalization.RunningMeanStd(
          clip=None, name="return_normalizer")
      self._return_normalizer.update(tf.zeros([0]))  # Create its variables.
    self.optimizer = make_optimizer(config, self._hyper.values["learning_rate"])
    # Sonnet optimisers create their slots on the first apply; inside the
    # traced step that costs a second full trace. Create them eagerly (this
    # also lets a checkpoint restore the slots right away).
    self.optimizer._initialize(network.trainable_variables)  # pylint: disable=protected-access
    self._step_fn = tf.function(self._step, jit_compile=config.jit_compile,
                                autograph=False)
    self._step_log = counting.LearnerStepLog(self._counter, self._logger)

  @property
  def network(self):
    return self._network

  def scheduled_values(self, learner_steps: int) -> Dict[str, float]:
    """The learning rate and entropy cost of step `learner_steps + 1`:
    'linear' learning rates fall to 0, and the entropy cost moves to
    `final_entropy_cost` if set, both reaching it at max_learner_steps."""
    config = self._config
    frac = (min(1.0, learner_steps / config.max_learner_steps)
            if config.max_learner_steps else 0.0)
    values = dict(self._base)
    if config.learning_rate_schedule == "linear":
      values["learning_rate"] *= 1.0 - frac
    if config.final_entropy_cost is not None:
      start = values["entropy_cost"]
      values["entropy_cost"] = (start +
                                (config.final_entropy_cost - start) * frac)
    return values

  def hyperparameters(self) -> Dict[str, float]:
    """Current values of `HYPERPARAMETERS` (scheduled ones before schedule)."""
    values = {k: float(v.numpy()) for k, v in self._hyper.values.items()}
    values.update(self._base)
    return values

  def set_hyperparameters(self, values: Dict[str, float]):
    """Sets some of `HYPERPARAMETERS`; the next step uses them.

    Raises:
      ValueError: a name not in `HYPERPARAMETERS`, or a negative value (a
        learning rate must be > 0).
    """
    unknown = sorted(set(values) - set(HYPERPARAMETERS))
    if unknown:
      raise ValueError(f"unknown hyperparameter(s) {unknown}; the learner "
                       f"has {HYPERPARAMETERS}")
    for name, value in values.items():
      value = float(value)
      positive = name == "learning_rate"
      if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, "
                         f"got {value}")
      self._hyper.values[name].assign(value)
      if name in self._base:
        self._base[name] = value

  def training_rewards(self, rewards: tf.Tensor) -> tf.Tensor:
    """The rewards the losses see: `w . events` when the network embeds
    internal rewards (FTW: [..., E] game events -> [...]), else as stored."""
    internal = getattr(self._network.embed, "internal_rewards", None)
    return rewards if internal is None else internal(rewards)

  def _unpack(self, data) -> Tuple[losses.Sequence, Optional[tf.Tensor]]:
    """Time-major sequence and the actor's RPTH noise [T, B, N] (or None).

    `data` is an item batch without its core state (`layout.split_core_state`);
    every leaf is transposed once.
    """
    data = tree.map_structure(_time_major, data)
    seq = losses.Sequence(
        observation=data.observation, action=data.action,
        reward=self.training_rewards(tf.cast(data.reward, tf.float32)),
        discount=tf.cast(data.discount, tf.float32),
        behaviour_logits=data.extras[layout.LOGITS_KEY],
        mask=tf.cast(data.mask, tf.float32))
    return seq, data.extras.get(layout.NOISE_KEY)

  def _step(self, data, rp_frames, rp_rewards,
            use_rp: bool) -> Dict[str, tf.Tensor]:
    config = _LossConfig(self._config, self._hyper.values)
    # The core state is stored once per item ([B, ...]), not per step.
    data, state = layout.split_core_state(data)
    seq, noise = self._unpack(data)
    torso = getattr(self._network.embed, "torso", None)
    if getattr(torso, "input_normalizer", None) is not None:
      frames = seq.observation.observation
      flat = tf.reshape(frames, [-1] + frames.shape[2:].as_list())
      torso.update_input_statistics(flat, tf.reshape(seq.mask, [-1]))
    with tf.GradientTape() as tape:
      outputs, _ = self._network.unroll(seq.observation, state, noise=noise)
      terms, stats, return_statistics = losses.policy_value_loss(
          config, seq, outputs, return_normalizer=self._return_normalizer,
          num_actions=self._network.num_actions)
      if self._use_pc:
        q_values = self._network.pixel_control_values(outputs.features)
        terms["pixel_control_loss"] = losses.pixel_control_term(
            config, seq, q_values, num_actions=self._network.num_actions)
      if use_rp:
        logits = self._network.reward_prediction_logits(rp_frames)
        terms["reward_prediction_loss"] = losses.reward_prediction_term(
            config, logits, self.training_rewards(rp_rewards))
      if (hasattr(outputs.core_output, "distribution_params") and
          (self._config.kl_cost > 0 or self._config.kl_prior_cost > 0)):
        terms.update(losses.rpth_kl_terms(config, outputs.core_output,
                                          seq.mask))
      total = tf.add_n(list(terms.values()))
    # The loss only reads the return statistics (its bootstrap values used
    # the old ones, its value targets the merged ones); they change here.
    if return_statistics is not None:
      self._return_normalizer.assign(return_statistics)
    variables = self._network.trainable_variables
    grads = tape.gradient(total, variables)
    grads, grad_norm = tf.clip_by_global_norm(grads, config.max_gradient_norm)
    self.optimizer.apply(grads, variables)
    terms.update(stats)
    terms.update(total_loss=total, grad_norm=grad_norm,
                 mean_value=tf.reduce_mean(outputs.value))
    return terms

  def step(self) -> Dict[str, float]:
    self._check_open()
    sample = next(self._iterator)
    data = getattr(sample, "data", sample)
    rp_frames = rp_rewards = tf.zeros([0])
    if self._use_rp and self._rp_iterator is None and self._rp_ready():
      self._rp_iterator = self._make_rp_iterator()
    if self._rp_iterator is not None:
      rp_frames, rp_rewards = next(self._rp_iterator)
    if self._moving:
      steps = self._counter.get_counts().get("learner_steps", 0)
      values = self.scheduled_values(steps)
      for name in self._moving:
        self._hyper.values[name].assign(values[name])
    # Two traces at most: before and after reward prediction has data.
    metrics = self._step_fn(data, rp_frames, rp_rewards,
                            self._rp_iterator is not None)
    return self._step_log.record(metrics)

  def checkpoint_objects(self) -> Dict[str, Any]:
    """What a checkpoint of this learner holds (TF trackables by name)."""
    objects = {"network": self._network, "optimizer": self.optimizer,
               "hyperparameters": self._hyper}
    if self._return_normalizer is not None:
      objects["return_normalizer"] = self._return_normalizer
    return objects

  def state_variables(self) -> List[tf.Variable]:
    """Everything population-based training copies from a better agent:
    the network's variables (incl. internal reward weights), the optimiser's
    slots and step, the return normaliser. Same order in every learner of
    one config."""
    # Peers read it from another thread: no module name scope is entered.
    unscoped = variable_utils.unscoped_variables
    variables = (list(unscoped(self._network)) +
                 list(unscoped(self.optimizer)))
    if self._return_normalizer is not None:
      variables += list(unscoped(self._return_normalizer))
    return variables

  def get_state(self) -> List[np.ndarray]:
    return [v.numpy() for v in self.state_variables()]

  def set_state(self, values: Sequence[np.ndarray]):
    variables = self.state_variables()
    if len(values) != len(variables):
      raise ValueError(f"state has {len(values)} arrays, this learner "
                       f"{len(variables)} variables: not the same config")
    for variable, value in zip(variables, values):
      variable.assign(value)

  # Variable groups an actor can ask for: the policy is the whole network
  # (actors also need the input statistics, which are not trainable).
  VARIABLE_GROUPS = ("policy", "network")

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    """Values of each named group's variables (Acme's VariableSource).

    Safe to call from other threads while the learner steps: it enters none
    of the network's name scopes (see `variable_utils.unscoped_variables`).

    Raises:
      ValueError: for a name not in `VARIABLE_GROUPS`.
    """
    core.check_variable_groups(names, self.VARIABLE_GROUPS)
    values = [v.numpy()
              for v in variable_utils.unscoped_variables(self._network)]
    return [values for _ in names]
