"""Pong throughput of the FTW agents, part by part, before and after.

Agents (all on Atari Pong, each config's environments per actor (32),
T=20, B=16 but the full agent's B=32, its config's):
  default   configs/atari.py: 84x84x4 grayscale stack, A3C torso, LSTM(256);
  light-v1  the light agent of the issue: FtwTorso, LSTM(256), no memory,
            no auxiliary losses (configs/atari_ftw.py with core=lstm);
  full      configs/atari_ftw.py: FtwTorso + RPTH + DNC + pixel control +
            reward prediction + KL.

Parts, per vector step of all the actor's environments (ms) or per second:
  env        VectorEnv.step with random actions, in the caller's thread,
             and in ENV_PROCESSES worker processes (`env_processes`):
             wall time and the caller's CPU time (what the actor's thread
             spends; the workers' time is on other cores);
  inference  FtwActor.select_action (one batched network call), with the
             torso's convolutions in float32 and in bfloat16
             (`torso_dtype`, AMX / AVX512-BF16);
  insert     adder.add of that step: BatchedSequenceAdder (before: one
             SequenceAdder and TrajectoryWriter per row) against
             VectorSequenceAdder (now: numpy windows, one append per item);
  learner    one update on a batch sampled from a real actor's items,
             samples (T x B) per second: plain tf.function with a float32
             torso (the baseline), with a bfloat16 torso, and with XLA.
Every agent is measured in both torso dtypes whatever its config ships.
With `--batch_sizes 16,32,48`, each agent's learner is also timed at those
batch sizes (its shipped torso dtype; ratios against the first size).
With `--end_to_end SECONDS`, each agent also trains in `launch.local` for
that long in each torso dtype and its frames/s (agent steps x 4) are
printed; with `--env_threads 0,2` as well, it trains that long with each
`env_threads` instead (its shipped torso dtype). The actor table's
`ale-vector` columns step the same games in ale-py's vector environment
(`env_threads` 1 and 2; its CPU counts all its threads). Every part runs
with TensorFlow's pools as configs/atari.py sizes them (one thread per op,
four ops at once); `--tf_threads 0,0` gives TensorFlow's own (one per
core), the figures before the configs set them.

Usage: .venv/bin/python bench/pong.py [--steps 150] [--end_to_end 0]
       [--batch_sizes 16,32,48] [--agents default,light-v1,full]
       [--parts actor,learner] [--env_threads 0,2] [--tf_threads 1,4]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os

import _common
from configs import atari
from ftw.utils import tf_threads
from pong_parts import actor_parts
from pong_parts import agents
from pong_parts import batch_size_rates
from pong_parts import DTYPES
from pong_parts import end_to_end
from pong_parts import ENV_PROCESSES
from pong_parts import learner_rates
from pong_parts import shipped_agents


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--steps", type=int, default=150,
                      help="vector steps timed per actor part")
  parser.add_argument("--learner_steps", type=int, default=10)
  parser.add_argument("--end_to_end", type=float, default=0.0,
                      help="seconds of launch.local per agent (0: skip)")
  parser.add_argument("--batch_sizes", default="",
                      help="e.g. 16,32,48: also time each agent's learner at "
                           "these batch sizes (its shipped torso dtype)")
  parser.add_argument("--agents", default="default,light-v1,full",
                      help="which agents to measure")
  parser.add_argument("--env_threads", default="",
                      help="e.g. 0,2: also train each agent in launch.local "
                           "for --end_to_end seconds with each env_threads "
                           "(its shipped torso dtype)")
  parser.add_argument("--tf_threads", default="",
                      help="INTRA,INTER: TensorFlow's pools for every part "
                           "(default: configs/atari.py's; 0,0: TensorFlow's "
                           "own, one per core, as before they were set)")
  parser.add_argument("--parts", default="actor,learner",
                      help="which of the actor-part and learner tables to "
                           "measure (empty: only --batch_sizes/--end_to_end)")
  args = parser.parse_args()
  parts = set(p for p in args.parts.split(",") if p)
  if parts - {"actor", "learner"}:
    parser.error(f"--parts: unknown {sorted(parts - {'actor', 'learner'})}; "
                 "known actor, learner")
  names = args.agents.split(",")
  unknown = set(names) - set(agents())
  if unknown:
    parser.error(f"--agents: unknown {sorted(unknown)}; "
                 f"known {sorted(agents())}")
  batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b]
  env_threads = [int(k) for k in args.env_threads.split(",") if k]
  if any(k < 0 for k in env_threads) or (env_threads and
                                         args.end_to_end <= 0):
    parser.error(f"--env_threads must be ints >= 0 with --end_to_end > 0, "
                 f"got {env_threads} and {args.end_to_end}")
  if any(b < 1 for b in batch_sizes):
    parser.error(f"--batch_sizes must be positive ints, got {batch_sizes}")
  shipped = atari.get_config()
  threads = (shipped.intra_op_threads, shipped.inter_op_threads)
  if args.tf_threads:
    try:
      threads = tuple(int(k) for k in args.tf_threads.split(","))
    except ValueError:
      threads = ()
    if len(threads) != 2 or min(threads) < 0:
      parser.error(f"--tf_threads must be INTRA,INTER ints >= 0, got "
                   f"{args.tf_threads!r}")
  tf_threads.set_tensorflow_threads(*threads, "bench/pong.py")
  print(_common.load_line("start") + f", TensorFlow threads (intra, inter) "
        f"{threads}", flush=True)
  rows, learner_rows, batch_rows = [], [], []
  for name, config in agents().items():
    if name not in names:
      continue
    if "actor" in parts:
      env_ms, (proc_wall, proc_cpu), ale, inference, insert = actor_parts(
          config, args.steps)
      rows.append([name, f"{env_ms:.2f}", f"{proc_wall:.2f}",
                   f"{proc_cpu:.2f}", f"{ale[1][0]:.2f}", f"{ale[2][0]:.2f}",
                   f"{ale[2][1]:.2f}", f"{inference['float32']:.2f}",
                   f"{inference['bfloat16']:.2f}",
                   f"{insert['batched']:.2f}", f"{insert['vector']:.2f}",
                   f"{insert['batched'] / insert['vector']:.1f}x"])
    if "learner" in parts:
      rates = learner_rates(config, args.learner_steps)
      base = rates["float32"]
      learner_rows.append([name, f"{base:.0f}", f"{rates['bfloat16']:.0f}",
                           f"{rates['bfloat16'] / base:.2f}x",
                           f"{rates['xla']:.0f}",
                           f"{rates['xla'] / base:.2f}x"])
    if batch_sizes:
      shipped = shipped_agents()[name].torso_dtype
      by_b = batch_size_rates(config.replace(torso_dtype=shipped),
                              batch_sizes, args.learner_steps)
      first = by_b[batch_sizes[0]][1]
      batch_rows += [[name, shipped, str(b), f"{ms:.0f}", f"{rate:.0f}",
                      f"{rate / first:.2f}x"]
                     for b, (ms, rate) in by_b.items()]
    print(f"[bench] {name} done", flush=True)
  if rows:
    print(f"\nactor parts, ms per vector step of "
          f"{agents()['default'].num_envs} environments")
    print(_common.format_table(
        ["agent", "env", f"env {ENV_PROCESSES} proc wall",
         f"env {ENV_PROCESSES} proc caller CPU", "ale-vector 1 thread",
         "ale-vector 2 threads", "ale-vector 2 threads CPU", "inference fp32",
         "inference bf16", "insert before",
         "insert now", "insert speed-up"], rows))
  if learner_rows:
    print("\nlearner, samples (T x B) per second (tf.function unless XLA)")
    print(_common.format_table(
        ["agent", "fp32 torso", "bf16 torso", "bf16/fp32", "XLA (fp32)",
         "XLA/fp32"], learner_rows))
  if batch_rows:
    print(f"\nlearner by batch size (T={agents()['full'].sequence_length}),"
          f" against B={batch_sizes[0]}")
    print(_common.format_table(
        ["agent", "torso", "B", "ms/update", "samples/s", "ratio"],
        batch_rows))
  if env_threads:
    rows_k = []
    for name, c in shipped_agents().items():
      if name not in names:
        continue
      fps = {k: end_to_end(f"{name}_threads{k}", c.replace(env_threads=k),
                           args.end_to_end, threads) for k in env_threads}
      rows_k.append([name] + [f"{fps[k]:.0f}" for k in env_threads] +
                    [f"{fps[k] / fps[env_threads[0]]:.2f}x"
                     for k in env_threads[1:]])
    print(f"\nend to end by env_threads, launch.local, {args.end_to_end:.0f} "
          "s each, frames/s (shipped torso dtype)")
    print(_common.format_table(
        ["agent"] + [f"env_threads={k}" for k in env_threads] +
        [f"{k}/{env_threads[0]}" for k in env_threads[1:]], rows_k),
          flush=True)
  if args.end_to_end > 0 and not env_threads:
    e2e = []
    for name, c in agents().items():
      if name not in names:
        continue
      fps = {dtype: end_to_end(f"{name}_{dtype}",
                               c.replace(torso_dtype=dtype), args.end_to_end,
                               threads)
             for dtype in DTYPES}
      e2e.append([name, f"{fps['float32']:.0f}", f"{fps['bfloat16']:.0f}",
                  f"{fps['bfloat16'] / fps['float32']:.2f}x"])
    print(f"\nend to end, launch.local, {args.end_to_end:.0f} s each, "
          "frames/s")
    print(_common.format_table(["agent", "fp32 torso", "bf16 torso",
                                "bf16/fp32"], e2e))
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  main()
