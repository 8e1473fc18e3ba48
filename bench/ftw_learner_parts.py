"""What each part of the full FTW agent costs its learner on Pong.

The full agent (configs/atari_ftw.py) runs at about Sample Factory's
frames/s on 2 cores, its learner and its actor's inference (the same
network) sharing them. This times one update of its learner (T=20, its
B=32, a float32 torso unless --torso_dtype says otherwise, on a batch
sampled from a real actor's items, bench/pong_parts.py's
`learner_seconds`) with one part removed at a time, then with all of them
removed, beside the full agent measured in the same run:
  - pixel control       pixel_control_cost=0 (its deconvolution head and
                        pseudo-rewards are not built);
  - reward prediction   reward_prediction_cost=0 (no second batch, no head);
  - RPTH KL             kl_cost=kl_prior_cost=0;
  - DNC memory          memory_size=None;
  - RPTH                core="lstm" (one LSTM, memory kept);
  - residual torso      configs/atari.py's A3C torso (two convolutions);
  - all of the above    configs/atari.py's network at the full agent's B.
The saved share says how much of the full update each part is; the parts
overlap (e.g. pixel control reads the core's output), so shares need not
add up. CPU ms/update is the process's CPU time (both cores): on 2 cores
the actor and the learner compete for the CPU, so it is what end-to-end
frames/s follow, more than the update's wall time. Nothing here changes
what ships: the goal is to find where to speed the full agent up without
removing anything.

Usage: .venv/bin/python bench/ftw_learner_parts.py [--learner_steps 5]
       [--parts pixel_control,reward_prediction,...]
       [--torso_dtype float32|bfloat16|auto]
It runs with the shipped config's TensorFlow pools (configs/atari_ftw.py).
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os

import _common
import pong_parts
from configs import atari
from configs import atari_ftw


def variants(torso_dtype="float32"):
  """{name: config}: the full agent, then one part removed at a time."""
  full = atari_ftw.get_config().replace(queue_size=4096,
                                        torso_dtype=torso_dtype)
  a3c = atari.get_config()
  return {
      "full": full,
      "pixel_control": full.replace(pixel_control_cost=0.0),
      "reward_prediction": full.replace(reward_prediction_cost=0.0),
      "rpth_kl": full.replace(kl_cost=0.0, kl_prior_cost=0.0),
      "dnc_memory": full.replace(memory_size=None),
      "rpth": full.replace(core="lstm"),
      "residual_torso": full.replace(conv_filters=a3c.conv_filters,
                                     residual_filters=a3c.residual_filters),
      "all": a3c.replace(queue_size=4096, batch_size=full.batch_size),
  }


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--learner_steps", type=int, default=5,
                      help="updates timed per variant (after two untimed)")
  parser.add_argument("--parts", default=",".join(list(variants())[1:]),
                      help="which parts to remove, one at a time")
  parser.add_argument("--torso_dtype", default="float32",
                      choices=["float32", "bfloat16", "auto"],
                      help="the full agent's torso dtype (auto: as shipped)")
  args = parser.parse_args()
  configs = variants(args.torso_dtype)
  parts = [p for p in args.parts.split(",") if p]
  known = list(configs)[1:]  # "full" is always measured, not a part.
  unknown = set(parts) - set(known)
  if unknown:
    parser.error(f"--parts: unknown {sorted(unknown)}; known {known}")
  if args.learner_steps < 1:
    parser.error(f"--learner_steps must be >= 1, got {args.learner_steps}")
  shipped = configs["full"]
  _common.start_with_config_pools(shipped, "the learner")
  seconds, cpu = {}, {}
  for name in ["full"] + parts:
    seconds[name], cpu[name] = pong_parts.learner_seconds(
        configs[name], args.learner_steps, cpu=True)
    print(f"[bench] {name}: {1e3 * seconds[name]:.0f} ms/update, "
          f"{1e3 * cpu[name]:.0f} ms of CPU", flush=True)
  full = seconds["full"]
  samples = configs["full"].sequence_length * configs["full"].batch_size
  rows = [["full" if n == "full" else f"without {n}", f"{1e3 * s:.0f}",
           f"{1e3 * cpu[n]:.0f}", f"{samples / s:.0f}", f"{full / s:.2f}x",
           "" if n == "full" else f"{100 * (full - s) / full:.0f}%"]
          for n, s in seconds.items()]
  print(f"\nthe full agent's learner, one update of T x B = "
        f"{configs['full'].sequence_length} x {configs['full'].batch_size}")
  print(_common.format_table(
      ["learner", "ms/update", "CPU ms/update", "samples/s", "speed-up",
       "saved"], rows))
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  main()
