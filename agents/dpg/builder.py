"""DPGBuilder: makes every piece of the DPG agent from one DPGConfig.

The same builder names as `FtwBuilder` and `R2D2Builder`, so both launchers
run it. Environments are used as they are (no OAR wrapper: the policy is
feed-forward on vector observations); the action spec must be a bounded
float array, e.g. gymnasium's Pendulum-v1 through `ftw.envs`' adapter.
"""

from typing import Callable, Iterator, List, Optional

import numpy as np
import reverb
import tensorflow as tf
from dm_env import specs as dm_specs

from agents.dpg.actor import DPGActor
from agents.dpg.config import DPGConfig
from agents.dpg.learner import DPGLearner
from agents.dpg.networks import DPGNetworks
from agents.ftw.builder import AgentSpecs
from agents.r2d2 import replay as replay_lib
from ftw import core
from ftw import envs
from ftw import replay
from ftw import variable_utils
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib


def check_continuous_spec(spec, environment: str) -> None:
  """Raises ValueError unless `spec` is a float BoundedArray of rank <= 1."""
  ok = (isinstance(spec, dm_specs.BoundedArray) and
        np.issubdtype(spec.dtype, np.floating) and len(spec.shape) <= 1 and
        np.all(np.isfinite(spec.minimum)) and np.all(np.isfinite(spec.maximum)))
  if not ok:
    raise ValueError(f"environment {environment!r}: DPG needs a continuous "
                     "action spec (a float BoundedArray [A] with finite "
                     f"bounds), got {spec!r}")


class DPGBuilder:
  """Builds environments, networks, replay, learner and actors."""

  team_game = False

  def __init__(self, config: DPGConfig, specs: Optional[AgentSpecs] = None):
    self._config = config
    if specs is None:
      probe = self._make_single_env(config.seed)
      self._observation_spec = probe.observation_spec()
      self._action_spec = probe.action_spec()
      probe.close()
    else:
      self._observation_spec = specs.observation_spec
      self._action_spec = specs.action_spec
    check_continuous_spec(self._action_spec, config.environment)
    obs = self._observation_spec
    if not (hasattr(obs, "shape") and len(obs.shape) == 1):
      raise ValueError(f"environment {config.environment!r}: DPG needs a "
                       f"vector observation [O], got {obs!r}")

  @property
  def config(self) -> DPGConfig:
    return self._config

  @property
  def num_slots(self) -> int:
    return self._config.num_envs

  def _make_single_env(self, seed: int):
    return envs.make_environment(self._config.environment, seed=seed,
                                 **self._config.environment_kwargs)

  def make_environment(self, seed: int, num_envs: Optional[int] = None,
                       processes: Optional[int] = None):
    """`num_envs` environments seeded seed, seed + 1, ...

    They step in `processes` subprocesses (default: the config's
    `env_processes`; 0: in the caller's thread).
    """
    c = self._config
    return envs.make_vector_environment(
        self._make_single_env, seed, num_envs or c.num_envs,
        c.env_processes if processes is None else processes)

  def make_network(self, create_variables: bool = True,
                   seed: Optional[int] = None) -> DPGNetworks:
    """Policy and critic; the same seed builds the same weights."""
    c = self._config
    tf.random.set_seed(c.seed if seed is None else seed)
    networks = DPGNetworks(self._action_spec.minimum * np.ones(
        self._action_spec.shape), self._action_spec.maximum * np.ones(
            self._action_spec.shape), c.policy_layers, c.critic_layers,
                           c.exploration_sigma)
    if create_variables:
      observation = tf.zeros((1,) + tuple(self._observation_spec.shape))
      networks.critic(observation, networks.policy(observation).loc)
    return networks

  @property
  def specs(self) -> AgentSpecs:
    return AgentSpecs(self._observation_spec, self._action_spec, ())

  def sequence_signature(self) -> replay.Step:
    step = replay.make_step_spec(self._observation_spec, self._action_spec)
    return replay.sequence_signature(step, self._config.sequence_length)

  def make_replay_tables(self) -> List[reverb.Table]:
    c = self._config
    return [replay_lib.make_replay_table(
        replay_lib.REPLAY_TABLE, c.replay_size, c.min_replay_size,
        c.samples_per_insert, c.batch_size, prioritized=False,
        signature=self.sequence_signature())]

  def make_adder(self, client: reverb.Client, num_envs: Optional[int] = None,
                 seed: Optional[int] = None) -> replay.VectorSequenceAdder:
    del seed  # Nothing random in what is written.
    return replay_lib.make_adder(client, num_envs or self.num_slots,
                                 self._config)

  def make_dataset(self, server_address: str,
                   should_stop: Callable[[], bool] = lambda: False
                   ) -> Iterator:
    """Batches of `ReplaySample(info, data)`; see `ResumingIterator`."""
    return replay_lib.make_dataset(server_address, self._config,
                                   self.sequence_signature(), should_stop)

  def make_learner(self, network, server_address: str,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers_lib.Logger] = None,
                   should_stop: Callable[[], bool] = lambda: False
                   ) -> DPGLearner:
    return DPGLearner(network, self.make_network(), self._config,
                      self.make_dataset(server_address, should_stop),
                      counter=counter, logger=logger)

  def make_actor(self, network, adder=None,
                 variable_source: Optional[core.VariableSource] = None,
                 greedy: bool = False, num_envs: Optional[int] = None,
                 asynchronous_updates: bool = False, actor_id: int = 0,
                 num_actors: int = 1) -> DPGActor:
    """An exploring actor (Gaussian noise), or with `greedy` mu(s) itself."""
    del num_actors  # Every actor explores with the same sigma.
    c = self._config
    client = None
    if variable_source is not None:
      client = variable_utils.VariableClient(
          variable_source, network.policy.variables,
          update_period=c.variable_update_period,
          asynchronous=asynchronous_updates)
    return DPGActor(network, num_envs or self.num_slots, greedy=greedy,
                    adder=adder, variable_client=client,
                    seed=c.seed + 1000 * actor_id + (7 if greedy else 0))
