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
import tempfile
import time

import numpy as np
import reverb

import _common
from agents.ftw.builder import FtwBuilder
from configs import atari
from configs import atari_ftw
from ftw import replay
from ftw.replay import layout
from ftw.utils import tf_threads

FRAME_SKIP = 4


def shipped_agents():
  """Each agent's config as it ships."""
  light_v1 = atari_ftw.get_config().replace(
      core="lstm", memory_size=None, pixel_control_cost=0.0,
      reward_prediction_cost=0.0, kl_cost=0.0, kl_prior_cost=0.0,
      batch_size=16)
  return {"default": atari.get_config(), "light-v1": light_v1,
          "full": atari_ftw.get_config()}


def agents():
  """The configs timed part by part: a queue that holds everything the
  timed streams write (nobody reads it), and the float32 torso, the
  baseline the bfloat16 one is measured against."""
  return {name: c.replace(queue_size=4096, torso_dtype="float32")
          for name, c in shipped_agents().items()}


DTYPES = ("float32", "bfloat16")
MAX_FILL_STEPS = 2000  # Vector steps to fill replay before a learner update.
ENV_PROCESSES = 2  # Worker processes of the `env_processes` figures.


def _time(fn, repeats):
  start = time.perf_counter()
  for _ in range(repeats):
    fn()
  return (time.perf_counter() - start) / repeats


def inference_ms(config, observation, steps):
  """ms of one batched policy call (after its trace)."""
  builder = FtwBuilder(config)
  actor = builder.make_actor(builder.make_network())
  actor.select_action(observation)  # Trace.
  return 1e3 * _time(lambda: actor.select_action(observation), steps)


def env_in_processes_ms(builder, n, steps, processes=ENV_PROCESSES):
  """(wall ms, caller's CPU ms) per vector step of a ProcessVectorEnv."""
  rng = np.random.default_rng(0)
  with builder.make_environment(seed=0, processes=processes,
                                threads=0) as env:
    env.reset()
    cpu = time.process_time()
    wall = _time(lambda: env.step(rng.integers(0, 6, n)), steps)
    cpu = (time.process_time() - cpu) / steps
  return 1e3 * wall, 1e3 * cpu


def env_in_ale_vector_ms(config, threads, steps):
  """(wall ms, CPU ms) per vector step of ale-py's vector environment
  (`env_threads`); the CPU of its C++ threads counts (one process)."""
  rng = np.random.default_rng(0)
  n = config.num_envs
  builder = FtwBuilder(config.replace(env_threads=threads))
  with builder.make_environment(seed=0) as env:
    env.reset()
    cpu = time.process_time()
    wall = _time(lambda: env.step(rng.integers(0, 6, n)), steps)
    cpu = (time.process_time() - cpu) / steps
  return 1e3 * wall, 1e3 * cpu


def actor_parts(config, steps):
  """(env ms, env in processes (wall ms, caller CPU ms), {env_threads:
  ale-py vector env (wall ms, CPU ms)}, {dtype: inference ms}, {adder:
  insert ms}) per vector step."""
  builder = FtwBuilder(config)
  env = builder.make_environment(seed=0, processes=0, threads=0)
  n = config.num_envs
  rng = np.random.default_rng(0)
  timestep = env.reset()
  env_ms = 1e3 * _time(lambda: env.step(rng.integers(0, 6, n)), steps)
  env_processes = env_in_processes_ms(builder, n, steps)
  ale_vector = {k: env_in_ale_vector_ms(config, k, steps) for k in (1, 2)}
  observation = env.step(rng.integers(0, 6, n)).observation
  inference = {dtype: inference_ms(config.replace(torso_dtype=dtype),
                                   observation, steps) for dtype in DTYPES}
  actor = builder.make_actor(builder.make_network())
  # Record a real stream once, then replay it into each adder.
  stream = []
  timestep = env.reset()
  actor.observe_first(timestep)
  for _ in range(steps):
    action = actor.select_action(timestep.observation)
    next_timestep = env.step(action)
    others = {}
    if actor._last_noise is not None:  # pylint: disable=protected-access
      others[layout.NOISE_KEY] = actor._last_noise.numpy()  # pylint: disable=protected-access
    extras = layout.actor_extras(actor._last_logits.numpy(),  # pylint: disable=protected-access
                                 actor._last_state, **others)  # pylint: disable=protected-access
    stream.append((action, next_timestep, extras))
    timestep = next_timestep
  first = env.reset()
  insert = {}
  for name, make in (("batched", replay.BatchedSequenceAdder),
                     ("vector", replay.VectorSequenceAdder)):
    server = reverb.Server(builder.make_replay_tables(), port=None)
    client = reverb.Client(f"localhost:{server.port}")
    kwargs = dict(sequence_length=config.sequence_length,
                  period=config.sequence_period, flush_timeout_ms=1000)
    if config.reward_prediction_cost > 0:
      kwargs["reward_prediction_tables"] = (replay.RP_ZERO_TABLE,
                                            replay.RP_NONZERO_TABLE)
      if make is replay.VectorSequenceAdder:
        kwargs["reward_prediction_zero_probability"] = (
            config.reward_prediction_zero_probability)
    adder = make(client, n, **kwargs)
    adder.add_first(first)
    start = time.perf_counter()
    for action, next_timestep, extras in stream:
      adder.add(action, next_timestep, extras)
    insert[name] = 1e3 * (time.perf_counter() - start) / len(stream)
    adder.close(timeout_ms=100)
    server.stop()
  env.close()
  return env_ms, env_processes, ale_vector, inference, insert


def learner_seconds(config, repeats, cpu=False):
  """Seconds per update on one batch sampled from a real actor's items;
  with `cpu`, (wall, process CPU) seconds per update."""
  builder = FtwBuilder(config)
  server = reverb.Server(builder.make_replay_tables(), port=None)
  address = f"localhost:{server.port}"
  network = builder.make_network()
  actor = builder.make_actor(network, adder=builder.make_adder(
      reverb.Client(address)))
  env = builder.make_environment(seed=0)
  timestep = env.reset()
  actor.observe_first(timestep)
  # Enough items for one batch and for the reward-prediction tables (a
  # random Pong policy scores a point every few hundred steps).
  client = server.localhost_client()
  rp_ready = (builder.reward_prediction_ready(address)
              if config.reward_prediction_cost > 0 else lambda: True)
  for _ in range(MAX_FILL_STEPS):
    action = actor.select_action(timestep.observation)
    timestep = env.step(action)
    actor.observe(action, timestep)
    if (client.server_info()[replay.SEQUENCE_TABLE].current_size
        >= config.batch_size and rp_ready()):
      break
  learner = builder.make_learner(network, address)
  sample = next(learner._iterator)  # pylint: disable=protected-access
  learner._iterator = iter(lambda: sample, None)  # pylint: disable=protected-access
  learner.step()  # Trace (and compile).
  learner.step()
  # pylint: disable-next=protected-access
  if config.reward_prediction_cost > 0 and learner._rp_iterator is None:
    raise RuntimeError(
        f"the reward-prediction tables were not ready after {MAX_FILL_STEPS}"
        " vector steps: the timed update would leave out that loss")
  cpu_start = time.process_time()
  seconds = _time(learner.step, repeats)
  cpu_seconds = (time.process_time() - cpu_start) / repeats
  server.stop()
  env.close()
  return (seconds, cpu_seconds) if cpu else seconds


def learner_rates(config, repeats):
  """{'float32' | 'bfloat16' | 'xla': samples/s} of one update."""
  rates = {}
  for name, dtype, jit in (("float32", "float32", False),
                           ("bfloat16", "bfloat16", False),
                           ("xla", "float32", True)):
    c = config.replace(jit_compile=jit, torso_dtype=dtype)
    rates[name] = c.sequence_length * c.batch_size / learner_seconds(
        c, repeats)
  return rates


def batch_size_rates(config, batch_sizes, repeats):
  """{B: (ms per update, samples/s)} with the config's torso dtype."""
  rates = {}
  for b in batch_sizes:
    seconds = learner_seconds(config.replace(batch_size=b), repeats)
    rates[b] = (1e3 * seconds, config.sequence_length * b / seconds)
  return rates


def end_to_end(name, config, seconds, threads):
  from launch import local  # pylint: disable=g-import-not-at-top
  logdir = tempfile.mkdtemp(prefix=f"bench_pong_{name}_")
  config = config.replace(max_seconds=float(seconds),
                          eval_every_seconds=1e9, log_every_seconds=1e9,
                          intra_op_threads=threads[0],
                          inter_op_threads=threads[1])
  summary = local.train(config, logdir)
  return summary["actor_steps"] * FRAME_SKIP / seconds


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
