"""Ray actor classes: the nodes of a distributed ftw job.

Each class is a plain Python class; `launch.distributed` wraps it with
`ray.remote(...)` using its `program.NodeSpec`. Every node builds its part from
its agent's builder (`agents.registry`: `FtwBuilder` for an `FtwConfig`)
exactly as `launch.local` does, from the specs the driver
computed once (`specs`, an `AgentSpecs`), and talks to the others only
through Ray handles (weights, counts, control) and Reverb (trajectories):

  CounterNode    the job's counts (actor_steps, learner_steps, ...).
  ReplayNode     the reverb.Server; `address()` is "<node ip>:<port>".
  LearnerNode    network + learner + Checkpointer; trains in a thread;
                 serves `get_variables`; restores its checkpoint when Ray
                 restarts it (counts stay in the CounterNode).
  ActorNode      N environments + adder + actor pulling weights from the
                 learner; acts in a thread.
  EvaluatorNode  greedy actor; every `eval_every_seconds` plays
                 `eval_episodes` episodes, logs `<logdir>/evaluator/logs.csv`.

Working nodes start their loop in `__init__`, so a process Ray restarts goes
back to work by itself. A loop that raises keeps the process alive and shows
the error in `status()`; the driver then restarts the node (`ray.kill` with
restart). Every remote wait has a timeout.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import ray

from ftw.utils import counting
from ftw.utils import tf_threads

from launch import ray_helpers


class CounterNode:
  """Holds the job's counts; nodes reach it through `ray_helpers.CounterProxy`."""

  def __init__(self):
    self._counter = counting.Counter()

  def increment(self, **counts) -> Dict[str, float]:
    return self._counter.increment(**counts)

  def get_counts(self) -> Dict[str, float]:
    return self._counter.get_counts()

  def save(self) -> Dict[str, float]:
    return dict(self._counter.save())

  def restore(self, state: Dict[str, float]):
    self._counter.restore(state)

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "counts": self._counter.get_counts()}


class ReplayNode:
  """Hosts the Reverb server with the builder's tables."""

  def __init__(self, config, specs=None):
    import reverb  # pylint: disable=g-import-not-at-top
    from agents import registry  # pylint: disable=g-import-not-at-top
    ray_helpers.limit_tensorflow_threads()
    tables = registry.make_builder(config, specs).make_replay_tables()
    self._server = reverb.Server(tables, port=config.replay_port)
    # The node's IP, not localhost: actors on other machines connect to it.
    self._address = f"{ray.util.get_node_ip_address()}:{self._server.port}"

  def address(self) -> str:
    return self._address

  def stop(self):
    self._server.stop()

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "address": self._address}


class LearnerNode:
  """Network, learner and checkpointer; trains in a background thread.

  On construction the latest checkpoint of `<logdir>/checkpoints` is restored
  when Ray restarted this node (counts stay as the CounterNode holds them) or
  when `resume` is set (then the checkpoint's counts are put back into the
  CounterNode too, as `launch.local --resume` does).
  """

  def __init__(self, config, logdir: str, replay_address: str, counter,
               resume: bool = False, specs=None):
    tf_threads.set_tensorflow_threads(config.intra_op_threads,
                                      config.inter_op_threads, "learner node")
    from agents import registry  # pylint: disable=g-import-not-at-top
    from ftw.utils import checkpointing  # pylint: disable=g-import-not-at-top
    from ftw.utils import loggers  # pylint: disable=g-import-not-at-top
    self._config = config
    self._counter_handle = counter
    # Learner steps are sent one by one: the limit check below sees them all.
    self._counts = ray_helpers.CounterProxy(counter, flush_every_seconds=0.0)
    builder = registry.make_builder(config, specs)
    network = builder.make_network()
    self._learner = builder.make_learner(
        network, replay_address,
        counter=counting.Counter(self._counts, "learner"),
        logger=loggers.make_logger("learner", logdir, "learner_steps",
                                   print_every_seconds=None))
    info = ray_helpers.node_info()
    restore_counts = resume and not info["restarted"]
    self._checkpointer = checkpointing.learner_checkpointer(
        self._learner, logdir, config.checkpoint_every_seconds,
        get_state=lambda: {"counts": ray.get(counter.save.remote(),
                                             timeout=ray_helpers.REMOTE_TIMEOUT_S)},
        set_state=(self._restore_counts if restore_counts else None))
    self.restored_from = None
    if (resume or info["restarted"]) and self._checkpointer.restore():
      self.restored_from = self._checkpointer.latest
      print(f"[learner] restored {self.restored_from} "
            f"({'restart' if info['restarted'] else 'resume'})", flush=True)
    self._counts.flush()  # Fresh counts for the limit check.
    self._steps = 0
    self._loop = ray_helpers.LoopThread("learner", self._step).start()

  def _restore_counts(self, state: Dict[str, Any]):
    ray.get(self._counter_handle.restore.remote(state["counts"]),
            timeout=ray_helpers.REMOTE_TIMEOUT_S)

  def _step(self) -> bool:
    limit = self._config.max_learner_steps
    if limit is not None and self._counts.get_counts().get(
        "learner_steps", 0) >= limit:
      return False  # Done: the driver sees the count and stops the job.
    self._learner.step()
    self._steps += 1
    self._checkpointer.save()
    return True

  def get_variables(self, names: Sequence[str]) -> List[List[Any]]:
    return self._learner.get_variables(names)

  def get_counts(self) -> Dict[str, float]:
    return self._counts.get_counts()

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "steps": self._steps, "running": self._loop.running,
            "error": self._loop.error, "restored_from": self.restored_from,
            "closed": self._learner.closed, "tf_threads": tf_threads.pools()}

  def stop(self, timeout: float = 10.0) -> Optional[str]:
    """Stops training and writes a checkpoint; returns its path.

    A learner blocked on an empty queue wakes when the replay server stops;
    if it is still stepping after `timeout` the checkpoint is written anyway.
    A stopped loop's learner is closed (its replay readers let go now); its
    variables stay readable for the final evaluation.
    """
    self._loop.stop(timeout)
    path = self._checkpointer.save(force=True)
    if not self._loop.running:
      self._learner.close()
    return path


class _PerActorCounts:
  """Parent counter sending 'actor_x' counts also as 'actor_<id>_x'."""

  def __init__(self, proxy: ray_helpers.CounterProxy, actor_id: int):
    self._proxy = proxy
    self._id = actor_id
    self.local_steps = 0

  def increment(self, **counts):
    self.local_steps += counts.get("actor_steps", 0)
    own = {k.replace("actor_", f"actor_{self._id}_", 1): v
           for k, v in counts.items()}
    return self._proxy.increment(**counts, **own)

  def get_counts(self):
    return self._proxy.get_counts()


class ActorNode:
  """Steps `num_envs` environments, writes sequences to Reverb."""

  def __init__(self, config, logdir: str, actor_id: int, replay_address: str,
               learner, counter, first_weights_timeout: float = 300.0,
               specs=None, num_actors: int = 1):
    ray_helpers.limit_tensorflow_threads()  # Before anything builds a tensor.
    import reverb  # pylint: disable=g-import-not-at-top
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from agents import registry  # pylint: disable=g-import-not-at-top
    from ftw import environment_loop  # pylint: disable=g-import-not-at-top
    from ftw import replay  # pylint: disable=g-import-not-at-top
    from ftw.utils import loggers  # pylint: disable=g-import-not-at-top
    self._id = actor_id
    seed = config.seed + 1000 * actor_id
    tf.random.set_seed(seed)
    builder = registry.make_builder(config, specs)
    env = builder.make_environment(seed=seed, num_envs=config.num_envs)
    self._env = env
    self._env_closed = False
    self._adder = builder.make_adder(reverb.Client(replay_address))
    actor = builder.make_actor(builder.make_network(), adder=self._adder,
                               variable_source=ray_helpers.RemoteVariableSource(learner),
                               asynchronous_updates=True,
                               **registry.actor_kwargs(config, actor_id,
                                                       num_actors))
    ray_helpers.wait_for_weights(actor, first_weights_timeout)
    self._proxy = ray_helpers.CounterProxy(counter, flush_every_seconds=0.5)
    self._counts = _PerActorCounts(self._proxy, actor_id)
    self._env_loop = environment_loop.EnvironmentLoop(
        env, actor, counter=counting.Counter(self._counts, "actor"),
        logger=loggers.make_logger(f"actor_{actor_id}", logdir, "actor_steps",
                                   print_every_seconds=None))
    self._loop = ray_helpers.LoopThread(f"actor_{actor_id}", self._env_loop.step,
                             expected_errors=(replay.ServerUnavailableError,))
    self._loop.start()

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "actor_id": self._id,
            "steps": self._counts.local_steps, "running": self._loop.running,
            "error": self._loop.error, "env_closed": self._env_closed,
            "recent_returns": self._env_loop.recent_returns[-20:],
            "tf_threads": tf_threads.pools()}

  def request_stop(self):
    """Asks the loop to stop after its current step; returns at once."""
    self._loop.stop_event.set()

  def stop(self, timeout: float = 10.0) -> int:
    """Stops acting and sends the pending counts; returns the local steps.

    The driver calls it after the replay server stopped (an actor waiting on
    a full queue wakes then); unconfirmed items are dropped with the process,
    as nothing would train on them. A stopped loop's environments are
    closed (worker processes of `env_processes` end with them).
    """
    self._loop.stop(timeout)
    self._proxy.flush()
    if not self._loop.running and not self._env_closed:
      self._env.close()
      self._env_closed = True
    return self._counts.local_steps


class EvaluatorNode:
  """Greedy policy, evaluated every `eval_every_seconds` in a thread."""

  def __init__(self, config, logdir: str, learner, counter,
               first_weights_timeout: float = 300.0, specs=None):
    ray_helpers.limit_tensorflow_threads()
    from agents import registry  # pylint: disable=g-import-not-at-top
    from agents.ftw.evaluator import make_evaluator  # pylint: disable=g-import-not-at-top
    from ftw.utils import loggers  # pylint: disable=g-import-not-at-top
    self._config = config
    self._evaluator = make_evaluator(registry.make_builder(config, specs),
                                     ray_helpers.RemoteVariableSource(learner))
    ray_helpers.wait_for_weights(self._evaluator, first_weights_timeout)
    self._counts = ray_helpers.CounterProxy(counter, flush_every_seconds=0.0)
    self._logger = loggers.make_logger("evaluator", logdir, "actor_steps",
                                       print_every_seconds=0.0)
    self._started = time.monotonic()
    self._lock = threading.Lock()
    self.last_return: Optional[float] = None
    self.evaluations = 0
    self._loop = ray_helpers.LoopThread("evaluator", self._wait_and_evaluate)
    self._loop.start()

  def _wait_and_evaluate(self) -> bool:
    if self._loop.stop_event.wait(self._config.eval_every_seconds):
      return False
    # A stop request ends the evaluation within a step (no row is written).
    self.evaluate(should_stop=self._loop.stop_event.is_set)
    return True

  def evaluate(self, should_stop: Callable[[], bool] = lambda: False
               ) -> Optional[float]:
    """Plays `eval_episodes` greedy episodes with the latest weights; logs.

    Returns their mean return, or the last one when `should_stop()` ended
    the episodes early.
    """
    with self._lock:
      rows = self._evaluator.evaluate(should_stop)
      if not rows:
        return self.last_return
      mean = rows[0]["episode_return"]
      self._counts.flush()
      counts = self._counts.get_counts()
      for row in rows:
        self._logger.write({
            **row,
            "minutes": (time.monotonic() - self._started) / 60,
            "actor_steps": counts.get("actor_steps", 0),
            "learner_steps": counts.get("learner_steps", 0)})
      self.last_return = mean
      self.evaluations += 1
      return mean

  def status(self) -> Dict[str, Any]:
    return {**ray_helpers.node_info(), "last_return": self.last_return,
            "evaluations": self.evaluations, "running": self._loop.running,
            "error": self._loop.error}

  def stop(self, timeout: float = 10.0):
    self._loop.stop(timeout)
