"""Distributed training on Ray: every node is a Ray actor, trajectories go via Reverb.

    python -m launch.distributed --config=configs/catch.py --num_actors=4 \
        [--address=HEAD:6379] [--logdir=runs/catch] [--seed=N] \
        [--max_seconds=S] [--max_actor_steps=N] [--max_learner_steps=N] \
        [--resume] [--max_restarts=3] [--num_cpus=N] \
        [--node_resources='{"actor": {"actor_node": 1}}'] [field=value ...]

Without --address a Ray cluster is started on this machine (one process per
node) and shut down at the end; with it the job joins that cluster, spreads
its actors over the machines and removes its own nodes at the end. Nodes and
placement are described by `launch.program`; the classes are in
`launch.ray_nodes`. The driver supervises: it prints the progress line,
stops the job at a limit, notices nodes Ray restarted, restarts nodes whose
loop failed, and stops the job with `NodeFailedError` naming a node that died
more than --max_restarts times. Ctrl-C or SIGTERM stops every node within
seconds (the learner writes a checkpoint first). Logs go to
`<logdir>/learner`, `<logdir>/actor_<i>`, `<logdir>/evaluator`; checkpoints to
`<logdir>/checkpoints` on the learner's machine.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

import ray

from agents.ftw import limits
from agents import registry
from agents.ftw.config import FtwConfig
from launch import common
from launch import program as program_lib
from launch import progress as progress_lib
from launch import ray_helpers
from launch import ray_nodes

_log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 300.0
"""Longest wait for a node's constructor (TensorFlow import, network build)."""
STOP_TIMEOUT_S = 60.0
"""Longest wait for the learner's final checkpoint."""
_RemoteErrors = (ray.exceptions.RayError, ray.exceptions.GetTimeoutError)

_CLASSES = {
    "counter": ray_nodes.CounterNode,
    "replay": ray_nodes.ReplayNode,
    "learner": ray_nodes.LearnerNode,
    "evaluator": ray_nodes.EvaluatorNode,
    "actor": ray_nodes.ActorNode,
}


_worker_env = ray_helpers.worker_env
_message = ray_helpers.error_message


def _init_ray(address: Optional[str], num_cpus: Optional[int],
              nodes: List[program_lib.NodeSpec]) -> bool:
  """Connects to Ray; returns True when this call started a local cluster."""
  if ray.is_initialized():
    return False
  runtime_env = {"env_vars": _worker_env()}
  if address:
    ray.init(address=address, runtime_env=runtime_env, log_to_driver=True)
    return False
  cpus = num_cpus or max(os.cpu_count() or 1, program_lib.required_cpus(nodes))
  # address="local": a private cluster even when another job runs here.
  ray.init(address="local", num_cpus=cpus, include_dashboard=False,
           runtime_env=runtime_env,
           log_to_driver=True)
  return True


def _cluster_has_gpu() -> bool:
  return ray.cluster_resources().get("GPU", 0) >= 1


class NodeFailedError(RuntimeError):
  """A node died more often than allowed; the message names it."""


class _CountsView:
  """What `progress.Progress` reads: the counts of the last poll."""

  def __init__(self):
    self.counts: Dict[str, float] = {}

  def get_counts(self) -> Dict[str, float]:
    return dict(self.counts)


class Job:
  """The Ray actors of one run: creates, supervises, stops them."""

  def __init__(self, config: FtwConfig, logdir: str,
               nodes: List[program_lib.NodeSpec], resume: bool = False):
    self.config = config
    self.logdir = logdir
    self.specs = program_lib.by_name(nodes)
    self.resume = resume
    self.handles: Dict[str, Any] = {}
    self.statuses: Dict[str, Dict[str, Any]] = {}
    self._restarts = ray_helpers.NodeRestarts("distributed")
    self._restarts.counts.update({name: 0 for name in self.specs})
    self.restarts = self._restarts.counts
    self.last_errors = self._restarts.last_errors
    self.counts: Dict[str, float] = {}
    self.counts_view = _CountsView()
    self.replay_address: Optional[str] = None
    self.checkpoint: Optional[str] = None
    self.final_eval: Optional[float] = None
    self.run_id = f"ftw_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    self._home_node = self._learner_machine()

  def _learner_machine(self) -> str:
    """The GPU machine for a GPU learner, else the driver's machine."""
    if self.specs["learner"].num_gpus:
      for node in ray.nodes():
        if node["Alive"] and node["Resources"].get("GPU", 0) >= 1:
          return node["NodeID"]
    return ray.get_runtime_context().get_node_id()

  def _options(self, spec: program_lib.NodeSpec) -> Dict[str, Any]:
    env = _worker_env()
    if spec.hide_gpus:
      env["CUDA_VISIBLE_DEVICES"] = ""
    options = dict(name=f"{self.run_id}_{spec.name}",
                   max_restarts=spec.max_restarts, max_task_retries=0,
                   num_cpus=spec.num_cpus, num_gpus=spec.num_gpus,
                   max_concurrency=4, runtime_env={"env_vars": env})
    if spec.resources:
      options["resources"] = dict(spec.resources)
    if spec.spread:
      options["scheduling_strategy"] = "SPREAD"
    elif spec.colocate_with_learner:
      options["scheduling_strategy"] = (
          ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(
              node_id=self._home_node, soft=True))
    return options

  def _create(self, name: str, *args, **kwargs):
    spec = self.specs[name]
    cls = ray.remote(_CLASSES[spec.kind])
    self.handles[name] = cls.options(**self._options(spec)).remote(
        *args, **kwargs)
    return self.handles[name]

  def _wait_ready(self, names: List[str]):
    refs = {name: self.handles[name].status.remote() for name in names}
    for name, ref in refs.items():
      try:
        self.statuses[name] = ray.get(ref, timeout=STARTUP_TIMEOUT_S)
      except ray.exceptions.GetTimeoutError:
        raise NodeFailedError(f"node {name!r} did not start within "
                              f"{STARTUP_TIMEOUT_S:.0f} s") from None
      except ray.exceptions.RayError as e:
        raise NodeFailedError(f"node {name!r} failed to start: {e}") from e

  def start(self):
    """Creates the nodes in program order and waits until each is up."""
    config, logdir = self.config, self.logdir
    started = time.monotonic()
    # Environment and core-state specs, once, here: no node builds a probe
    # environment or a network just to learn shapes.
    specs = registry.make_builder(config).specs
    counter = self._create("counter")
    self._create("replay", config, specs=specs)
    self._wait_ready(["counter", "replay"])
    self.replay_address = self.statuses["replay"]["address"]
    learner = self._create("learner", config, logdir, self.replay_address,
                           counter, self.resume, specs=specs)
    self._wait_ready(["learner"])
    self._create("evaluator", config, logdir, learner, counter, specs=specs)
    num_actors = sum(s.kind == "actor" for s in self.specs.values())
    for name, spec in self.specs.items():
      if spec.kind == "actor":
        self._create(name, config, logdir, spec.actor_id,
                     self.replay_address, learner, counter, specs=specs,
                     num_actors=num_actors)
    self._wait_ready([n for n in self.specs if n not in self.statuses])
    self.counts = ray.get(counter.get_counts.remote(), timeout=STARTUP_TIMEOUT_S)
    self.counts_view.counts = self.counts
    print(f"[distributed] {len(self.handles)} nodes up in "
          f"{time.monotonic() - started:.1f} s; replay at "
          f"{self.replay_address}; nodes: " + ", ".join(
        f"{n} pid={s['pid']}@{s['ip']}" for n, s in self.statuses.items()),
          flush=True)

  def _node_died(self, name: str, error: Exception) -> NodeFailedError:
    spec = self.specs[name]
    if spec.max_restarts == 0:
      what = "died and is never restarted (it holds state others point at)"
    else:
      what = (f"failed more than max_restarts={spec.max_restarts} times "
              f"({self.restarts[name]} restarts seen)")
    last = self.last_errors.get(name)
    return NodeFailedError(f"node {name!r} {what}: {error}" +
                           (f"\nlast error of its loop:\n{last}" if last else ""))

  def poll(self, timeout: float = 5.0):
    """Reads every node's status and the counts; handles failures."""
    refs = {name: handle.status.remote() for name, handle in self.handles.items()}
    counts_ref = self.handles["counter"].get_counts.remote()
    ray.wait(list(refs.values()) + [counts_ref], num_returns=len(refs) + 1,
             timeout=timeout)
    for name, ref in refs.items():
      try:
        status = ray.get(ref, timeout=0)
      except ray.exceptions.ActorDiedError as e:
        raise self._node_died(name, e) from e
      except (ray.exceptions.ActorUnavailableError,
              ray.exceptions.GetTimeoutError):
        continue  # Restarting or busy: look again next round.
      self._check_status(name, status)
    try:
      self.counts = ray.get(counts_ref, timeout=0)
      self.counts_view.counts = self.counts
    except ray.exceptions.ActorDiedError as e:
      raise self._node_died("counter", e) from e
    except _RemoteErrors as e:  # Busy: the counts are fetched next round.
      _log.info("counter did not answer this round: %s", _message(e))

  def _check_status(self, name: str, status: Dict[str, Any]):
    previous = self.statuses.get(name)
    self.statuses[name] = status
    if not self._restarts.check(name, previous, status, self.handles[name],
                                self.specs[name].max_restarts):
      raise self._node_died(name, RuntimeError("its loop raised"))

  def limit_reached(self, elapsed: float) -> Optional[str]:
    return limits.limit_reached(self.config, self.counts, elapsed)

  def recent_returns(self) -> List[float]:
    return [r for name, s in self.statuses.items()
            if self.specs[name].kind == "actor"
            for r in s.get("recent_returns", [])]

  def eval_return(self) -> Optional[float]:
    if self.final_eval is not None:
      return self.final_eval
    return self.statuses.get("evaluator", {}).get("last_return")

  def _call(self, name: str, method: str, timeout: float, *args):
    """Calls a node's method, waiting at most `timeout`; None on failure."""
    try:
      return ray.get(getattr(self.handles[name], method).remote(*args),
                     timeout=timeout)
    except _RemoteErrors as e:
      print(f"[distributed] node {name}: {method} failed: {_message(e)}",
            flush=True)
      return None

  def stop(self, final_eval: bool):
    """Stops actors and evaluator, then the learner (checkpoint), then replay.

    Actors first only stop stepping: one may be waiting on a full queue,
    which it leaves when the replay server stops; their counts are sent after.
    """
    actors = [n for n, s in self.specs.items() if s.kind == "actor"
              and n in self.handles]
    refs = [self.handles[n].request_stop.remote() for n in actors]
    if "evaluator" in self.handles:
      refs.append(self.handles["evaluator"].stop.remote())
    ray.wait(refs, num_returns=len(refs), timeout=10)
    learner_ref = None
    if "learner" in self.handles:
      learner_ref = self.handles["learner"].stop.remote()
    if "replay" in self.handles:  # Wakes a learner waiting for data.
      self._call("replay", "stop", 10)
    refs = [self.handles[n].stop.remote() for n in actors]
    ray.wait(refs, num_returns=len(refs), timeout=15)
    if learner_ref is not None:
      try:
        self.checkpoint = ray.get(learner_ref, timeout=STOP_TIMEOUT_S)
        print(f"[distributed] checkpoint saved to {self.checkpoint}",
              flush=True)
      except _RemoteErrors as e:
        print(f"[distributed] learner checkpoint failed: {e}", flush=True)
    if final_eval and "evaluator" in self.handles:
      self.final_eval = self._call("evaluator", "evaluate", 300)
    for name in list(self.handles):
      status = self._call(name, "status", 5)
      if status is not None:
        self.statuses[name] = status
    counts = self._call("counter", "get_counts", 5) if (
        "counter" in self.handles) else None
    if counts is not None:
      self.counts = counts

  def kill_all(self):
    """Removes every node of the job (no restarts)."""
    for name, handle in self.handles.items():
      try:
        ray.kill(handle, no_restart=True)
      except Exception as e:  # pylint: disable=broad-except
        _log.warning("could not kill node %s: %s", name, _message(e))

  def summary(self) -> Dict[str, Any]:
    return {**self.counts, "eval_return": self.eval_return(),
            "checkpoint": self.checkpoint, "nodes": dict(self.statuses),
            "restarts": dict(self.restarts)}


def train(config: FtwConfig, logdir: str, num_actors: int,
          address: Optional[str] = None, resume: bool = False,
          num_cpus: Optional[int] = None, max_restarts: int = 3,
          node_resources: Optional[Mapping[str, Mapping[str, float]]] = None,
          poll_seconds: float = 1.0,
          on_poll: Optional[Callable[[Job], bool]] = None) -> Dict[str, Any]:
  """Runs a distributed job until a limit in `config` or a stop request.

  Args:
    config: the experiment.
    logdir: folder of per-node logs and checkpoints (on each node's machine).
    num_actors: >= 1 actor nodes.
    address: Ray cluster to join ("host:port" or "auto"); None starts one here.
    resume: restore the learner's latest checkpoint, counts included.
    num_cpus: logical CPUs of a local cluster (default: enough for all nodes).
    max_restarts: restarts allowed per learner/actor/evaluator node.
    node_resources: custom Ray resources per node kind (see launch.program).
    poll_seconds: supervision period.
    on_poll: called with the Job after every supervision round; returning True
      stops the job (used by tests and tools).

  Returns:
    The final counts plus 'eval_return', 'checkpoint', 'nodes' (last status
    of every node) and 'restarts' (restarts seen per node).

  Raises:
    NodeFailedError: a node died more often than allowed, or a node that is
      never restarted (counter, replay) died.
  """
  nodes = program_lib.make_program(num_actors, max_restarts,
                                   node_resources=node_resources)
  started_here = _init_ray(address, num_cpus, nodes)
  job: Optional[Job] = None
  stop_reason = "interrupted"

  def on_sigterm(*_):
    raise KeyboardInterrupt  # Same clean stop as Ctrl-C.

  in_main = threading.current_thread() is threading.main_thread()
  previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
  try:
    if _cluster_has_gpu():
      nodes = program_lib.make_program(num_actors, max_restarts,
                                       learner_gpu=True,
                                       node_resources=node_resources)
    job = Job(config, logdir, nodes, resume=resume)
    job.start()
    progress = progress_lib.Progress(config, job.counts_view, job.counts)
    started = time.monotonic()
    while True:
      job.poll()
      if on_poll is not None and on_poll(job):
        stop_reason = "stop requested"
        break
      reason = job.limit_reached(time.monotonic() - started)
      if reason:
        stop_reason = reason
        break
      progress.maybe_print(job.recent_returns(), job.eval_return())
      time.sleep(poll_seconds)
    print(f"[distributed] stopping: {stop_reason}", flush=True)
    job.stop(final_eval=True)
    progress.maybe_print(job.recent_returns(), job.eval_return(), force=True)
  except KeyboardInterrupt:
    print("\n[distributed] interrupted: stopping every node", flush=True)
    if job is not None:
      job.stop(final_eval=False)
  finally:
    if in_main:
      signal.signal(signal.SIGTERM, previous)
    if job is not None:
      job.kill_all()
    if started_here:
      ray.shutdown()
  if job is None:  # Interrupted before the job existed.
    return {"stop_reason": stop_reason}
  return job.summary()


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
  parser = common.make_parser(__doc__.split("\n\n")[0])
  parser.add_argument("--num_actors", type=int, default=2)
  parser.add_argument("--address", default=None,
                      help="Ray cluster to join (HEAD:6379); none starts one")
  parser.add_argument("--num_cpus", type=int, default=None,
                      help="logical CPUs of a local Ray cluster")
  parser.add_argument("--max_restarts", type=int, default=3,
                      help="restarts allowed per node before the job fails")
  parser.add_argument("--node_resources", default=None,
                      help="JSON: custom Ray resources per node kind")
  args, config = common.parse(parser, argv)
  if args.num_actors < 1:
    parser.error(f"--num_actors must be >= 1, got {args.num_actors}")
  node_resources = None
  if args.node_resources:
    try:
      node_resources = json.loads(args.node_resources)
      program_lib.make_program(args.num_actors, args.max_restarts,
                               node_resources=node_resources)
    except ValueError as e:
      parser.error(f"--node_resources: {e}")
  print(f"[distributed] config {args.config}, logdir {args.logdir}, "
        f"{args.num_actors} actors, "
        f"{'cluster ' + args.address if args.address else 'local Ray'}",
        flush=True)
  return train(config, os.path.abspath(args.logdir), args.num_actors,
               address=args.address, resume=args.resume,
               num_cpus=args.num_cpus, max_restarts=args.max_restarts,
               node_resources=node_resources)


if __name__ == "__main__":
  try:
    main(sys.argv[1:])
  except NodeFailedError as e:
    print(f"[distributed] job failed: {e}", file=sys.stderr, flush=True)
    sys.exit(1)
