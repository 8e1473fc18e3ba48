"""FtwBuilder: makes every piece of the FTW agent from one FtwConfig.

Both launchers (local and Ray) build from here, so a node in a distributed
job is exactly the piece local training uses: `make_environment`,
`make_network`, `make_replay_tables`, `make_adder`, `make_dataset`,
`make_learner` and `make_actor` (Acme's builder names).
"""

from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Tuple

import dm_env
import reverb
import tensorflow as tf
import tree

from agents.ftw.actor import FtwActor
from agents.ftw.config import FtwConfig
from agents.ftw.learner import FtwLearner
from ftw import core
from ftw import envs
from ftw import replay
from ftw import variable_utils
from ftw.replay import layout
from ftw.replay.resuming import DATASET_TIMEOUT_MS
from ftw.replay.resuming import ResumingIterator
from ftw.envs.action_spaces import num_actions_from_spec
from ftw.envs.oar_wrapper import make_oar_environment
from ftw.tf.internal_reward.ftw_internal_reward import InternalRewards
from ftw.tf.networks.factory import make_ftw_network
from ftw.tf.networks.vision import fast_compute_dtype
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib

_RP_FRAMES = 3  # Frames per reward-prediction example, as in UNREAL.


class AgentSpecs(NamedTuple):
  """What every node needs to know of the environment and the network.

  observation_spec: one environment's (OAR-wrapped) observation spec.
  action_spec: one environment's action spec.
  core_state_spec: the recurrent state's per-environment TensorSpecs.
  """
  observation_spec: Any
  action_spec: Any
  core_state_spec: Any


class FtwBuilder:
  """Builds environments, network, replay, learner and actors.

  Without `specs` it learns them once from a probe environment (and the
  core-state spec from a network, when first needed); a distributed job
  computes them in its driver (`builder.specs`) and hands them to every node,
  so that no node builds an environment or a network just to learn shapes.
  """

  def __init__(self, config: FtwConfig, specs: Optional[AgentSpecs] = None):
    self._config = config
    self._core_state_spec = None
    if specs is None:
      probe = self._make_single_env(seed=config.seed)
      self._observation_spec = probe.observation_spec()
      self._action_spec = probe.action_spec()
      if hasattr(probe, "close"):
        probe.close()
    else:
      self._observation_spec = specs.observation_spec
      self._action_spec = specs.action_spec
      self._core_state_spec = specs.core_state_spec
    try:
      # An int, or a list of group sizes for a multi-discrete action.
      self.num_actions = num_actions_from_spec(self._action_spec)
    except ValueError as error:
      raise ValueError(f"environment {config.environment!r}: {error}") from None
    self._signature = None
    self._check_rewards()

  def _check_rewards(self):
    """A vector reward (game events) needs one internal reward weight per
    entry; a scalar reward may have a scalar weight or none."""
    shape = tuple(self._observation_spec.reward.shape)
    weights = self._config.internal_reward_weights
    if shape and (weights is None or len(weights) != shape[-1]):
      raise ValueError(
          f"environment {self._config.environment!r} rewards a vector of "
          f"{shape[-1]} game events: internal_reward_weights must have "
          f"{shape[-1]} entries (r = w . events), got {weights!r}")
    if not shape and weights is not None and len(weights) != 1:
      raise ValueError(
          f"environment {self._config.environment!r} has a scalar reward: "
          f"internal_reward_weights must be None or one weight, got "
          f"{weights!r}")

  @property
  def config(self) -> FtwConfig:
    return self._config

  @property
  def team_game(self) -> bool:
    """Whether each environment is an arena of several player slots."""
    return envs.is_team_game(self._config.environment)

  @property
  def num_slots(self) -> int:
    """Rows an actor steps: num_envs, times the players of a team game."""
    c = self._config
    if not self.team_game:
      return c.num_envs
    return c.num_envs * envs.team_game_players(c.environment,
                                               c.environment_kwargs)

  def _make_single_env(self, seed: int) -> dm_env.Environment:
    """One environment (one arena of a team game): its specs are the agent's."""
    if self.team_game:
      return self.make_environment(seed, num_envs=1)
    return make_oar_environment(self._config.environment, seed,
                                self._config.environment_kwargs)

  def make_environment(self, seed: int, num_envs: Optional[int] = None,
                       processes: Optional[int] = None,
                       threads: Optional[int] = None):
    """`num_envs` OAR-wrapped environments seeded seed, seed + 1, ...

    They step in `processes` subprocesses (default: the config's
    `env_processes`, capped at num_envs; 0: in the caller's thread), or in
    ale-py's vector environment on `threads` threads (default: the config's
    `env_threads`; Atari only; not with processes). A team
    game gives `num_envs` arenas as `CtfSlots` (each player a row), always
    in the caller's thread.
    """
    c = self._config
    n = num_envs or c.num_envs
    if self.team_game:
      return envs.make_team_game_slots(c.environment, n, seed,
                                       **c.environment_kwargs)
    processes = c.env_processes if processes is None else processes
    threads = c.env_threads if threads is None else threads
    if threads and processes:
      raise ValueError(f"threads ({threads}) and processes ({processes}): "
                       "choose one of them")
    if threads:
      return envs.make_atari_vector_environment(
          c.environment, seed, n, threads, **c.environment_kwargs)
    return envs.make_vector_environment(self._make_single_env, seed, n,
                                        processes)

  def make_network(self, create_variables: bool = True,
                   seed: Optional[int] = None,
                   variable_period: bool = False):
    """An FtwNetwork with its variables created (so they can be copied).

    Its initial weights and RPTH's sampling noise come from `seed`
    (default: config.seed): the same seed builds the same network (with
    `create_variables=False` nothing is seeded: the first call makes the
    variables). With `variable_period` RPTH's slow-core period is a
    (non-trainable) network variable, so population-based training can
    change it and actors receive it with the weights; learner and actors
    must agree on the choice.
    """
    c = self._config
    seed = c.seed if seed is None else seed
    if create_variables:
      # The process-wide seed: TF then clears its kernel cache, so functions
      # traced before (a learner's step) are instantiated again at their
      # next call, once. Launchers build their networks before training;
      # a network built only for its state shapes seeds nothing.
      tf.random.set_seed(seed)
    period = c.rpth_period
    if variable_period and c.core == "rpth":
      period = tf.Variable(c.rpth_period, trainable=False, dtype=tf.int32,
                           name="rpth_period")
    network = make_ftw_network(
        num_actions=self.num_actions, torso_hidden=c.torso_hidden_size,
        conv_filters=c.conv_filters, residual_filters=c.residual_filters,
        core=c.core, rpth_period=period, hidden_size=c.hidden_size,
        num_dimensions=c.num_dimensions, memory_size=c.memory_size,
        word_size=c.word_size, num_reads=c.num_reads,
        num_writes=c.num_writes, head_hidden_size=c.head_hidden_size,
        pixel_control=c.pixel_control_cost > 0,
        reward_prediction=c.reward_prediction_cost > 0,
        normalize_inputs=c.normalize_observations,
        torso_dtype=(fast_compute_dtype() if c.torso_dtype == "auto"
                     else c.torso_dtype),
        internal_rewards=self._internal_rewards())
    if hasattr(network.core, "reset_noise_seed"):
      network.core.reset_noise_seed(seed)
    if create_variables:
      self._create_variables(network)
    return network

  def _internal_rewards(self) -> Optional[InternalRewards]:
    weights = self._config.internal_reward_weights
    if weights is None:
      return None
    # A scalar reward gets a scalar weight (it scales the reward).
    vector = bool(self._observation_spec.reward.shape)
    return InternalRewards(weights if vector else weights[0])

  def _dummy_oar(self, leading: Tuple[int, ...]):
    return tree.map_structure(
        lambda s: tf.zeros(leading + tuple(s.shape), s.dtype),
        self._observation_spec)

  def _create_variables(self, network):
    # One unrolled step creates the core, embedding and heads; the auxiliary
    # heads are called once too, so every variable exists before copying.
    state = network.initial_state(1)
    outputs, _ = network.unroll(self._dummy_oar((1, 1)), state)
    if self._config.pixel_control_cost > 0:
      network.pixel_control_values(outputs.features)
    if self._config.reward_prediction_cost > 0:
      frames = self._dummy_oar((1, _RP_FRAMES)).observation
      network.reward_prediction_logits(frames)

  @property
  def specs(self) -> AgentSpecs:
    """The specs to hand to other builders of the same config."""
    return AgentSpecs(self._observation_spec, self._action_spec,
                      self.core_state_spec())

  def core_state_spec(self):
    """Per-environment (unbatched) TensorSpecs of the recurrent state."""
    if self._core_state_spec is None:
      network = self.make_network(create_variables=False)
      self._core_state_spec = tree.map_structure(
          lambda t: tf.TensorSpec(t.shape[1:], t.dtype),
          network.initial_state(1))
    return self._core_state_spec

  def sequence_signature(self) -> replay.Step:
    """Spec of one sequence item (the datasets decode items with it)."""
    if self._signature is None:
      others = {}
      if self._config.core == "rpth":  # The actor's latent noise per step.
        others[layout.NOISE_KEY] = tf.TensorSpec(
            [self._config.num_dimensions], tf.float32)
      extras = layout.extras_spec(self.num_actions, self.core_state_spec(),
                                  **others)
      # The stored reward has the shape of the OAR's previous reward (a
      # vector of game events in a team game).
      step = replay.make_step_spec(self._observation_spec, self._action_spec,
                                   extras,
                                   reward_spec=self._observation_spec.reward)
      self._signature = replay.sequence_signature(
          step, self._config.sequence_length)
    return self._signature

  def reward_prediction_signature(self) -> replay.RewardPredictionItem:
    return replay.reward_prediction_signature(
        self._observation_spec.observation, _RP_FRAMES,
        reward_shape=self._observation_spec.reward.shape)

  def make_replay_tables(self) -> List[reverb.Table]:
    """The sequence queue and the two reward-prediction tables."""
    c = self._config
    if c.samples_per_insert is None:
      tables = [replay.make_sequence_queue(
          replay.SEQUENCE_TABLE, c.queue_size, self.sequence_signature(),
          batch_size=c.batch_size)]
    else:
      tables = [replay.make_sequence_replay(
          replay.SEQUENCE_TABLE, c.replay_size, c.samples_per_insert,
          min_size=c.batch_size, signature=self.sequence_signature())]
    if c.reward_prediction_cost > 0:
      tables.extend(replay.make_reward_prediction_tables(
          c.reward_prediction_table_size, self.reward_prediction_signature()))
    return tables

  def make_adder(self, client: reverb.Client,
                 num_envs: Optional[int] = None,
                 seed: Optional[int] = None) -> replay.VectorSequenceAdder:
    c = self._config
    rp_tables = ((replay.RP_ZERO_TABLE, replay.RP_NONZERO_TABLE)
                 if c.reward_prediction_cost > 0 else None)
    return replay.VectorSequenceAdder(
        client, num_envs or self.num_slots, sequence_length=c.sequence_length,
        period=c.sequence_period, reward_prediction_tables=rp_tables,
        reward_prediction_frames=_RP_FRAMES,
        reward_prediction_zero_probability=(
            c.reward_prediction_zero_probability),
        seed=c.seed if seed is None else seed,
        # Waits on a full queue are cut in 1 s slices, so a writer notices a
        # stopped server within a second.
        flush_timeout_ms=1000)

  def make_dataset(self, server_address: str,
                   should_stop: Callable[[], bool] = lambda: False
                   ) -> Iterator:
    """Iterator over batches of sequences for the learner.

    It raises StopIteration once no batch arrives for a second and
    `should_stop()` is True, so a learner never hangs on an empty queue.
    """
    c = self._config
    # Our own signatures (not the server's) so items decode into ftw's
    # namedtuples (Step, OAR, RPTHState...) rather than look-alike classes.
    # Items taken from the queue are never dropped: a dataset that times
    # out mid-batch hands them over and the iterator completes the batch.
    return ResumingIterator(lambda: replay.make_sequence_dataset(
        server_address, batch_size=c.batch_size, prefetch=c.dataset_prefetch,
        signature=self.sequence_signature(),
        rate_limiter_timeout_ms=DATASET_TIMEOUT_MS, drop_remainder=False),
                            should_stop, batch_size=c.batch_size)

  def make_reward_prediction_dataset(
      self, server_address: str,
      should_stop: Callable[[], bool] = lambda: False) -> Iterator:
    """Iterator over balanced (zero / non-zero reward) frame stacks."""
    c = self._config
    return ResumingIterator(lambda: replay.make_reward_prediction_dataset(
        server_address, c.reward_prediction_batch_size,
        prefetch=c.dataset_prefetch,
        signature=self.reward_prediction_signature(),
        rate_limiter_timeout_ms=DATASET_TIMEOUT_MS), should_stop)

  def reward_prediction_ready(self, server_address: str) -> Callable[[], bool]:
    """A check that both reward-prediction tables hold a half batch."""
    client = reverb.Client(server_address)
    half = self._config.reward_prediction_batch_size // 2
    def ready() -> bool:
      info = client.server_info(timeout=5)
      return all(info[name].current_size >= half
                 for name in (replay.RP_ZERO_TABLE, replay.RP_NONZERO_TABLE))
    return ready

  def make_learner(self, network, server_address: str,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers_lib.Logger] = None,
                   should_stop: Callable[[], bool] = lambda: False
                   ) -> FtwLearner:
    """The learner; its `step()` raises StopIteration once should_stop()."""
    make_rp = ready = None
    if self._config.reward_prediction_cost > 0:
      make_rp = lambda: self.make_reward_prediction_dataset(server_address,
                                                            should_stop)
      ready = self.reward_prediction_ready(server_address)
    return FtwLearner(network, self._config,
                      self.make_dataset(server_address, should_stop),
                      make_reward_prediction_iterator=make_rp,
                      reward_prediction_ready=ready or (lambda: False),
                      counter=counter, logger=logger)

  def make_actor(self, network, adder=None,
                 variable_source: Optional[core.VariableSource] = None,
                 greedy: bool = False, num_envs: Optional[int] = None,
                 asynchronous_updates: bool = False,
                 seed: Optional[int] = None) -> FtwActor:
    """An FtwActor whose sampling is seeded by `seed` (default config.seed)."""
    client = None
    if variable_source is not None:
      client = variable_utils.VariableClient(
          variable_source, network.variables,
          update_period=self._config.variable_update_period,
          asynchronous=asynchronous_updates)
    return FtwActor(network, num_envs or self.num_slots, adder=adder,
                    variable_client=client, greedy=greedy,
                    seed=self._config.seed if seed is None else seed)
