"""Capture the Flag throughput: the ftw adapter beside the raw substrate.

Every round plays one whole episode (1000 frames, uniformly random actions,
the reset before it not timed: Melting Pot rebuilds the Lab2d world then)
with each of, in one process on one core:
  substrate        `meltingpot.substrate.build('paintball__capture_the_flag')`,
                   Melting Pot's own stack, as its users step it (9 actions);
  discrete         `CaptureTheFlag`: cropped frames stacked to [P, 84, 84, 3],
                   rewards, event vectors, outcome bookkeeping;
  discrete/inner   the same CaptureTheFlag's Substrate (the level seeded,
                   without the COLLECTIVE_REWARD wrapper), stepped directly
                   with indices into its 9-action table, the next episode;
  multi            `CaptureTheFlag(action_mode='multi_discrete')`, uniform
                   [P, 3] actions mapped through the 45-entry table;
  multi/inner      its Substrate, stepped with uniform indices into that table
                   (a random multi-discrete player fires in 2 frames of 3, a
                   9-action one in 2 of 9, and beams cost Lab2d time).
The table shows each variant's median round. The adapter's overhead is its
time beyond its own substrate's, in % of the substrate's time (the issue asks
for under 20%): "vs inner" compares the adapter's episodes with the inner
ones of the same world (this counts what the adapter's work costs the
substrate too: the fresh frame arrays of each step evict Lab2d's data from
the caches); "own" times the adapter's calls of `substrate.step` and reports
the time outside them.

Then the self-play actor of `configs/ctf.py` (the full FTW network, 2 vs 2
arenas as slots, `ftw/envs/ctf_slots.py`): player-steps/s of its parts per
vector step of all slots, environment (CtfSlots.step), inference (one
batched FtwActor.select_action) and replay insert (VectorSequenceAdder into
a real Reverb server), and of the three together.

Usage: .venv/bin/python bench/ctf.py [--players 8] [--rounds 5]
       [--arenas 8] [--actor_steps 100]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os
import time

import numpy as np

import _common
from ftw.envs import ctf


def _time_substrate(env):
  """Makes env.substrate.step add its seconds to the returned list's [0]
  (an instance attribute: the adapter calls it)."""
  spent = [0.0]
  step = env.substrate.step
  def timed(action):
    start = time.perf_counter()
    timestep = step(action)
    spent[0] += time.perf_counter() - start
    return timestep
  env.substrate.step = timed
  return spent


def _episode(reset, step, sample, rng):
  """(seconds, steps) of one episode after an untimed reset."""
  reset()
  steps, start = 0, time.perf_counter()
  while True:
    steps += 1
    if step(sample(rng)).last():
      return time.perf_counter() - start, steps


def self_play_actor(arenas: int, steps: int):
  """Rows of ms per vector step and player-steps/s of the self-play actor."""
  import reverb  # pylint: disable=g-import-not-at-top
  from agents.ftw.builder import FtwBuilder  # pylint: disable=g-import-not-at-top
  from configs import ctf as ctf_config  # pylint: disable=g-import-not-at-top
  builder = FtwBuilder(ctf_config.get_config().replace(
      num_envs=arenas, queue_size=4096))
  env = builder.make_environment(seed=0)
  server = reverb.Server(builder.make_replay_tables(), port=None)
  adder = builder.make_adder(reverb.Client(f"localhost:{server.port}"))
  actor = builder.make_actor(builder.make_network(), adder=adder)
  timestep = env.reset()
  actor.observe_first(timestep)
  parts = {"environment": 0.0, "inference": 0.0, "insert": 0.0}
  for i in range(steps + 5):  # The first 5 trace and warm up.
    if i == 5:
      parts = dict.fromkeys(parts, 0.0)
    start = time.perf_counter()
    action = actor.select_action(timestep.observation)
    chosen = time.perf_counter()
    timestep = env.step(action)
    stepped = time.perf_counter()
    actor.observe(action, timestep)
    parts["inference"] += chosen - start
    parts["environment"] += stepped - chosen
    parts["insert"] += time.perf_counter() - stepped
  adder.close(timeout_ms=100)
  server.stop()
  env.close()
  slots = env.num_envs
  rows = [[name, f"{1e3 * s / steps:.1f}", f"{slots * steps / s:,.0f}"]
          for name, s in parts.items()]
  total = sum(parts.values())
  rows.append(["all three", f"{1e3 * total / steps:.1f}",
               f"{slots * steps / total:,.0f}"])
  return slots, rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--players", type=int, default=8)
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--arenas", type=int, default=8,
                      help="arenas (of configs/ctf.py's 4 players) of the "
                           "self-play actor")
  parser.add_argument("--actor_steps", type=int, default=100,
                      help="vector steps timed of the self-play actor (0: "
                           "skip it)")
  args = parser.parse_args()
  print(_common.load_line("start"), flush=True)
  from meltingpot import substrate  # pylint: disable=g-import-not-at-top
  p = args.players
  sizes = ctf.MULTI_DISCRETE_SIZES
  stock = substrate.build(ctf.SUBSTRATE, roles=["default"] * p)
  adapters = {"discrete": ctf.CaptureTheFlag(p, seed=1),
              "multi": ctf.CaptureTheFlag(p, seed=2,
                                          action_mode="multi_discrete")}
  samplers = {"discrete": lambda rng: rng.integers(0, 9, p),
              "multi": lambda rng: rng.integers(0, sizes, (p, len(sizes)))}
  table = lambda rng: rng.integers(0, np.prod(sizes), p)
  # name -> (reset, step, sampler); an adapter's inner runs after it.
  variants = {"substrate": (stock.reset, stock.step, samplers["discrete"])}
  inside = {}
  for name, env in adapters.items():
    inner = env.substrate.step
    inside[name] = _time_substrate(env)
    variants[name] = (env.reset, env.step, samplers[name])
    variants[f"{name}/inner"] = (env.reset, inner, samplers["discrete"]
                                 if name == "discrete" else table)
  rng = np.random.default_rng(0)
  seconds = {name: [] for name in variants}
  own = {name: [0.0, 0] for name in adapters}  # Seconds, steps.
  for _ in range(args.rounds):
    for name, (reset, step, sample) in variants.items():
      if name in inside:
        inside[name][0] = 0.0
      s, n = _episode(reset, step, sample, rng)
      seconds[name].append(s / n)
      if name in inside:
        own[name][0] += s - inside[name][0]
        own[name][1] += n
  median = {name: float(np.median(s)) for name, s in seconds.items()}
  rows = []
  for name in variants:
    s = median[name]
    over, own_us = "", ""
    if name in adapters:
      over = f"{100 * (s / median[f'{name}/inner'] - 1):+.1f}%"
      per_step = own[name][0] / own[name][1]
      own_us = f"{1e6 * per_step:.0f} ({100 * per_step / (s - per_step):.1f}%)"
    rows.append([name, f"{1 / s:,.0f}", f"{p / s:,.0f}", f"{1e6 * s:.0f}",
                 over, own_us])
  print(f"\nCapture the Flag, {p} players, {args.rounds} episodes per "
        f"variant (median), random actions")
  print(_common.format_table(
      ["variant", "env steps/s", "player-steps/s", "us/step", "vs inner",
       "own us/step"], rows))
  stock.close()
  for env in adapters.values():
    env.close()
  if args.actor_steps > 0:
    slots, rows = self_play_actor(args.arenas, args.actor_steps)
    print(f"\nself-play actor, configs/ctf.py (full FTW network), "
          f"{args.arenas} arenas = {slots} player slots, "
          f"{args.actor_steps} vector steps")
    print(_common.format_table(["part", "ms/vector step", "player-steps/s"],
                               rows))
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  main()
