"""Environment throughput: Catch (raw, OAR + VectorEnv) and Atari Pong.

Prints environment steps per second (a VectorEnv step of N environments
counts N steps) with ratios against a baseline measured in the same run:
raw Catch for the Catch rows, gymnasium's own ALE/Pong-v5 (frameskip 4,
210x160 frames, no preprocessing) for the Pong rows. Actions are uniformly
random and drawn before timing. Rows are measured round-robin several times
and each keeps its best pass.

  .venv/bin/python bench/envs.py [--seconds 0.5] [--rounds 4]
"""

import argparse
import time

import ftw  # pylint: disable=unused-import  (quiets TensorFlow's start-up log)
import numpy as np

from ftw.envs.atari import make_atari
from ftw.envs.catch import Catch
from ftw.envs.oar_wrapper import OARWrapper
from ftw.envs.vector_env import VectorEnv


def _rate(step, actions, steps_per_call, seconds):
  """Calls `step(actions[i])` for about `seconds`; returns env steps/s."""
  calls, start = 0, time.perf_counter()
  while True:
    for i in range(len(actions)):
      step(actions[i])
    calls += len(actions)
    elapsed = time.perf_counter() - start
    if elapsed >= seconds:
      return calls * steps_per_call / elapsed


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--seconds", type=float, default=0.5,
                      help="time per measurement")
  parser.add_argument("--rounds", type=int, default=4,
                      help="round-robin passes over all rows; the best counts")
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  cases = []  # (name, num_envs, step, actions, steps per call, baseline name)

  catch = Catch(seed=0)
  catch.reset()
  cases.append(("Catch (raw)", 1, catch.step, rng.integers(0, 3, 1000), 1,
                "Catch (raw)"))
  oar = OARWrapper(Catch(seed=0))
  oar.reset()
  cases.append(("Catch + OAR", 1, oar.step, rng.integers(0, 3, 1000), 1,
                "Catch (raw)"))
  for n in (1, 16):
    vec = VectorEnv([lambda s=s: OARWrapper(Catch(seed=s)) for s in range(n)])
    vec.reset()
    cases.append(("Catch + OAR + VectorEnv", n, vec.step,
                  rng.integers(0, 3, (200, n)), n, "Catch (raw)"))

  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  import ale_py  # pylint: disable=g-import-not-at-top
  gym.register_envs(ale_py)
  raw_pong = gym.make("ALE/Pong-v5", obs_type="rgb", frameskip=4,
                      repeat_action_probability=0.0)
  raw_pong.reset(seed=0)

  def raw_step(action):
    _, _, terminated, truncated, _ = raw_pong.step(action)
    if terminated or truncated:
      raw_pong.reset()

  baseline = "gymnasium ALE/Pong-v5 (skip 4)"
  cases.append((baseline, 1, raw_step, rng.integers(0, 6, 200), 1, baseline))
  pong = make_atari("Pong", seed=0)
  pong.reset()
  cases.append(("make_atari Pong 84x84 RGB", 1, pong.step,
                rng.integers(0, 6, 200), 1, baseline))
  oar_pong = OARWrapper(make_atari("Pong", seed=0))
  oar_pong.reset()
  cases.append(("make_atari Pong + OAR", 1, oar_pong.step,
                rng.integers(0, 6, 200), 1, baseline))

  # Round-robin and keep each row's best pass: the machine is shared, so a
  # single long pass per row would mostly measure the neighbours' load.
  best = {}
  for _ in range(args.rounds):
    for name, n, step, actions, per_call, _ in cases:
      rate = _rate(step, actions, per_call, args.seconds)
      best[(name, n)] = max(best.get((name, n), 0.0), rate)

  print(f"{'environment':34s} {'envs':>4s} {'env steps/s':>12s} "
        f"{'vs baseline':>12s}")
  for name, n, _, _, _, base in cases:
    rate = best[(name, n)]
    print(f"{name:34s} {n:4d} {rate:12,.0f} {rate / best[(base, 1)]:11.2f}x")


if __name__ == "__main__":
  main()
