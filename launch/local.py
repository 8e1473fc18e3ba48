"""Single-process training: in-process Reverb, learner thread, actor, evaluator.

    python -m launch.local --config=configs/catch.py [--logdir=runs/catch]
        [--seed=N] [--max_seconds=S] [--max_actor_steps=N]
        [--max_learner_steps=N] [--resume] [field=value ...]

The actor steps `num_envs` environments in the main thread and writes
sequences into an in-process Reverb server; the learner trains in a
background thread, reading the queue; every `eval_every_seconds` a greedy
evaluator plays `eval_episodes` episodes with the latest weights in a third
thread (so the actor keeps feeding the learner while it plays: on the
actor's thread every evaluation left the learner without data for its
length, 8-45 s of each 300 s on Pong). Logs go to
`<logdir>/<node>/` (CSV + TensorBoard), checkpoints to
`<logdir>/checkpoints/`. A run that reaches a limit ends with a greedy
evaluation (announced; Ctrl-C skips it). Ctrl-C or SIGTERM stops cleanly,
keeps the checkpoint and skips that evaluation; `--resume` continues from
the checkpoint with counters intact.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import gc
import signal
import sys
import threading
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

from agents import registry
from agents.ftw.config import FtwConfig
from agents.ftw import limits
from agents.ftw.evaluator import make_evaluator
from ftw import environment_loop
from ftw import replay
from ftw.utils import checkpointing
from ftw.utils import counting
from ftw.utils import loggers
from ftw.utils import tf_threads
from launch import common
from launch import progress as progress_lib


# A learner ends within one update or one dataset timeout (1 s) of a stop.
LEARNER_STOP_TIMEOUT_S = 60


def train(config: FtwConfig, logdir: str, resume: bool = False
          ) -> Dict[str, Any]:
  """Trains until a limit in `config` is reached or a stop is requested.

  Returns the final counts and the last evaluation's mean return.
  """
  import reverb  # Heavy import: only when training.

  # Before the first op: TensorFlow sizes its pools once per process.
  tf_threads.set_tensorflow_threads(config.intra_op_threads,
                                    config.inter_op_threads, "launch.local")
  # An earlier run in this process (tests, notebooks) leaves cycles that
  # hold its datasets and graphs until a full collection; collected now,
  # they cannot slow this run (seen: a resumed Catch run's first learner
  # step took ~60 s instead of ~15 s without this).
  gc.collect()
  builder = registry.make_builder(config)  # FtwBuilder for an FtwConfig.
  counter = counting.Counter()
  stop = threading.Event()
  env = builder.make_environment(seed=config.seed, num_envs=config.num_envs)
  learner_network = builder.make_network()
  server = reverb.Server(builder.make_replay_tables(), port=config.replay_port)
  address = f"localhost:{server.port}"
  client = reverb.Client(address)

  learner = builder.make_learner(
      learner_network, address,
      counter=counting.Counter(counter, "learner"),
      logger=loggers.make_logger("learner", logdir, "learner_steps",
                                 print_every_seconds=None),
      should_stop=lambda: stop.is_set())
  checkpointer = checkpointing.learner_checkpointer(
      learner, logdir, config.checkpoint_every_seconds,
      get_state=lambda: {"counts": counter.save()},
      set_state=lambda s: counter.restore(s["counts"]))
  if resume and checkpointer.restore():
    print(f"[local] resumed from {checkpointer.latest}: {counter.get_counts()}",
          flush=True)
  elif resume:
    print(f"[local] --resume: no checkpoint in {checkpointer.directory}; "
          "starting fresh", flush=True)

  adder = builder.make_adder(client)
  actor = builder.make_actor(builder.make_network(), adder=adder,
                             variable_source=learner)
  actor.update(wait=True)
  loop = environment_loop.EnvironmentLoop(
      env, actor, counter=counting.Counter(counter, "actor"),
      logger=loggers.make_logger("actor", logdir, "actor_steps",
                                 print_every_seconds=None))
  evaluator = make_evaluator(builder, variable_source=learner)
  eval_logger = loggers.make_logger("evaluator", logdir, "actor_steps",
                                    print_every_seconds=0.0)

  errors: List[Tuple[str, BaseException]] = []  # (thread, its error)
  start_counts = counter.get_counts()

  def limits_reached(elapsed: Optional[float] = None) -> Optional[str]:
    return limits.limit_reached(config, counter.get_counts(), elapsed)

  def learner_loop():
    try:
      while not stop.is_set() and not limits_reached():
        learner.step()
        checkpointer.save()
    except StopIteration:
      pass  # The dataset ended because a stop was requested.
    except Exception as e:  # pylint: disable=broad-except
      if not stop.is_set():
        errors.append(("learner", e))
        traceback.print_exc()
    finally:
      stop.set()
      # An actor blocked on a full queue wakes up when the server goes away.
      server.stop()

  # A stop the user asked for (Ctrl-C, SIGTERM) skips the final evaluation:
  # Pong's greedy episodes can take minutes to play.
  requested = threading.Event()

  def request_stop(*unused_args):
    requested.set()
    stop.set()

  in_main_thread = threading.current_thread() is threading.main_thread()
  if in_main_thread:  # Signal handlers can only be set from the main thread.
    previous_handler = signal.signal(signal.SIGTERM, request_stop)
  learner_thread = threading.Thread(target=learner_loop, name="learner",
                                    daemon=True)
  progress = progress_lib.Progress(config, counter, start_counts)
  last_eval: Optional[float] = None
  started = time.monotonic()

  def evaluate(should_stop=lambda: False):
    nonlocal last_eval
    rows = evaluator.evaluate(should_stop)
    if not rows:
      return  # Stopped before the episodes ended: nothing to report.
    last_eval = rows[0]["episode_return"]
    counts = counter.get_counts()
    for row in rows:
      eval_logger.write({
          **row,
          "minutes": (time.monotonic() - started) / 60,
          "actor_steps": counts.get("actor_steps", 0),
          "learner_steps": counts.get("learner_steps", 0)})

  def evaluation_loop():
    period = min(config.eval_every_seconds, threading.TIMEOUT_MAX)
    try:
      while not stop.wait(period):
        evaluate(stop.is_set)
    except Exception as e:  # pylint: disable=broad-except
      if not stop.is_set():
        errors.append(("evaluator", e))
        traceback.print_exc()
        stop.set()

  evaluation_thread = threading.Thread(target=evaluation_loop,
                                       name="evaluator", daemon=True)
  learner_thread.start()
  evaluation_thread.start()
  try:
    while not stop.is_set():
      try:
        loop.step()
      except replay.ServerUnavailableError:
        if stop.is_set():
          break  # The learner finished or failed and stopped the server.
        raise
      if limits_reached(time.monotonic() - started):
        break
      progress.maybe_print(loop.recent_returns, last_eval)
  except KeyboardInterrupt:
    requested.set()
    print("\n[local] interrupted: stopping and saving a checkpoint",
          flush=True)
  finally:
    stop.set()
    if in_main_thread:
      signal.signal(signal.SIGTERM, previous_handler)
    # Stopping: unsent items do not matter, so do not wait long for them.
    adder.close(timeout_ms=100)
    env.close()  # Ends its worker processes, if it has any.
    # The learner first: waiting for a sample, it sees the stop within the
    # dataset's timeout, while a server stopped under its sampler could
    # keep it waiting until the join timeout. It stops the server itself.
    learner_thread.join(timeout=LEARNER_STOP_TIMEOUT_S)
    if learner_thread.is_alive():
      print(f"[local] the learner did not stop within "
            f"{LEARNER_STOP_TIMEOUT_S} s; saving the checkpoint anyway",
            flush=True)
    server.stop()
    evaluation_thread.join(timeout=60)  # It stops within one vector step.
    path = checkpointer.save(force=True)
    print(f"[local] checkpoint saved to {path}", flush=True)
    # Its replay readers go now, not at a later collection (the final
    # evaluation still reads its variables).
    learner.close()
  if errors:
    name, error = errors[0]
    raise RuntimeError(f"the {name} failed: {error}") from error
  if requested.is_set():
    print("[local] stopped on request: no final evaluation", flush=True)
  else:
    print(f"[local] final evaluation: {config.eval_episodes} greedy "
          "episodes (Ctrl-C skips it)", flush=True)
    try:
      evaluate()
    except KeyboardInterrupt:
      print("\n[local] final evaluation skipped", flush=True)
  progress.maybe_print(loop.recent_returns, last_eval, force=True)
  summary = dict(counter.get_counts())
  summary["eval_return"] = last_eval
  summary["checkpoint"] = checkpointer.latest
  return summary


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
  parser = common.make_parser(__doc__.split("\n\n")[0])
  args, config = common.parse(parser, argv)
  print(f"[local] config {args.config}, logdir {args.logdir}", flush=True)
  return train(config, args.logdir, resume=args.resume)


if __name__ == "__main__":
  main(sys.argv[1:])
