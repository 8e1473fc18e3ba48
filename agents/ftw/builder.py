"""FtwBuilder: makes every piece of the FTW agent from one FtwConfig.

Both launchers (local and Ray) build from here, so a node in a distributed
job is exactly the piece local training uses: `make_environment`,
`make_network`, `make_replay_tables`, `make_adder`, `make_dataset`,
`make_learner` and `make_actor` (Acme's builder names).
"""

from typing import Iterator, List, Optional, Tuple

import dm_env
import numpy as np
import reverb
import tensorflow as tf
import tree

from agents.ftw.actor import FtwActor
from agents.ftw.config import FtwConfig
from agents.ftw.learner import FtwLearner
from ftw import core
from ftw import envs
from ftw import replay
from ftw import types
from ftw import variable_utils
from ftw.envs.oar_wrapper import OARWrapper
from ftw.envs.vector_env import VectorEnv
from ftw.tf.networks.factory import make_ftw_network
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib

_RP_FRAMES = 3  # Frames per reward-prediction example, as in UNREAL.


class FtwBuilder:
  """Builds environments, network, replay, learner and actors."""

  def __init__(self, config: FtwConfig):
    self._config = config
    probe = self._make_single_env(seed=config.seed)
    self._observation_spec = probe.observation_spec()
    self._action_spec = probe.action_spec()
    if hasattr(probe, "close"):
      probe.close()
    if not hasattr(self._action_spec, "num_values"):
      raise ValueError(f"environment {config.environment!r} must have a "
                       f"discrete action spec, got {self._action_spec}")
    self.num_actions = int(self._action_spec.num_values)
    self._signature = None

  @property
  def config(self) -> FtwConfig:
    return self._config

  def _make_single_env(self, seed: int) -> dm_env.Environment:
    env = envs.make_environment(self._config.environment, seed=seed,
                                **self._config.environment_kwargs)
    return OARWrapper(env)

  def make_environment(self, seed: int, num_envs: Optional[int] = None
                       ) -> VectorEnv:
    """`num_envs` OAR-wrapped environments seeded seed, seed + 1, ..."""
    n = num_envs or self._config.num_envs
    return VectorEnv([lambda i=i: self._make_single_env(seed + i)
                      for i in range(n)])

  def make_network(self, create_variables: bool = True):
    """An FtwNetwork with its variables created (so they can be copied)."""
    c = self._config
    network = make_ftw_network(
        num_actions=self.num_actions, torso_hidden=c.torso_hidden_size,
        core=c.core, rpth_period=c.rpth_period, hidden_size=c.hidden_size,
        num_dimensions=c.num_dimensions, memory_size=c.memory_size,
        word_size=c.word_size, num_reads=c.num_reads,
        num_writes=c.num_writes, head_hidden_size=c.head_hidden_size,
        pixel_control=c.pixel_control_cost > 0,
        reward_prediction=c.reward_prediction_cost > 0)
    if create_variables:
      self._create_variables(network)
    return network

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

  def core_state_spec(self):
    """Per-environment (unbatched) TensorSpecs of the recurrent state."""
    network = self.make_network(create_variables=False)
    return tree.map_structure(
        lambda t: tf.TensorSpec(t.shape[1:], t.dtype),
        network.initial_state(1))

  def sequence_signature(self) -> replay.Step:
    """Spec of one sequence item (the datasets decode items with it)."""
    if self._signature is None:
      extras = {"logits": tf.TensorSpec([self.num_actions], tf.float32),
                replay.CORE_STATE_KEY: self.core_state_spec()}
      step = replay.make_step_spec(self._observation_spec, self._action_spec,
                                   extras)
      self._signature = replay.sequence_signature(
          step, self._config.sequence_length)
    return self._signature

  def reward_prediction_signature(self) -> replay.RewardPredictionItem:
    return replay.reward_prediction_signature(
        self._observation_spec.observation, _RP_FRAMES)

  def make_replay_tables(self) -> List[reverb.Table]:
    """The sequence queue and the two reward-prediction tables."""
    c = self._config
    tables = [replay.make_sequence_queue(
        replay.SEQUENCE_TABLE, c.queue_size, self.sequence_signature(),
        batch_size=c.batch_size)]
    if c.reward_prediction_cost > 0:
      tables.extend(replay.make_reward_prediction_tables(
          c.reward_prediction_table_size, self.reward_prediction_signature()))
    return tables

  def make_adder(self, client: reverb.Client,
                 num_envs: Optional[int] = None) -> replay.BatchedSequenceAdder:
    c = self._config
    rp_tables = ((replay.RP_ZERO_TABLE, replay.RP_NONZERO_TABLE)
                 if c.reward_prediction_cost > 0 else None)
    return replay.BatchedSequenceAdder(
        client, num_envs or c.num_envs, sequence_length=c.sequence_length,
        period=c.sequence_period, reward_prediction_tables=rp_tables,
        reward_prediction_frames=_RP_FRAMES)

  def make_dataset(self, server_address: str
                   ) -> Tuple[Iterator, Optional[Iterator]]:
    """Iterators over sequence batches and reward-prediction batches."""
    c = self._config
    # Our own signatures (not the server's) so items decode into ftw's
    # namedtuples (Step, OAR, RPTHState...) rather than look-alike classes.
    sequences = replay.make_sequence_dataset(
        server_address, batch_size=c.batch_size, prefetch=c.dataset_prefetch,
        signature=self.sequence_signature())
    rp = None
    if c.reward_prediction_cost > 0:
      rp = iter(replay.make_reward_prediction_dataset(
          server_address, c.reward_prediction_batch_size,
          prefetch=c.dataset_prefetch,
          signature=self.reward_prediction_signature()))
    return iter(sequences), rp

  def make_learner(self, network, server_address: str,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers_lib.Logger] = None) -> FtwLearner:
    iterator, rp_iterator = self.make_dataset(server_address)
    return FtwLearner(network, self._config, iterator, rp_iterator,
                      counter=counter, logger=logger)

  def make_actor(self, network, adder=None,
                 variable_source: Optional[core.VariableSource] = None,
                 greedy: bool = False, num_envs: Optional[int] = None,
                 asynchronous_updates: bool = False) -> FtwActor:
    client = None
    if variable_source is not None:
      client = variable_utils.VariableClient(
          variable_source, network.variables,
          update_period=self._config.variable_update_period,
          asynchronous=asynchronous_updates)
    return FtwActor(network, num_envs or self._config.num_envs, adder=adder,
                    variable_client=client, greedy=greedy)
