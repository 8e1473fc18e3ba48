"""End-to-end environment frames/s: local training vs 1, 2, 4 Ray actor processes.

    python -m bench.distributed [--warmup=20] [--seconds=60] [--actors=1,2,4]

Each setting trains the same small Catch agent (LSTM core) from scratch; after
`--warmup` seconds of training (tracing, queue filling) the actor and learner
counts are sampled, and again `--seconds` later. Frames/s is the growth of
`actor_steps` (environment steps of all actors) over that window; learner
steps/s likewise. The baseline is `launch.local.train` (one process, learner
thread + actor + evaluator) measured in the same run. Start-up time (Ray,
TensorFlow import in every process) is printed apart and is not in the rates.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os
import tempfile
import time
from typing import Dict, List, Tuple

from agents.ftw.config import FtwConfig
from launch import distributed
from launch import local
from launch import progress as progress_lib


def bench_config(seconds: float) -> FtwConfig:
  return FtwConfig(
      environment="catch", num_envs=16, variable_update_period=10,
      core="lstm", torso_hidden_size=128, hidden_size=64,
      head_hidden_size=64, memory_size=None, sequence_length=10,
      batch_size=8, queue_size=32, reward_prediction_batch_size=8,
      eval_episodes=8, eval_every_seconds=1e6,
      checkpoint_every_seconds=1e6, log_every_seconds=1e6,
      max_seconds=seconds)


class _Window:
  """Samples (time, counts) and keeps the first sample after the warm-up."""

  def __init__(self, warmup: float, seconds: float):
    self._warmup, self._seconds = warmup, seconds
    self._t0 = None
    self.first: Tuple[float, Dict[str, float]] = None
    self.last: Tuple[float, Dict[str, float]] = None

  def sample(self, counts: Dict[str, float]) -> bool:
    """Records a sample; returns True when the window is complete."""
    now = time.monotonic()
    if self._t0 is None:
      self._t0 = now
    if now - self._t0 < self._warmup:
      return False
    if self.first is None:
      self.first = (now, dict(counts))
    self.last = (now, dict(counts))
    return now - self.first[0] >= self._seconds

  def rates(self) -> Tuple[float, float, float]:
    (t0, c0), (t1, c1) = self.first, self.last
    dt = t1 - t0
    rate = lambda k: (c1.get(k, 0) - c0.get(k, 0)) / dt
    return rate("actor_steps"), rate("learner_steps"), dt


def run_local(warmup: float, seconds: float, logdir: str):
  window = _Window(warmup, seconds)
  original = progress_lib.Progress

  class Sampling(original):  # Called on every actor step of local.train.
    def maybe_print(self, recent_returns, eval_return, force=False):
      window.sample(self._counter.get_counts())
      return super().maybe_print(recent_returns, eval_return, force)

  local.progress_lib.Progress = Sampling
  try:
    started = time.monotonic()
    # A little longer than warm-up + window: start-up counts toward max_seconds.
    local.train(bench_config(warmup + seconds + 5), logdir)
  finally:
    local.progress_lib.Progress = original
  return window, time.monotonic() - started


def run_distributed(num_actors: int, warmup: float, seconds: float,
                    logdir: str):
  window = _Window(warmup, seconds)
  started = time.monotonic()
  distributed.train(bench_config(None), logdir, num_actors,
                    num_cpus=num_actors + 1, poll_seconds=0.5,
                    on_poll=lambda job: window.sample(job.counts))
  return window, time.monotonic() - started


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--warmup", type=float, default=20.0)
  parser.add_argument("--seconds", type=float, default=60.0)
  parser.add_argument("--actors", default="1,2,4")
  args = parser.parse_args()
  actors: List[int] = [int(a) for a in args.actors.split(",")]
  print(f"cores {os.cpu_count()}, load average before "
        f"{os.getloadavg()[0]:.2f}; window {args.seconds:.0f} s after "
        f"{args.warmup:.0f} s warm-up", flush=True)
  results = []
  with tempfile.TemporaryDirectory() as tmp:
    window, total = run_local(args.warmup, args.seconds,
                              os.path.join(tmp, "local"))
    results.append(("local (1 process)", window, total, os.getloadavg()[0]))
    for n in actors:
      window, total = run_distributed(n, args.warmup, args.seconds,
                                      os.path.join(tmp, f"ray{n}"))
      results.append((f"ray, {n} actor process{'es' if n > 1 else ''}",
                       window, total, os.getloadavg()[0]))
  base = results[0][1].rates()[0]
  print(f"\n{'setting':<26}{'frames/s':>10}{'x local':>9}{'learner/s':>11}"
        f"{'window s':>10}{'wall s':>8}{'load1':>7}")
  for name, window, total, load in results:
    frames, learner, dt = window.rates()
    print(f"{name:<26}{frames:>10.0f}{frames / base:>9.2f}{learner:>11.2f}"
          f"{dt:>10.1f}{total:>8.1f}{load:>7.2f}")


if __name__ == "__main__":
  main()
