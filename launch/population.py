"""A population of FTW agents on Ray: matchmaking, Elo and PBT.

    python -m launch.population --config=configs/ctf_population.py \
        --population=4 --num_actors=1 [--logdir=runs/ctf_population] \
        [--seed=N] [--max_seconds=S] [--resume] [--address=HEAD:6379] \
        [--num_cpus=N] [--max_restarts=3] [field=value ...]

The config file gives the agent (`get_config()` -> FtwConfig) and the
population (`get_population_config()` -> PopulationConfig); a `field=value`
override goes to whichever of the two has that field (e.g. `pbt_interval=
200 entropy_cost=3e-3`). `--population` sets `population_size`.

Nodes (classes in `launch.population_nodes`): one ControllerNode (Elo,
matchmaking, PBT, lineage; the job's counts), one AgentNode per agent (its
own Reverb tables, learner and checkpoints: one learner process per agent,
each with one TensorFlow thread; on a machine with fewer cores than agents
they share the cores), and `--num_actors` MatchActorNodes playing matches.
The driver supervises as `launch.distributed` does: it restarts a node
whose loop failed or that died (up to --max_restarts), prints progress and
the Elo table, writes the controller's state every
`checkpoint_every_seconds`; Ctrl-C or SIGTERM stops every node, each agent
writing its checkpoint. `--resume` restores the whole population: weights,
optimiser state, hyperparameters and internal reward weights of every agent
(`<logdir>/agent_<i>/checkpoints`), Elo, PBT state and counts
(`<logdir>/population/controller.json`); the lineage and Elo CSVs are
appended to. Logs: `<logdir>/population/{elo,lineage}.csv` and PNG curves,
`<logdir>/agent_<i>/learner`, `<logdir>/actor_<j>`.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import dataclasses
import importlib.util
import os
import signal
import socket
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import ray

from agents.ftw import population_member
from agents.ftw.config import FtwConfig
from ftw import envs
from ftw.population.config import PopulationConfig
from launch import common
from launch import population_nodes as nodes
from launch import ray_helpers

STARTUP_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0
_RemoteErrors = (ray.exceptions.RayError, ray.exceptions.GetTimeoutError)


def load_population_config(path: str) -> PopulationConfig:
  """`get_population_config()` of the config file, or the defaults."""
  if not path.endswith(".py"):
    module = importlib.import_module(path)
  else:
    spec = importlib.util.spec_from_file_location("ftw_population", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
  make = getattr(module, "get_population_config", None)
  return make() if make is not None else PopulationConfig()


def split_overrides(items: List[str], population: PopulationConfig
                    ) -> Tuple[List[str], PopulationConfig]:
  """Applies the overrides naming PopulationConfig fields; returns the rest
  (for the FtwConfig; a field both have, e.g. `seed`, goes to both)."""
  fields = {f.name: f for f in dataclasses.fields(population)}
  agent_fields = {f.name for f in dataclasses.fields(FtwConfig)}
  rest, values = [], {}
  for item in items:
    name = item[2:].split("=", 1)[0] if item.startswith("--") else (
        item.split("=", 1)[0])
    if name in fields and "=" in item:
      values[name] = common._parse_value(fields[name], item.split("=", 1)[1])  # pylint: disable=protected-access
    if name not in fields or name in agent_fields:
      rest.append(item)
  return rest, population.replace(**values)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("", 0))
    return s.getsockname()[1]


_worker_env = ray_helpers.worker_env
_message = ray_helpers.error_message


class NodeFailedError(RuntimeError):
  """A node died more often than allowed; the message names it."""


class PopulationJob:
  """The Ray actors of one population run: creates, supervises, stops."""

  def __init__(self, config: FtwConfig, population: PopulationConfig,
               logdir: str, num_actors: int, resume: bool = False,
               max_restarts: int = 3):
    if not envs.is_team_game(config.environment):
      raise ValueError(f"a population plays a team game; environment "
                       f"{config.environment!r} is not one (use 'ctf')")
    population_member.check_evolvable(population.evolve, config)
    self.config = config
    self.population = population
    self.logdir = logdir
    self.num_actors = num_actors
    self.resume = resume
    self.max_restarts = max_restarts
    self.handles: Dict[str, Any] = {}
    self.statuses: Dict[str, Dict[str, Any]] = {}
    self._restarts = ray_helpers.NodeRestarts("population")
    self.restarts = self._restarts.counts
    self.counts: Dict[str, float] = {}
    self.checkpoints: Dict[str, Optional[str]] = {}
    self.run_id = f"ftw_pop_{os.getpid()}_{int(time.time() * 1000) % 10**8}"

  def _ray_name(self, name: str) -> str:
    """The Ray actor name of node `name` (unique to this job)."""
    return f"{self.run_id}_{name}"

  def _create(self, name: str, cls, *args, restarts: Optional[int] = None,
              **kwargs):
    options = dict(name=self._ray_name(name), num_cpus=0,
                   max_restarts=(self.max_restarts if restarts is None
                                 else restarts),
                   max_task_retries=0, max_concurrency=4,
                   runtime_env={"env_vars": {**_worker_env(),
                                             "CUDA_VISIBLE_DEVICES": ""}})
    self.handles[name] = ray.remote(cls).options(**options).remote(
        *args, **kwargs)
    self.restarts.setdefault(name, 0)
    return self.handles[name]

  def _wait_ready(self, names: List[str]):
    for name in names:
      try:
        self.statuses[name] = ray.get(self.handles[name].status.remote(),
                                      timeout=STARTUP_TIMEOUT_S)
      except _RemoteErrors as e:
        raise NodeFailedError(f"node {name!r} failed to start: "
                              f"{_message(e)}") from e

  @property
  def agent_names(self) -> List[str]:
    return [f"agent_{i}" for i in range(self.population.population_size)]

  def start(self):
    config, population = self.config, self.population
    started = time.monotonic()
    from agents import registry  # pylint: disable=g-import-not-at-top
    builder = registry.make_builder(config)
    specs = builder.specs
    events = ctf_event_names()
    weights = ([f"w_{name}" for name in events]
               if config.internal_reward_weights else None)
    players = envs.team_game_players(config.environment,
                                     config.environment_kwargs)
    controller = self._create(
        "controller", nodes.ControllerNode, population,
        population_member.initial_values(config, population.evolve),
        config.internal_reward_weights, weights, self.logdir, players // 2,
        resume=self.resume, event_names=events)
    self._wait_ready(["controller"])
    peer_names = [self._ray_name(name) for name in self.agent_names]
    agents = [self._create(name, nodes.AgentNode, config, i, self.logdir,
                           controller, _free_port(), population, peer_names,
                           resume=self.resume, specs=specs)
              for i, name in enumerate(self.agent_names)]
    self._wait_ready(self.agent_names)
    addresses = [self.statuses[n]["address"] for n in self.agent_names]
    for j in range(self.num_actors):
      self._create(f"actor_{j}", nodes.MatchActorNode, config, j, self.logdir,
                   agents, addresses, controller, specs=specs)
    self._wait_ready([f"actor_{j}" for j in range(self.num_actors)])
    print(f"[population] {len(self.handles)} nodes up in "
          f"{time.monotonic() - started:.1f} s: "
          f"{population.population_size} agents, {self.num_actors} actors",
          flush=True)

  def poll(self, timeout: float = 5.0):
    refs = {n: h.status.remote() for n, h in self.handles.items()}
    ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout)
    for name, ref in refs.items():
      try:
        status = ray.get(ref, timeout=0)
      except ray.exceptions.ActorDiedError as e:
        raise NodeFailedError(f"node {name!r} died and was not restarted "
                              f"(max_restarts={self.max_restarts}): "
                              f"{_message(e)}") from e
      except (ray.exceptions.ActorUnavailableError,
              ray.exceptions.GetTimeoutError):
        continue
      self._check_status(name, status)
    self.counts = self.statuses["controller"].get("counts", self.counts)

  def _check_status(self, name: str, status: Dict[str, Any]):
    previous = self.statuses.get(name)
    self.statuses[name] = status
    if not self._restarts.check(name, previous, status, self.handles[name],
                                self.max_restarts):
      raise NodeFailedError(
          f"node {name!r} failed more than max_restarts={self.max_restarts} "
          f"times; last error:\n{self._restarts.last_errors[name]}")

  def call(self, name: str, method: str, timeout: float, *args, **kwargs):
    try:
      return ray.get(getattr(self.handles[name], method).remote(
          *args, **kwargs), timeout=timeout)
    except _RemoteErrors as e:
      print(f"[population] node {name}: {method} failed: {_message(e)}",
            flush=True)
      return None

  def learner_steps(self) -> Dict[str, int]:
    return {n: self.statuses.get(n, {}).get("learner_steps", 0)
            for n in self.agent_names}

  def stop(self):
    """Actors first, then agents (checkpoints), then the controller's state."""
    actors = [n for n in self.handles if n.startswith("actor_")]
    ray.wait([self.handles[n].request_stop.remote() for n in actors],
             num_returns=len(actors), timeout=10)
    refs = {n: self.handles[n].stop.remote() for n in self.agent_names
            if n in self.handles}
    for name, ref in refs.items():
      try:
        self.checkpoints[name] = ray.get(ref, timeout=STOP_TIMEOUT_S)
      except _RemoteErrors as e:
        print(f"[population] {name}: checkpoint failed: {_message(e)}",
              flush=True)
    ray.wait([self.handles[n].stop.remote() for n in actors],
             num_returns=len(actors), timeout=15)
    if "controller" in self.handles:
      self.call("controller", "log", 30, force=True)
      self.call("controller", "save", 30)
      counts = self.call("controller", "get_counts", 5)
      if counts is not None:
        self.counts = counts
    for name in list(self.handles):
      status = self.call(name, "status", 5)
      if status is not None:
        self.statuses[name] = status

  def kill_all(self):
    for name, handle in self.handles.items():
      try:
        ray.kill(handle, no_restart=True)
      except Exception as e:  # pylint: disable=broad-except
        print(f"[population] could not kill node {name}: {_message(e)}",
              flush=True)

  def summary(self) -> Dict[str, Any]:
    return {**self.counts, "learner_steps": self.learner_steps(),
            "checkpoints": dict(self.checkpoints),
            "nodes": dict(self.statuses), "restarts": dict(self.restarts),
            "population": self.call("controller", "summary", 10)
            if "controller" in self.handles else None}


def ctf_event_names() -> List[str]:
  from ftw.envs import ctf_events  # pylint: disable=g-import-not-at-top
  return list(ctf_events.EVENT_NAMES)


def _progress_line(job: PopulationJob, elapsed: float, rate: float) -> str:
  steps = job.learner_steps()
  summary = job.call("controller", "summary", 5) or {}
  elo = summary.get("ratings") or []
  exploits = summary.get("exploits") or []
  parts = [f"{elapsed / 60:5.1f} min",
           f"player steps {job.counts.get('actor_steps', 0):,.0f} "
           f"({rate:,.0f}/s)",
           f"matches {job.counts.get('actor_episodes', 0):,.0f}",
           "learner steps " + "/".join(str(s) for s in steps.values())]
  if elo:
    parts.append("elo " + "/".join(f"{float(r):.0f}" for r in elo))
  if exploits:
    parts.append(f"exploits {sum(exploits)}")
  if job.config.max_seconds:
    parts.append(f"ETA {(job.config.max_seconds - elapsed) / 60:.1f} min")
  return "[population] " + " | ".join(parts)


def train(config: FtwConfig, population: PopulationConfig, logdir: str,
          num_actors: int = 1, address: Optional[str] = None,
          resume: bool = False, num_cpus: Optional[int] = None,
          max_restarts: int = 3, poll_seconds: float = 2.0,
          on_poll: Optional[Callable[[PopulationJob], bool]] = None,
          final_eval_episodes: int = 0) -> Dict[str, Any]:
  """Trains the population until a limit of `config` or a stop request.

  Limits: `max_seconds`; `max_actor_steps` (player steps of all actors);
  `max_learner_steps` (each agent stops at it; the job when all have).
  `on_poll(job)` returning True stops the job (tests, tools). With
  `final_eval_episodes` > 0 every agent's final checkpoint then plays that
  many episodes against random players and against an untrained network
  (`agents.ftw.population_eval`; rows in the summary's 'final_eval').
  """
  started_here = False
  if not ray.is_initialized():
    runtime_env = {"env_vars": _worker_env()}
    if address:
      ray.init(address=address, runtime_env=runtime_env)
    else:
      ray.init(address="local", num_cpus=num_cpus or os.cpu_count(),
               include_dashboard=False,
               runtime_env=runtime_env)
      started_here = True
  job: Optional[PopulationJob] = None
  reason = "interrupted"

  def on_sigterm(*_):
    raise KeyboardInterrupt

  in_main = threading.current_thread() is threading.main_thread()
  previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
  try:
    job = PopulationJob(config, population, logdir, num_actors, resume,
                        max_restarts)
    job.start()
    started = last_save = last_print = time.monotonic()
    last_steps = 0.0
    while True:
      job.poll()
      now = time.monotonic()
      elapsed = now - started
      if on_poll is not None and on_poll(job):
        reason = "stop requested"
        break
      if config.max_seconds is not None and elapsed >= config.max_seconds:
        reason = f"max_seconds={config.max_seconds} reached"
        break
      if (config.max_actor_steps is not None and
          job.counts.get("actor_steps", 0) >= config.max_actor_steps):
        reason = f"max_actor_steps={config.max_actor_steps} reached"
        break
      if config.max_learner_steps is not None and all(
          s >= config.max_learner_steps for s in job.learner_steps().values()):
        reason = f"max_learner_steps={config.max_learner_steps} reached"
        break
      if now - last_print >= config.log_every_seconds:
        steps = job.counts.get("actor_steps", 0)
        rate = (steps - last_steps) / max(now - last_print, 1e-6)
        print(_progress_line(job, elapsed, rate), flush=True)
        job.call("controller", "log", 30)
        last_print, last_steps = now, steps
      if now - last_save >= config.checkpoint_every_seconds:
        job.call("controller", "save", 30)
        last_save = now
      time.sleep(poll_seconds)
    print(f"[population] stopping: {reason}", flush=True)
    job.stop()
  except KeyboardInterrupt:
    print("\n[population] interrupted: stopping every node", flush=True)
    if job is not None:
      job.stop()
  finally:
    if in_main:
      signal.signal(signal.SIGTERM, previous)
    if job is not None:
      summary = job.summary()
      job.kill_all()
    if started_here:
      ray.shutdown()
  if job is None:
    return {"stop_reason": reason}
  summary["stop_reason"] = reason
  if final_eval_episodes > 0 and reason != "interrupted":
    summary["final_eval"] = final_evaluation(
        config, population, logdir, final_eval_episodes)
  return summary


def final_evaluation(config: FtwConfig, population: PopulationConfig,
                     logdir: str, episodes: int) -> List[Dict[str, Any]]:
  """Every agent's checkpoint against random players; prints a table."""
  from agents import registry  # pylint: disable=g-import-not-at-top
  from agents.ftw import population_eval  # pylint: disable=g-import-not-at-top
  print(f"[population] final evaluation: {episodes} episodes per agent and "
        f"opponent", flush=True)
  rows = population_eval.evaluate_population(
      registry.make_builder(config), logdir, population.population_size,
      episodes)
  for row in rows:
    print(f"[population] agent {row['agent']} vs {row['opponent']}: "
          f"win {row['win_rate']:.2f} draw {row['draw_rate']:.2f} loss "
          f"{row['loss_rate']:.2f} score {row['team_score']:.2f}-"
          f"{row['opponent_score']:.2f}", flush=True)
  return rows


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
  parser = common.make_parser(__doc__.split("\n\n")[0])
  parser.set_defaults(config="configs/ctf_population.py")
  parser.add_argument("--population", type=int, default=None,
                      help="number of agents P (population_size)")
  parser.add_argument("--num_actors", type=int, default=1)
  parser.add_argument("--address", default=None,
                      help="Ray cluster to join (HEAD:6379); none starts one")
  parser.add_argument("--num_cpus", type=int, default=None)
  parser.add_argument("--max_restarts", type=int, default=3)
  parser.add_argument("--final_eval_episodes", type=int, default=None,
                      help="episodes per agent and opponent after training "
                      "(default: the config's eval_episodes; 0: none)")
  parser.add_argument("--evaluate_only", action="store_true",
                      help="only evaluate the checkpoints in --logdir")
  argv = list(sys.argv[1:] if argv is None else argv)
  known, rest = parser.parse_known_args(argv)
  try:
    population = load_population_config(known.config)
    agent_rest, population = split_overrides(rest, population)
    if known.population is not None:
      population = population.replace(population_size=known.population)
    if known.seed is not None:
      population = population.replace(seed=known.seed)
  except ValueError as e:
    parser.error(str(e))
  # The FtwConfig sees every flag and the overrides naming its own fields.
  taken = set(rest) - set(agent_rest)
  args, config = common.parse(parser, [a for a in argv if a not in taken])
  if args.num_actors < 1:
    parser.error(f"--num_actors must be >= 1, got {args.num_actors}")
  episodes = (config.eval_episodes if args.final_eval_episodes is None
              else args.final_eval_episodes)
  logdir = os.path.abspath(args.logdir)
  if args.evaluate_only:
    return {"final_eval": final_evaluation(config, population, logdir,
                                           max(1, episodes))}
  print(f"[population] config {args.config}, logdir {args.logdir}, "
        f"P={population.population_size}, {args.num_actors} actors", flush=True)
  return train(config, population, logdir,
               num_actors=args.num_actors, address=args.address,
               resume=args.resume, num_cpus=args.num_cpus,
               max_restarts=args.max_restarts, final_eval_episodes=episodes)


if __name__ == "__main__":
  try:
    main(sys.argv[1:])
  except NodeFailedError as e:
    print(f"[population] job failed: {e}", file=sys.stderr, flush=True)
    sys.exit(1)
