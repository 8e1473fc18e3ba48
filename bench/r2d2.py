"""R2D2's learner beside the FTW learner, and the replay ratio R2D2 achieves.

Part 1, learners in the same run: an R2D2Learner (configs/catch_r2d2.py:
A3C torso + LSTM(128) + dueling head, T=10, B=32, double-Q with a target
network, value rescaling, priorities written back to Reverb) and an
FtwLearner (configs/catch.py: FtwTorso + RPTH with a DNC memory + pixel
control + reward prediction, T=10, B=16, V-trace), each reading its own
table of one in-process Reverb server, filled beforehand by its own Catch
actor. For this part R2D2's table is sampled without a rate limit (each
learner runs as fast as it can; the FTW queue holds enough items for the
whole window). The learners alternate in `--slice_seconds` slices so both
see the same load. Samples/s counts T x B per update.

Part 2, the ratio: R2D2 as `launch.local` runs it (actor in this thread,
learner in another, the config's SampleToInsertRatio rate limiter) for
`--ratio_seconds`; Reverb's own counts give the sampled and inserted items.

Usage: .venv/bin/python bench/r2d2.py [--seconds 20] [--ratio_seconds 30]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import threading
import time

import reverb
import tensorflow as tf

import _common
from agents.ftw.builder import FtwBuilder
from agents.r2d2 import replay as replay_lib
from agents.r2d2.builder import R2D2Builder
from configs import catch
from configs import catch_r2d2
from ftw import environment_loop
from ftw import replay


class Runner:
  """A learner, the actor that fills its table, and its timings."""

  def __init__(self, name, builder, address, client, table):
    self.name = name
    self.config = builder.config
    self.learner = builder.make_learner(builder.make_network(), address)
    env = builder.make_environment(seed=0)
    self._adder = builder.make_adder(client)
    actor = builder.make_actor(builder.make_network(), adder=self._adder)
    self._loop = environment_loop.EnvironmentLoop(env, actor)
    self._client = client
    self._table = table
    self.steps, self.seconds = 0, 0.0

  def size(self) -> int:
    return self._client.server_info()[self._table].current_size

  def fill(self, items: int):
    while self.size() < items:
      self._loop.step()

  def run_slice(self, seconds: float):
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
      self.learner.step()
      self.steps += 1
    self.seconds += time.perf_counter() - start

  def close(self):
    self._adder.close(timeout_ms=100)


def learners_side_by_side(seconds: float, slice_seconds: float):
  # No rate limit in this part: samples_per_insert so high it never binds.
  r2d2 = R2D2Builder(catch_r2d2.get_config().replace(
      samples_per_insert=1e9, min_replay_size=256, replay_size=4096))
  ftw_config = catch.get_config().replace(queue_size=8192)
  ftw_builder = FtwBuilder(ftw_config)
  server = reverb.Server(r2d2.make_replay_tables() +
                         ftw_builder.make_replay_tables())
  address = f"localhost:{server.port}"
  client = reverb.Client(address)
  runners = [Runner("R2D2 (LSTM, double Q)", r2d2, address, client,
                    replay_lib.REPLAY_TABLE),
             Runner("FTW (RPTH+DNC, V-trace)", ftw_builder, address, client,
                    replay.SEQUENCE_TABLE)]
  try:
    runners[0].fill(256)
    runners[1].fill(ftw_config.batch_size * 8)
    for runner in runners:  # Warm-up: tracing.
      for _ in range(3):
        runner.learner.step()
    # Enough FTW items for the window (each is trained once) at ~3 steps/s.
    runners[1].fill(min(8000, int(ftw_config.batch_size * 8 * seconds)))
    print(f"filled; {_common.load_line('load')}", flush=True)
    slices = max(1, round(seconds / slice_seconds))
    for _ in range(slices):
      for runner in runners:
        runner.run_slice(seconds / slices)
  finally:
    for runner in runners:
      runner.close()
    server.stop()
  rows = []
  for r in runners:
    t, b = r.config.sequence_length, r.config.batch_size
    rows.append([r.name, f"{t}x{b}", f"{r.steps / r.seconds:.1f}",
                 f"{r.steps * t * b / r.seconds:,.0f}",
                 f"{1000 * r.seconds / r.steps:.0f}", str(r.steps)])
  print("\nLearner updates/s and samples/s (T x B per update), same run:")
  print(_common.format_table(["learner", "T x B", "updates/s", "samples/s",
                              "ms/update", "updates"], rows))


def achieved_ratio(seconds: float):
  builder = R2D2Builder(catch_r2d2.get_config())
  server = reverb.Server(builder.make_replay_tables())
  address = f"localhost:{server.port}"
  client = reverb.Client(address)
  stop = threading.Event()
  learner = builder.make_learner(builder.make_network(), address,
                                 should_stop=stop.is_set)
  adder = builder.make_adder(client)
  actor = builder.make_actor(builder.make_network(), adder=adder,
                             variable_source=learner)
  loop = environment_loop.EnvironmentLoop(builder.make_environment(0), actor)
  updates = []

  def train():
    try:
      while not stop.is_set():
        learner.step()
        updates.append(1)
    except StopIteration:
      pass

  thread = threading.Thread(target=train, daemon=True)
  thread.start()
  start, steps = time.perf_counter(), 0
  while time.perf_counter() - start < seconds:
    loop.step()
    steps += builder.config.num_envs
  elapsed = time.perf_counter() - start
  ratio = replay_lib.sample_to_insert_ratio(client)
  info = client.server_info()[replay_lib.REPLAY_TABLE].rate_limiter_info
  beyond_fill = info.sample_stats.completed / max(
      1, info.insert_stats.completed - builder.config.min_replay_size)
  stop.set()
  adder.close(timeout_ms=100)
  server.stop()
  thread.join(timeout=30)
  c = builder.config
  print(f"\nR2D2 on Catch as launch.local runs it, {elapsed:.0f} s: actor "
        f"{steps / elapsed:,.0f} env steps/s, learner "
        f"{len(updates) / elapsed:.1f} updates/s; items inserted "
        f"{info.insert_stats.completed:,}, sampled "
        f"{info.sample_stats.completed:,} (min_replay_size "
        f"{c.min_replay_size}): sample-to-insert ratio {ratio:.2f} overall, "
        f"{beyond_fill:.2f} beyond the start-up fill (config samples_per_insert "
        f"{c.samples_per_insert:g}; the rate limiter keeps samples within "
        "its error buffer of spi x (inserts - min_replay_size))")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--seconds", type=float, default=20.0,
                      help="timed wall time per learner")
  parser.add_argument("--slice_seconds", type=float, default=2.0)
  parser.add_argument("--ratio_seconds", type=float, default=30.0)
  args = parser.parse_args()
  tf.random.set_seed(0)
  print(_common.load_line("start"), flush=True)
  learners_side_by_side(args.seconds, args.slice_seconds)
  achieved_ratio(args.ratio_seconds)
  print("\n" + _common.load_line("end"))


if __name__ == "__main__":
  main()
