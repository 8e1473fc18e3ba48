"""Actor throughput: the real acting loop of the FTW agent on Catch.

Each row runs the pieces `launch/local.py` uses: a VectorEnv of N OAR-wrapped
Catch environments, an FtwActor and the EnvironmentLoop, all made by
FtwBuilder. Two networks are measured in the same run:

  FTW   configs/catch.py: FtwTorso + RPTH (fast/slow variational LSTMs sharing
        a 32x16 DNC memory, 2 reads, 1 write) + policy/value head;
  LSTM  the same config with core='lstm', memory_size=None: FtwTorso +
        snt.LSTM(128) + the same head (the plain conv-LSTM baseline).

and two adders: 'none' (adder=None, acting only) and 'reverb' (the builder's
BatchedSequenceAdder writing sequences and reward-prediction items into an
in-process Reverb server made from the builder's tables; a background thread
samples the sequence queue so it never fills and the actor never blocks).

Per row: a warm-up (tracing, first episodes), then `--seconds` of wall time
of `EnvironmentLoop.step()`. The four rows of one N (FTW/LSTM x none/reverb)
are timed round-robin in `--slice_seconds` slices, so that they see the same
load on this shared machine. 'env steps/s' counts actions that took effect
(the loop's step counter, what training calls actor_steps; on Catch 9 of
every 10 vector-step rows, the 10th is an auto-reset); 'calls/s' is vector
steps (= network calls) per second. Timers around the actor's methods and
the environment's step (about 1 us each) give the per-step breakdown over
the same timed slices.

Usage: .venv/bin/python bench/actor.py [--seconds 10] [--envs 1,16]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os
import threading
import time
from typing import Callable, Dict, List

import reverb
import tensorflow as tf

import _common
from agents.ftw.builder import FtwBuilder
from configs import catch
from ftw import environment_loop
from ftw import replay
from ftw.utils import counting

# A drain read gives up after this long without items, longer than a row
# pauses while the other rows run (so the dataset is not rebuilt while
# another row is timed). The drain must end before the server stops: a read
# blocked on a stopped server never returns.
_DRAIN_TIMEOUT_MS = 10_000


class QueueDrain:
  """Samples (and drops) the sequence queue's items in a background thread."""

  def __init__(self, address: str, signature):
    self._address = address
    self._signature = signature
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True,
                                    name="queue-drain")
    self._thread.start()

  def _run(self):
    while not self._stop.is_set():
      # The dataset ends after _DRAIN_TIMEOUT_MS without items: start again.
      dataset = replay.make_sequence_dataset(
          self._address, batch_size=1, prefetch=0, signature=self._signature,
          rate_limiter_timeout_ms=_DRAIN_TIMEOUT_MS)
      try:
        for _ in dataset:
          if self._stop.is_set():
            return
      except tf.errors.OpError:  # The server stopped.
        return

  def stop(self):
    """Asks the thread to end; it does within _DRAIN_TIMEOUT_MS."""
    self._stop.set()

  def join(self):
    self._thread.join(timeout=2 * _DRAIN_TIMEOUT_MS / 1000 + 5)


class _Timer:
  """Wraps a callable; accumulates its wall time (about 1 us per call)."""

  def __init__(self, fn: Callable):
    self._fn = fn
    self.seconds = 0.0

  def __call__(self, *args, **kwargs):
    start = time.perf_counter()
    try:
      return self._fn(*args, **kwargs)
    finally:
      self.seconds += time.perf_counter() - start


class LoopUnderTest:
  """One (network, N, adder) actor loop, timed in slices."""

  def __init__(self, builder: FtwBuilder, network, num_envs: int,
               use_reverb: bool):
    self._env = builder.make_environment(seed=0, num_envs=num_envs)
    self._server = self._client = self._adder = self._drain = None
    if use_reverb:
      self._server = reverb.Server(builder.make_replay_tables(), port=None)
      address = f"localhost:{self._server.port}"
      self._client = reverb.Client(address)
      self._adder = builder.make_adder(self._client, num_envs=num_envs)
      self._drain = QueueDrain(address, builder.sequence_signature())
    self._actor = builder.make_actor(network, adder=self._adder,
                                     num_envs=num_envs)
    self._counter = counting.Counter()
    self._loop = environment_loop.EnvironmentLoop(self._env, self._actor,
                                                  counter=self._counter)
    self.steps = self.calls = 0
    self.seconds = 0.0
    self.items = None
    self.queue_max = None  # Largest queue size seen at slice ends.

  def warm_up(self, vector_steps: int):
    self._loop.run(num_steps=vector_steps)  # Traces the policy.
    # Timers from here on: the breakdown covers exactly the timed slices.
    actor, env = self._actor, self._env
    self._policy, self._observe = (_Timer(actor.select_action),
                                   _Timer(actor.observe))
    self._env_step = _Timer(env.step)
    actor.select_action, actor.observe = self._policy, self._observe
    env.step = self._env_step

  def run_slice(self, seconds: float):
    """Steps the loop for `seconds` of wall time; accumulates counts."""
    before = self._counter.get_counts()["steps"]
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
      self._loop.step()
      self.calls += 1
    self.seconds += time.perf_counter() - start
    self.steps += self._counter.get_counts()["steps"] - before
    if self._client is not None:
      size = self._client.server_info()[replay.SEQUENCE_TABLE].current_size
      self.queue_max = max(self.queue_max or 0, size)

  def result(self) -> Dict[str, float]:
    ms = lambda s: 1000 * s / self.calls
    parts = (self._policy.seconds, self._env_step.seconds,
             self._observe.seconds)
    # The actor's tf.function (private attribute); > 1 means retracing.
    # pylint: disable-next=protected-access
    traces = self._actor._policy.experimental_get_tracing_count()
    return dict(
        steps_per_second=self.steps / self.seconds,
        calls_per_second=self.calls / self.seconds,
        policy_ms=ms(parts[0]), env_ms=ms(parts[1]), observe_ms=ms(parts[2]),
        other_ms=ms(self.seconds - sum(parts)),
        traces=traces,
        items=self.items, queue_max=self.queue_max)

  def start_closing(self):
    """First half of close(): lets all drains wind down in parallel."""
    if self._server is not None:
      self._adder.close()  # Flushes pending items (the drain still runs).
      self._drain.stop()

  def close(self):
    if self._server is not None:
      self._drain.stop()
      self._drain.join()
      self.items = self._client.server_info()[
          replay.SEQUENCE_TABLE].rate_limiter_info.insert_stats.completed
      self._server.stop()
    self._env.close()


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--seconds", type=float, default=10.0,
                      help="timed wall time per row")
  parser.add_argument("--envs", default="1,16",
                      help="comma-separated numbers of environments")
  parser.add_argument("--slice_seconds", type=float, default=1.0,
                      help="rows of one N alternate in slices this long")
  parser.add_argument("--warmup_steps", type=int, default=30,
                      help="vector steps before timing (3 Catch episodes)")
  args = parser.parse_args()
  env_counts = [int(n) for n in args.envs.split(",")]

  base = catch.get_config()
  configs = {"FTW": base,
             "LSTM": base.replace(core="lstm", memory_size=None)}
  tf.random.set_seed(0)
  builders = {name: FtwBuilder(c) for name, c in configs.items()}
  networks = {name: b.make_network() for name, b in builders.items()}

  slices = max(1, round(args.seconds / args.slice_seconds))
  print(_common.load_line("start"))
  print(f"tf {tf.__version__}; Catch 84x84x3 (9 actions + final observation "
        f"per episode); {args.seconds:g} s per row after "
        f"{args.warmup_steps} warm-up vector steps, rows of one N "
        f"interleaved in {args.seconds / slices:g} s slices")
  print("FTW : FtwTorso(256) + RPTH(period 4, hidden 128, z 64, DNC 32x16, "
        "2 reads, 1 write) + heads 128")
  print("LSTM: FtwTorso(256) + LSTM(128) + heads 128 (core='lstm', "
        "memory_size=None)\n", flush=True)

  # The four loops of one N are timed round-robin in short slices, so that
  # all of them see the same (shared, drifting) machine load.
  results = {}
  for n in env_counts:
    keys = [(name, n, adder) for adder in ("none", "reverb")
            for name in configs]
    loops = {}
    try:
      for key in keys:
        name, _, adder = key
        loops[key] = LoopUnderTest(builders[name], networks[name], n,
                                   adder == "reverb")
        loops[key].warm_up(args.warmup_steps)
      for _ in range(slices):
        for key in keys:
          loops[key].run_slice(args.seconds / slices)
    finally:
      for loop in loops.values():
        loop.start_closing()
      for loop in loops.values():
        loop.close()
    for key in keys:
      results[key] = loops[key].result()
      print(f"  measured {key[0]:4s} N={n:<2d} adder={key[2]:6s} "
            f"{results[key]['steps_per_second']:8.1f} env steps/s "
            f"(1-min load {os.getloadavg()[0]:.2f})", flush=True)

  fmt = lambda x: f"{x:,.1f}"
  rows: List[List[str]] = []
  for n in env_counts:
    for adder in ("none", "reverb"):
      ftw_r, lstm_r = results[("FTW", n, adder)], results[("LSTM", n, adder)]
      row = [str(n), adder, fmt(ftw_r["steps_per_second"]),
             fmt(lstm_r["steps_per_second"]),
             f"{ftw_r['steps_per_second'] / lstm_r['steps_per_second']:.3f}"]
      if adder == "reverb":
        for name in ("FTW", "LSTM"):
          ratio = (results[(name, n, "reverb")]["steps_per_second"] /
                   results[(name, n, "none")]["steps_per_second"])
          row.append(f"{ratio:.3f}")
      else:
        row += ["-", "-"]
      rows.append(row)
  print("\nEnvironment steps/s of the actor loop (higher is better)")
  print(_common.format_table(
      ["envs", "adder", "FTW", "LSTM", "FTW/LSTM", "FTW reverb/none",
       "LSTM reverb/none"], rows))

  rows = []
  for (name, n, adder), r in results.items():
    rows.append([name, str(n), adder, fmt(r["calls_per_second"]),
                 f"{r['policy_ms']:.2f}", f"{r['env_ms']:.2f}",
                 f"{r['observe_ms']:.2f}", f"{r['other_ms']:.2f}",
                 str(r["traces"]),
                 str(r["items"]) if adder == "reverb" else "-",
                 str(r["queue_max"]) if adder == "reverb" else "-"])
  print("\nPer vector step (ms, over the timed slices): policy = select_action "
        "(tf.function), env = VectorEnv.step, observe = actor.observe "
        "(adder); traces = tf.function traces of the policy; items = "
        "sequence items written; queue max = largest queue size seen at "
        f"slice ends (capacity {base.queue_size})")
  print(_common.format_table(
      ["network", "envs", "adder", "calls/s", "policy", "env", "observe",
       "other", "traces", "items", "queue max"], rows))
  print("\n" + _common.load_line("end"))


if __name__ == "__main__":
  main()
