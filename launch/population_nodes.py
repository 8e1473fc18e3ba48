"""Ray actor classes of a population job (`launch.population`).

  ControllerNode  the population's `PopulationController` (Elo, matchmaking,
                  PBT decisions, lineage and Elo logs) and the job's counts;
                  saves its state to `<logdir>/population/controller.json`
                  and reloads it when Ray restarts it or on `--resume`.
  AgentNode       one agent: its Reverb server (its own tables), network,
                  learner and checkpointer (`<logdir>/agent_<i>/`); trains in
                  a thread; every `pbt_interval` learner steps asks the
                  controller for a PBT decision and, on an exploit, copies
                  the chosen agent's weights and optimiser state from that
                  agent's node and takes the new settings.
  MatchActorNode  A arenas of a team game, every agent's network (weights
                  pulled from its AgentNode), a `PopulationActor` playing
                  rounds of matches the controller makes.

Nodes reach each other only through Ray handles (settings, weights, counts)
and Reverb (trajectories). Working nodes start their loop in `__init__`, so
a process Ray restarts goes back to work by itself (an AgentNode restores
its latest checkpoint and serves its replay on the same port).
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import json
import os
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

import ray

from ftw.utils import counting
from ftw.utils import tf_threads

from launch import ray_helpers

CONTROLLER_STATE = os.path.join("population", "controller.json")


def agent_logdir(logdir: str, agent: int) -> str:
  return os.path.join(logdir, f"agent_{agent}")


class ControllerNode:
  """The population's decisions and counts (see the module docstring)."""

  def __init__(self, population, hyperparameters, internal_reward_weights,
               weight_names, logdir: str, players_per_team: int,
               resume: bool = False, event_names=None):
    from ftw.population.controller import PopulationController  # pylint: disable=g-import-not-at-top
    self._path = os.path.join(logdir, CONTROLLER_STATE)
    self._counter = counting.Counter()
    restore = (resume or ray_helpers.node_info()["restarted"]) and (
        os.path.exists(self._path))
    if restore:
      with open(self._path) as f:
        saved = json.load(f)
      self._controller = PopulationController.restore(
          saved["controller"], logdir=logdir, population=population)
      self._counter.restore(saved["counts"])
      print(f"[controller] restored {self._path} "
            f"({saved['controller']['minutes']:.1f} min, "
            f"{saved['counts'].get('actor_steps', 0):,.0f} player steps)",
            flush=True)
    else:
      self._controller = PopulationController(
          population, hyperparameters, internal_reward_weights,
          weight_names=weight_names, logdir=logdir,
          players_per_team=players_per_team, event_names=event_names)
    self.restored = restore
    self._lock = threading.Lock()

  # Counts, as `ray_helpers.CounterProxy` expects of a counter node.
  def increment(self, **counts) -> Dict[str, float]:
    return self._counter.increment(**counts)

  def get_counts(self) -> Dict[str, float]:
    return self._counter.get_counts()

  # The population's decisions.
  def matches(self, n: int):
    return self._controller.matches(n)

  def report(self, team_a, team_b, score_a: float, events=None):
    self._controller.report(team_a, team_b, score_a, events)

  def agent_settings(self, agent: int):
    return self._controller.agent_settings(agent)

  def pbt_check(self, agent: int, learner_steps: int):
    decision = self._controller.pbt_check(agent, learner_steps)
    if decision is not None and decision.copied_from is not None:
      self.save()  # A copy is a lineage event: keep it across a crash.
    return decision

  def summary(self) -> Dict[str, Any]:
    return self._controller.summary()

  def log(self, force: bool = False):
    self._controller.log(force=force)

  def save(self) -> str:
    """Writes the controller's state and the counts (atomically)."""
    with self._lock:
      state = {"controller": self._controller.state(),
               "counts": dict(self._counter.save())}
      os.makedirs(os.path.dirname(self._path), exist_ok=True)
      tmp = self._path + ".tmp"
      with open(tmp, "w") as f:
        json.dump(state, f)
      os.replace(tmp, self._path)
    return self._path

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "counts": self._counter.get_counts(),
            "restored": self.restored}


class AgentNode:
  """One agent of the population: replay, learner, checkpoints, PBT steps."""

  def __init__(self, config, agent: int, logdir: str, controller,
               replay_port: int, population, peer_names: Sequence[str],
               resume: bool = False, specs=None):
    # The learner's process: the config's pools, as for launch.local and
    # the Ray LearnerNode (with (1, 1) it could not use a larger machine).
    tf_threads.set_tensorflow_threads(config.intra_op_threads,
                                      config.inter_op_threads, "agent node")
    import reverb  # pylint: disable=g-import-not-at-top
    from agents import registry  # pylint: disable=g-import-not-at-top
    from agents.ftw import population_member  # pylint: disable=g-import-not-at-top
    from ftw.utils import checkpointing  # pylint: disable=g-import-not-at-top
    from ftw.utils import loggers  # pylint: disable=g-import-not-at-top
    self._agent = agent
    self._config = config
    self._population = population
    self._controller = controller
    self._member = population_member
    # Names given to the constructor: a process Ray restarts runs it again
    # and knows its peers (a call after start-up would die with the process).
    self._peer_names = list(peer_names)
    self._stopping = threading.Event()
    builder = registry.make_builder(config, specs)
    self._server = reverb.Server(builder.make_replay_tables(),
                                 port=replay_port)
    self._address = f"{ray.util.get_node_ip_address()}:{self._server.port}"
    self._counter = counting.Counter(prefix="learner")
    logdir = agent_logdir(logdir, agent)
    network = builder.make_network(variable_period=True,
                                   seed=config.seed + 7919 * agent)
    self._learner = builder.make_learner(
        network, f"localhost:{self._server.port}", counter=self._counter,
        logger=loggers.make_logger("learner", logdir, "learner_steps",
                                   print_every_seconds=None),
        should_stop=self._stopping.is_set)
    self._checkpointer = checkpointing.learner_checkpointer(
        self._learner, logdir, config.checkpoint_every_seconds,
        get_state=lambda: {"counts": dict(self._counter.save())},
        set_state=lambda s: self._counter.restore(s["counts"]))
    info = ray_helpers.node_info()
    self.restored_from = None
    if (resume or info["restarted"]) and self._checkpointer.restore():
      self.restored_from = self._checkpointer.latest
      print(f"[agent_{agent}] restored {self.restored_from}", flush=True)
    # The controller's settings are the truth (a restored checkpoint agrees
    # with them unless an exploit happened after it was written).
    hyperparameters, weights = ray.get(
        controller.agent_settings.remote(agent),
        timeout=ray_helpers.REMOTE_TIMEOUT_S)
    population_member.apply_settings(self._learner, hyperparameters, weights)
    self.exploits = 0
    self._last_check = self.learner_steps
    self._loop = ray_helpers.LoopThread(f"agent_{agent}", self._step).start()

  @property
  def learner_steps(self) -> int:
    return int(self._counter.get_counts().get("learner_steps", 0))

  def address(self) -> str:
    return self._address

  def _step(self) -> bool:
    limit = self._config.max_learner_steps
    if limit is not None and self.learner_steps >= limit:
      return False
    self._learner.step()
    self._checkpointer.save()
    steps = self.learner_steps
    if steps - self._last_check >= self._population.pbt_interval:
      self._last_check = steps
      self._pbt_step(steps)
    return True

  def _pbt_step(self, steps: int):
    stop = self._loop.stop_event
    decision = ray_helpers.get_unless_stopped(
        self._controller.pbt_check.remote(self._agent, steps), stop)
    if decision is None or decision.copied_from is None:
      return
    source = decision.copied_from
    peer = ray.get_actor(self._peer_names[source])
    # A peer that is stopping answers only after its own stop: do not wait.
    state = ray_helpers.get_unless_stopped(
        peer.get_state.remote(), stop, ray_helpers.REMOTE_TIMEOUT_S * 4)
    if state is None:
      return
    # The loop's own thread: no step runs meanwhile.
    self._learner.set_state(state)
    self._member.apply_settings(self._learner, decision.hyperparameters,
                                decision.internal_reward_weights)
    self.exploits += 1
    print(f"[agent_{self._agent}] step {steps}: copied agent {source} "
          f"(win probability {decision.win_probability:.2f}); perturbed "
          f"{', '.join(decision.perturbed) or 'nothing'}", flush=True)
    self._checkpointer.save(force=True)

  def get_state(self) -> List[Any]:
    """Weights, optimiser state and normalisers, for an exploiting peer.

    Read while this agent may be training (a lock would make the peer wait
    for this agent's next batch, which may be long in coming): a copy taken
    during an update mixes values one step apart, as an actor's weights do.
    """
    return self._learner.get_state()

  def get_variables(self, names: Sequence[str]) -> List[List[Any]]:
    return self._learner.get_variables(names)

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "agent": self._agent,
            "learner_steps": self.learner_steps, "exploits": self.exploits,
            "running": self._loop.running, "error": self._loop.error,
            "restored_from": self.restored_from, "address": self._address,
            "closed": self._learner.closed, "tf_threads": tf_threads.pools()}

  def stop(self, timeout: float = 10.0) -> Optional[str]:
    """Stops training, then the replay server, and checkpoints.

    The loop goes first: a learner waiting on an empty queue notices the
    stop when its dataset's rate-limiter timeout ends the wait (about a
    second). With the server stopped first, the learner sat in the
    dataset's get_next until the join's timeout (10 s, in two of two stops
    measured), and the loop was left running.
    """
    self._stopping.set()
    self._loop.stop(timeout)
    self._server.stop()
    path = self._checkpointer.save(force=True)
    if not self._loop.running:  # Its replay readers let go now.
      self._learner.close()
    return path


class MatchActorNode:
  """Plays rounds of matches between the population's agents."""

  def __init__(self, config, actor_id: int, logdir: str, agents: Sequence[Any],
               addresses: Sequence[str], controller,
               first_weights_timeout: float = 300.0, specs=None):
    ray_helpers.limit_tensorflow_threads()
    import reverb  # pylint: disable=g-import-not-at-top
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from agents import registry  # pylint: disable=g-import-not-at-top
    from agents.ftw.population_actor import PopulationActor  # pylint: disable=g-import-not-at-top
    from ftw import variable_utils  # pylint: disable=g-import-not-at-top
    from ftw.utils import loggers  # pylint: disable=g-import-not-at-top
    self._id = actor_id
    seed = config.seed + 1000 * actor_id
    tf.random.set_seed(seed)
    builder = registry.make_builder(config, specs)
    self._env = builder.make_environment(seed=seed, num_envs=config.num_envs)
    self._env_closed = False
    networks = [builder.make_network(variable_period=True)
                for _ in range(len(agents))]
    clients = [variable_utils.VariableClient(
        ray_helpers.RemoteVariableSource(agent), net.variables,
        update_period=config.variable_update_period, asynchronous=True)
               for agent, net in zip(agents, networks)]
    for client in clients:
      ray_helpers.wait_for_weights(client, first_weights_timeout)
    self._replay = [reverb.Client(address) for address in addresses]
    self._controller = controller
    self._proxy = ray_helpers.CounterProxy(controller, flush_every_seconds=1.0)
    self._logger = loggers.make_logger(f"actor_{actor_id}", logdir,
                                       "actor_steps", print_every_seconds=None)
    self._actor = PopulationActor(
        self._env, networks,
        make_adder=lambda k, n: builder.make_adder(self._replay[k],
                                                   num_envs=n),
        next_matches=self._matches, report=self._report,
        variable_clients=clients,
        counter=counting.Counter(self._proxy, "actor"), seed=seed)
    self.steps = 0
    self.recent_returns: List[float] = []
    self._loop = ray_helpers.LoopThread(f"actor_{actor_id}", self._round)
    self._loop.start()

  def _matches(self, n: int):
    return ray.get(self._controller.matches.remote(n),
                   timeout=ray_helpers.REMOTE_TIMEOUT_S)

  def _report(self, match, score_a: float, events):
    self._controller.report.remote(tuple(match[0]), tuple(match[1]), score_a,
                                   events.tolist())

  def _round(self) -> bool:
    result = self._actor.run_round(should_stop=self._loop.stop_event.is_set)
    if result is None:
      return False  # Stopped inside the round: nothing to report.
    self.steps += result["steps"]
    returns = [r for rs in result["returns"].values() for r in rs]
    self.recent_returns = (self.recent_returns + returns)[-100:]
    counts = self._proxy.get_counts()
    self._logger.write({
        "actor_steps": counts.get("actor_steps", 0),
        "round_seconds": result["seconds"],
        "player_steps_per_second": result["steps"] / result["seconds"],
        "mean_return": sum(returns) / max(1, len(returns)),
        "team_a_score": sum(result["scores"]) / len(result["scores"])})
    return not self._loop.stop_event.is_set()

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "actor_id": self._id,
            "steps": self.steps, "running": self._loop.running,
            "error": self._loop.error, "rounds": self._actor.rounds,
            "env_closed": self._env_closed,
            "recent_returns": self.recent_returns[-20:],
            "tf_threads": tf_threads.pools()}

  def request_stop(self):
    self._loop.stop_event.set()

  def stop(self, timeout: float = 10.0) -> int:
    """Stops playing and sends the pending counts; a stopped loop's
    environments are closed. Returns the steps played."""
    self._loop.stop(timeout)
    self._proxy.flush()
    if not self._loop.running and not self._env_closed:
      self._env.close()
      self._env_closed = True
    return self.steps
