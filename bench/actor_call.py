"""The actor's policy call: through tf.function against its flat call.

FtwActor runs its network through a tf.function. Calling it binds and
checks every argument of the nest (observation, the recurrent state, the
FIRST flags: about 40 tensors for RPTH + DNC) against the trace, in
Python, each step. `FtwActor._run_policy` looks the traced concrete
function up once per input signature and calls it with the flat tensors.
This times one policy call of the full agent (configs/atari_ftw.py, its 32
Pong environments, its torso dtype) both ways on the same observation and
state, alternating, and prints CPU and wall ms per call (the actor's
thread holds the GIL for the Python part).

Usage: .venv/bin/python bench/actor_call.py [--calls 200] [--rounds 3]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os
import time

import _common
from configs import atari_ftw


def _ms(fn, calls):
  """(CPU ms, wall ms) per call."""
  cpu, wall = time.process_time(), time.perf_counter()
  for _ in range(calls):
    fn()
  return (1e3 * (time.process_time() - cpu) / calls,
          1e3 * (time.perf_counter() - wall) / calls)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--calls", type=int, default=200)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  if args.calls < 1 or args.rounds < 1:
    parser.error("--calls and --rounds must be >= 1")
  config = atari_ftw.get_config()
  _common.start_with_config_pools(config)
  from agents.ftw.builder import FtwBuilder  # pylint: disable=g-import-not-at-top
  builder = FtwBuilder(config)
  env = builder.make_environment(seed=0)
  observation = env.reset().observation
  actor = builder.make_actor(builder.make_network())
  state, first = actor._state, actor._first  # pylint: disable=protected-access
  ways = {
      "tf.function call": lambda: actor._policy(  # pylint: disable=protected-access
          observation, state, first),
      "flat call (FtwActor)": lambda: actor._run_policy(  # pylint: disable=protected-access
          observation, state, first),
  }
  for fn in ways.values():  # Trace, then warm up.
    for _ in range(10):
      fn()
  figures = {name: [] for name in ways}
  for _ in range(args.rounds):
    for name, fn in ways.items():
      figures[name].append(_ms(fn, args.calls))
  base_cpu = min(cpu for cpu, _ in figures["tf.function call"])
  rows = []
  for name, runs in figures.items():
    cpu = min(c for c, _ in runs)
    wall = min(w for _, w in runs)
    rows.append([name, f"{cpu:.2f}", f"{wall:.2f}",
                 f"{base_cpu - cpu:+.2f}" if cpu != base_cpu else ""])
  print(f"\nthe full agent's policy call, {config.num_envs} Pong environments "
        f"(best of {args.rounds} rounds of {args.calls} calls)")
  print(_common.format_table(
      ["call", "CPU ms/call", "wall ms/call", "CPU saved"], rows))
  env.close()
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  main()
