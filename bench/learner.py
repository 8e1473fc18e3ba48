"""Learner throughput of the FTW agent: all losses against V-trace only.

Both learners are FtwLearners made by FtwBuilder from configs/catch.py with
T=20, B=16 (the FtwNetwork: FtwTorso + RPTH with a shared 32x16 DNC memory +
heads), reading their batches from one in-process Reverb server:

  all losses    V-trace + baseline + entropy + pixel control (cost 0.01) +
                reward prediction (0.1, its own balanced batches of 16) +
                RPTH KL terms (1e-3, 1e-4);
  V-trace only  the same with pixel_control_cost = reward_prediction_cost =
                kl_cost = kl_prior_cost = 0 (no auxiliary heads, no
                reward-prediction dataset).

Before timing, a real Catch actor (FtwActor + the builder's adder, 16
environments) fills the server's sequence queue and reward-prediction tables
with enough items for the whole timed window, so the learners never wait on
the actor; the learner's own dataset pipeline (Reverb -> tf.data -> batch)
is part of the measurement. Each learner is warmed up (tracing), then
`learner.step()` is timed for `--seconds` of wall time, the two learners
alternating in `--slice_seconds` slices so that both see the same load on
this shared machine. Samples/s counts T x B per step (Catch episodes are 10
steps, so about half of each T=20 item is end-of-episode padding with mask 0;
the network computes on every step all the same).

Usage: .venv/bin/python bench/learner.py [--seconds 10]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import math
import time
from typing import Callable, Dict

import reverb
import tensorflow as tf

import _common
from agents.ftw.builder import FtwBuilder
from configs import catch
from ftw import environment_loop
from ftw import replay

T, B = 20, 16
_FILL_ENVS = 16


class _TimedIterator:
  """Wraps an iterator; accumulates the wall time spent in next()."""

  def __init__(self, iterator):
    self._iterator = iterator
    self.seconds = 0.0

  def __iter__(self):
    return self

  def __next__(self):
    start = time.perf_counter()
    try:
      return next(self._iterator)
    finally:
      self.seconds += time.perf_counter() - start


class LearnerUnderTest:
  """An FtwLearner on the shared server, timed in slices."""

  def __init__(self, builder: FtwBuilder, address: str):
    self.learner = builder.make_learner(builder.make_network(), address)
    # Private attributes: time the data wait apart from the update.
    # pylint: disable=protected-access
    self._data = _TimedIterator(self.learner._iterator)
    self.learner._iterator = self._data
    # The learner makes its reward-prediction iterator once both tables hold
    # data: time the iterator it makes.
    self._rp_data = None
    make_rp = self.learner._make_rp_iterator
    if make_rp is not None:
      def make_timed_rp():
        self._rp_data = _TimedIterator(make_rp())
        return self._rp_data
      self.learner._make_rp_iterator = make_timed_rp
    # pylint: enable=protected-access
    self.loss_terms = ()
    self.steps = 0
    self.seconds = 0.0
    self.stopped_early = False

  def time_steps(self, num_steps: int) -> float:
    """Runs num_steps untimed steps; returns seconds per step."""
    start = time.perf_counter()
    for _ in range(num_steps):
      self.learner.step()
    return (time.perf_counter() - start) / num_steps

  def run_slice(self, seconds: float, has_batch: Callable[[], bool]):
    """Steps for `seconds` of wall time, or until the queue runs dry."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
      if not has_batch():
        self.stopped_early = True
        break
      self.loss_terms = tuple(self.learner.step())
      self.steps += 1
    self.seconds += time.perf_counter() - start

  def reset_timers(self):
    self._data.seconds = 0.0
    if self._rp_data is not None:
      self._rp_data.seconds = 0.0

  def result(self) -> Dict[str, float]:
    # pylint: disable-next=protected-access
    traces = self.learner._step_fn.experimental_get_tracing_count()
    steps = max(self.steps, 1)
    return dict(
        samples_per_second=self.steps * T * B / self.seconds,
        step_ms=1000 * self.seconds / steps,
        data_ms=1000 * self._data.seconds / steps,
        rp_data_ms=(1000 * self._rp_data.seconds / steps
                    if self._rp_data is not None else None),
        steps=self.steps, traces=traces, stopped_early=self.stopped_early,
        reward_prediction="reward_prediction_loss" in self.loss_terms,
        pixel_control="pixel_control_loss" in self.loss_terms,
        kl="kl_loss" in self.loss_terms)


class Filler:
  """A Catch actor (FtwNetwork, 16 environments) writing through the adder."""

  def __init__(self, builder: FtwBuilder, client: reverb.Client):
    self._client = client
    self._env = builder.make_environment(seed=0, num_envs=_FILL_ENVS)
    self._adder = builder.make_adder(client, num_envs=_FILL_ENVS)
    actor = builder.make_actor(builder.make_network(), adder=self._adder,
                               num_envs=_FILL_ENVS)
    self._loop = environment_loop.EnvironmentLoop(self._env, actor)

  def queue_size(self) -> int:
    return self._client.server_info()[replay.SEQUENCE_TABLE].current_size

  def fill(self, target: int) -> float:
    """Steps until the queue holds `target` items; returns seconds taken."""
    start = time.perf_counter()
    while self.queue_size() < target:
      for _ in range(10):  # One Catch episode per row between checks.
        self._loop.step()
    return time.perf_counter() - start

  def close(self):
    self._adder.close()
    self._env.close()


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--seconds", type=float, default=10.0,
                      help="timed wall time per learner")
  parser.add_argument("--slice_seconds", type=float, default=2.0,
                      help="the two learners alternate in slices this long")
  parser.add_argument("--max_items", type=int, default=2048,
                      help="capacity of the sequence queue (caps the fill)")
  args = parser.parse_args()

  base = catch.get_config().replace(sequence_length=T, batch_size=B,
                                    queue_size=args.max_items)
  configs = {
      "all losses": base,
      "V-trace only": base.replace(pixel_control_cost=0.0,
                                   reward_prediction_cost=0.0, kl_cost=0.0,
                                   kl_prior_cost=0.0)}
  tf.random.set_seed(0)
  builders = {name: FtwBuilder(c) for name, c in configs.items()}
  slices = max(1, round(args.seconds / args.slice_seconds))
  print(_common.load_line("start"))
  print(f"tf {tf.__version__}; FtwNetwork of configs/catch.py, T={T}, B={B}, "
        f"sequence period {base.sequence_period}; {args.seconds:g} s per "
        f"learner after warm-up, interleaved in "
        f"{args.seconds / slices:g} s slices", flush=True)

  # The all-losses builder's tables: the sequence queue and the two
  # reward-prediction tables; the V-trace-only learner reads the queue only.
  server = reverb.Server(builders["all losses"].make_replay_tables(),
                         port=None)
  address = f"localhost:{server.port}"
  client = reverb.Client(address)
  filler = Filler(builders["all losses"], client)
  try:
    learners = {name: LearnerUnderTest(b, address)
                for name, b in builders.items()}
    # Each learner holds up to 2 batches in its pipeline (prefetch 1 plus
    # B samples in flight): keep that much on top of what steps consume.
    held = 2 * B * len(learners)
    warm_up_steps, probe_steps = 2, 2
    seconds = filler.fill(held + (warm_up_steps + probe_steps) * B *
                          len(learners))
    print(f"fill: {filler.queue_size()} items in {seconds:.1f} s", flush=True)
    step_seconds = {}
    for name, runner in learners.items():
      start = time.perf_counter()
      runner.time_steps(warm_up_steps)
      print(f"warm-up {name}: {warm_up_steps} steps (with tracing) in "
            f"{time.perf_counter() - start:.1f} s", flush=True)
      step_seconds[name] = runner.time_steps(probe_steps)
    # Enough items for the timed window at the probed rates, with slack.
    needed = held + sum(B * math.ceil(1.5 * args.seconds / s + 2)
                        for s in step_seconds.values())
    target = min(needed, args.max_items - 2 * _FILL_ENVS)
    seconds = filler.fill(target)
    print(f"fill: {filler.queue_size()} items in {seconds:.1f} s (wanted "
          f"{needed}); {_common.load_line('load')}", flush=True)

    has_batch = lambda: filler.queue_size() >= B
    for runner in learners.values():
      runner.reset_timers()
    for _ in range(slices):
      for runner in learners.values():
        runner.run_slice(args.seconds / slices, has_batch)
    results = {name: r.result() for name, r in learners.items()}
  finally:
    filler.close()
    server.stop()

  rows = []
  vtrace = results["V-trace only"]["samples_per_second"]
  for name, r in results.items():
    rows.append([
        name, f"{r['samples_per_second']:,.1f}",
        f"{r['samples_per_second'] / vtrace:.3f}", f"{r['step_ms']:.0f}",
        f"{r['data_ms']:.2f}",
        "-" if r["rp_data_ms"] is None else f"{r['rp_data_ms']:.2f}",
        str(r["steps"]), str(r["traces"]),
        "+".join(k for k, key in (("PC", "pixel_control"),
                                  ("RP", "reward_prediction"), ("KL", "kl"))
                 if r[key]) or "-"])
  print(f"\nLearner samples/s (T x B = {T * B} per step), higher is better; "
        "ms per step; data = wait in next() of the sequence / "
        "reward-prediction iterators; traces = tf.function traces of the step; "
        "aux terms = auxiliary losses in the step's output (KL terms with "
        "cost 0 are still computed and reported as 0)")
  print(_common.format_table(
      ["losses", "samples/s", "vs V-trace", "step ms", "data ms",
       "rp data ms", "steps", "traces", "aux terms"], rows))
  for name, r in results.items():
    if r["stopped_early"]:
      print(f"note: {name} ran out of queued items before --seconds; raise "
            "--max_items")
  print("\n" + _common.load_line("end"))


if __name__ == "__main__":
  main()
