"""R2D2Builder: makes every piece of the R2D2 agent from one R2D2Config.

Acme's builder names, as `FtwBuilder` has them, so `launch.local` and
`launch.distributed` build either agent the same way: `make_environment`,
`make_network`, `make_replay_tables`, `make_adder`, `make_dataset`,
`make_learner`, `make_actor`.
"""

from typing import Callable, Iterator, List, Optional

import numpy as np
import reverb
import tensorflow as tf
import tree

from agents.ftw.builder import AgentSpecs
from agents.r2d2 import replay as replay_lib
from agents.r2d2.actor import R2D2Actor
from agents.r2d2.config import R2D2Config
from agents.r2d2.learner import R2D2Learner
from agents.r2d2.networks import make_r2d2_network
from ftw import core
from ftw import envs
from ftw import replay
from ftw import variable_utils
from ftw.envs.action_spaces import num_actions_from_spec
from ftw.envs.oar_wrapper import make_oar_environment
from ftw.replay import layout
from ftw.tf import resolvers
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib


class R2D2Builder:
  """Builds environments, networks, replay, learner and actors.

  Without `specs` it learns them from a probe environment; a distributed job
  computes them once in its driver (`builder.specs`) and hands them out.
  """

  team_game = False  # Every row is one single-player environment.

  def __init__(self, config: R2D2Config, specs: Optional[AgentSpecs] = None):
    if envs.is_team_game(config.environment):
      raise ValueError(f"environment {config.environment!r}: R2D2 plays "
                       "single-player environments only")
    self._config = config
    self._core_state_spec = None
    if specs is None:
      probe = self._make_single_env(config.seed)
      self._observation_spec = probe.observation_spec()
      self._action_spec = probe.action_spec()
      probe.close()
    else:
      self._observation_spec = specs.observation_spec
      self._action_spec = specs.action_spec
      self._core_state_spec = specs.core_state_spec
    try:
      self.num_actions = num_actions_from_spec(self._action_spec)
    except ValueError as error:
      raise ValueError(f"environment {config.environment!r}: {error}") from None
    if not isinstance(self.num_actions, int):
      raise ValueError(f"environment {config.environment!r}: R2D2 needs one "
                       f"discrete action, got groups {self.num_actions}")

  @property
  def config(self) -> R2D2Config:
    return self._config

  @property
  def num_slots(self) -> int:
    return self._config.num_envs

  def _make_single_env(self, seed: int):
    return make_oar_environment(self._config.environment, seed,
                                self._config.environment_kwargs)

  def make_environment(self, seed: int, num_envs: Optional[int] = None,
                       processes: Optional[int] = None):
    """`num_envs` OAR-wrapped environments seeded seed, seed + 1, ...

    They step in `processes` subprocesses (default: the config's
    `env_processes`; 0: in the caller's thread).
    """
    c = self._config
    return envs.make_vector_environment(
        self._make_single_env, seed, num_envs or c.num_envs,
        c.env_processes if processes is None else processes)

  def make_network(self, create_variables: bool = True,
                   seed: Optional[int] = None):
    """A RecurrentQNetwork; the same seed builds the same weights."""
    tf.random.set_seed(self._config.seed if seed is None else seed)
    network = make_r2d2_network(self.num_actions, self._config)
    if create_variables:
      dummy = tree.map_structure(
          lambda s: tf.zeros((1, 1) + tuple(s.shape), s.dtype),
          self._observation_spec)
      network.unroll(dummy, network.initial_state(1))
    return network

  @property
  def specs(self) -> AgentSpecs:
    return AgentSpecs(self._observation_spec, self._action_spec,
                      self.core_state_spec())

  def core_state_spec(self):
    """Per-environment (unbatched) TensorSpecs of the recurrent state."""
    if self._core_state_spec is None:
      state = self.make_network(create_variables=False).initial_state(1)
      self._core_state_spec = tree.map_structure(
          lambda t: tf.TensorSpec(t.shape[1:], t.dtype), state)
    return self._core_state_spec

  def sequence_signature(self) -> replay.Step:
    """Spec of one item: T steps, the core state once."""
    extras = {layout.CORE_STATE_KEY: self.core_state_spec()}
    step = replay.make_step_spec(self._observation_spec, self._action_spec,
                                 extras,
                                 reward_spec=self._observation_spec.reward)
    return replay.sequence_signature(step, self._config.sequence_length)

  def make_replay_tables(self) -> List[reverb.Table]:
    c = self._config
    return [replay_lib.make_replay_table(
        replay_lib.REPLAY_TABLE, c.replay_size, c.min_replay_size,
        c.samples_per_insert, c.batch_size, c.prioritized,
        c.priority_exponent, self.sequence_signature())]

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
                   ) -> R2D2Learner:
    """The learner with a target network copied from `network`."""
    writer = replay_lib.PriorityWriter(reverb.Client(server_address))
    return R2D2Learner(network, self.make_network(),
                       self._config,
                       self.make_dataset(server_address, should_stop),
                       priority_writer=writer, counter=counter, logger=logger)

  def epsilons(self, actor_id: int = 0, num_actors: int = 1,
               num_envs: Optional[int] = None):
    """Per-row epsilons of actor `actor_id` of `num_actors`, or a schedule.

    Ape-X: every row of every actor is one of N = num_actors * num_envs
    explorers, row r of actor k being explorer k * num_envs + r.
    """
    c = self._config
    n = num_envs or self.num_slots
    if c.exploration == "linear":
      return resolvers.LinearSchedule(c.epsilon, c.epsilon_final,
                                      c.epsilon_decay_steps)
    table = resolvers.apex_epsilons(num_actors * n, c.epsilon, c.apex_alpha)
    return table[actor_id * n:(actor_id + 1) * n]

  def make_actor(self, network, adder=None,
                 variable_source: Optional[core.VariableSource] = None,
                 greedy: bool = False, num_envs: Optional[int] = None,
                 asynchronous_updates: bool = False, actor_id: int = 0,
                 num_actors: int = 1) -> R2D2Actor:
    """An exploring actor, or with `greedy` the evaluator's (eval_epsilon)."""
    c = self._config
    n = num_envs or self.num_slots
    client = None
    if variable_source is not None:
      client = variable_utils.VariableClient(
          variable_source, network.variables,
          update_period=c.variable_update_period,
          asynchronous=asynchronous_updates)
    if greedy:
      return R2D2Actor(network, n, epsilons=np.float32(c.eval_epsilon),
                       variable_client=client)
    temperature = (c.boltzmann_temperature if c.exploration == "boltzmann"
                   else None)
    return R2D2Actor(network, n,
                     epsilons=self.epsilons(actor_id, num_actors, n),
                     temperature=temperature, adder=adder,
                     variable_client=client)
