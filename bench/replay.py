"""Reverb replay throughput over loopback: insert and sample rates, one run.

Sequences of T=20 steps of 84x84x3 uint8 frames (incompressible random pixels,
the worst case for Reverb's compression), period T-1, logits [6] and an LSTM
core state (2 x [256]) as extras. Prints steps/s for:

  insert  baseline: bare TrajectoryWriter, same items, no adder logic
          SequenceAdder (1 stream), without / with reward-prediction items
          BatchedSequenceAdder (8 streams, one call per vector step)
  sample  baseline: unbatched reverb.TrajectoryDataset
          make_sequence_dataset, B=16 (steps = B x T per batch)

The baseline writer stores the core state at every step (the naive layout);
the adders store it once per item. Each figure is the median of --rounds
rounds, each on a fresh server; ratios are against the baselines of the
same run. Usage: .venv/bin/python bench/replay.py [--steps 3000] [--rounds 3]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import time

import dm_env
import numpy as np
import reverb
import tensorflow as tf
import tree

from ftw import replay
from ftw import types

T = 20
P = T - 1
B = 16
FRAME = (84, 84, 3)
NUM_ACTIONS = 6
CORE = 256
EPISODE = 500  # steps per episode


def _frames(n=64, seed=0):
  return np.random.default_rng(seed).integers(0, 256, (n, *FRAME), np.uint8)


def _signatures():
  obs = types.OAR(tf.TensorSpec(FRAME, tf.uint8), tf.TensorSpec((), tf.int32),
                  tf.TensorSpec((), tf.float32))
  extras = {"logits": tf.TensorSpec((NUM_ACTIONS,), tf.float32),
            "core_state": (tf.TensorSpec((CORE,), tf.float32),) * 2}
  step = replay.make_step_spec(obs, tf.TensorSpec((), tf.int32), extras)
  return (replay.sequence_signature(step, T),
          replay.reward_prediction_signature(obs.observation, 3))


def _server(queue_size):
  seq_sig, rp_sig = _signatures()
  return reverb.Server([
      replay.make_sequence_queue("sequence_queue", queue_size, seq_sig),
      *replay.make_reward_prediction_tables(100_000, rp_sig)], port=None)


def _extras(rng, n=None):
  shape = (NUM_ACTIONS,) if n is None else (n, NUM_ACTIONS)
  core = (CORE,) if n is None else (n, CORE)
  return {"logits": rng.standard_normal(shape).astype(np.float32),
          "core_state": (np.zeros(core, np.float32), np.ones(core, np.float32))}


def bench_raw_writer(client, frames, steps):
  """Baseline: the same items through a bare TrajectoryWriter."""
  rng = np.random.default_rng(1)
  ex = _extras(rng)
  writer = client.trajectory_writer(num_keep_alive_refs=T)
  start = time.perf_counter()
  for t in range(steps):
    step = replay.Step(
        types.OAR(frames[t % len(frames)], np.int32(0), np.float32(0)),
        np.int32(t % NUM_ACTIONS), np.float32(0), np.float32(1),
        np.bool_(t == 0), ex, np.float32(1))
    writer.append(step)
    if t + 1 >= T and (t + 1 - T) % P == 0:
      hist = writer.history
      item = tree.map_structure(lambda c: c[-T:], hist)
      item.extras["core_state"] = tuple(c[-T] for c in
                                        hist.extras["core_state"])
      writer.create_item("sequence_queue", 1.0, item)
      writer.flush(32)
  writer.end_episode(timeout_ms=60_000)
  elapsed = time.perf_counter() - start
  writer.close()
  return steps / elapsed


def _run_single(adder, frames, steps):
  rng = np.random.default_rng(2)
  ex = _extras(rng)
  start = time.perf_counter()
  t = 0
  while t < steps:
    adder.add_first(dm_env.restart(
        types.OAR(frames[t % len(frames)], np.int32(0), np.float32(0))))
    for k in range(min(EPISODE, steps - t)):
      obs = types.OAR(frames[(t + 1) % len(frames)], np.int32(0), np.float32(0))
      last = k == EPISODE - 1 or t == steps - 1
      reward = np.float32(t % 7 == 0)
      ts = dm_env.termination(reward, obs) if last else dm_env.transition(
          reward, obs)
      adder.add(np.int32(t % NUM_ACTIONS), ts, ex)
      t += 1
  adder.close()
  return steps / (time.perf_counter() - start)


def _run_batched(adder, frames, steps, n):
  rng = np.random.default_rng(3)
  ex = _extras(rng, n)
  pick = lambda v: np.stack([frames[(v + i) % len(frames)] for i in range(n)])
  zeros_i, zeros_f = np.zeros(n, np.int32), np.zeros(n, np.float32)
  start = time.perf_counter()
  adder.add_first(dm_env.TimeStep(
      np.full(n, dm_env.StepType.FIRST), None, None,
      types.OAR(pick(0), zeros_i, zeros_f)))
  vector_steps = steps // n
  for v in range(vector_steps):
    step_type = np.full(n, dm_env.StepType.MID)
    if v == vector_steps - 1:
      step_type[:] = dm_env.StepType.LAST
    ts = dm_env.TimeStep(step_type, zeros_f + (v % 7 == 0),
                         np.ones(n, np.float32),
                         types.OAR(pick(v + 1), zeros_i, zeros_f))
    adder.add(zeros_i, ts, ex)
  adder.close()
  return vector_steps * n / (time.perf_counter() - start)


def bench_sampling(address, num_items):
  """(baseline unbatched steps/s, make_sequence_dataset steps/s)."""
  seq_sig, _ = _signatures()
  half = num_items // 2
  base = reverb.TrajectoryDataset.from_table_signature(
      address, "sequence_queue", max_in_flight_samples_per_worker=B,
      num_workers_per_iterator=1, rate_limiter_timeout_ms=2000)
  it = iter(base)
  next(it)  # warm-up
  start = time.perf_counter()
  for _ in range(half - 1):
    next(it)
  base_rate = (half - 1) * T / (time.perf_counter() - start)
  del it

  dataset = replay.make_sequence_dataset(address, batch_size=B, prefetch=1,
                                         signature=seq_sig,
                                         rate_limiter_timeout_ms=2000)
  it = iter(dataset)
  next(it)  # warm-up
  batches = (num_items - half - B - 2 * B) // B
  start = time.perf_counter()
  for _ in range(batches):
    next(it)
  rate = batches * B * T / (time.perf_counter() - start)
  return base_rate, rate


def _one_round(frames, steps, n):
  """All six figures on a fresh server."""
  server = _server(queue_size=100_000)
  address = f"localhost:{server.port}"
  client = reverb.Client(address)
  rp_tables = ("rp_zero", "rp_nonzero")
  rates = {
      "base": bench_raw_writer(client, frames, steps),
      "seq": _run_single(replay.SequenceAdder(client, T, P), frames, steps),
      "rp": _run_single(replay.SequenceAdder(
          client, T, P, reward_prediction_tables=rp_tables), frames, steps),
      "batched": _run_batched(replay.BatchedSequenceAdder(
          client, n, sequence_length=T, period=P,
          reward_prediction_tables=rp_tables), frames, steps, n),
  }
  items = client.server_info()["sequence_queue"].current_size
  rates["base_sample"], rates["sample"] = bench_sampling(address, items)
  server.stop()
  return rates, items


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--steps", type=int, default=3000)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  frames = _frames()
  n = 8
  print(f"Reverb replay over loopback: T={T}, P={P}, frames {FRAME} uint8 "
        f"(random), {args.steps} steps per insert run, B={B}; median of "
        f"{args.rounds} rounds (machine is shared: figures are noisy)")
  rounds = [_one_round(frames, args.steps, n) for _ in range(args.rounds)]
  items = rounds[-1][1]
  med = {k: float(np.median([r[k] for r, _ in rounds])) for k in rounds[0][0]}
  ratio = lambda k, b: f"({med[k] / med[b]:.2f}x)"
  print(f"insert  bare TrajectoryWriter (baseline)  {med['base']:9.0f} steps/s")
  print(f"insert  SequenceAdder                     {med['seq']:9.0f} steps/s "
        f"{ratio('seq', 'base')}")
  print(f"insert  SequenceAdder + reward prediction {med['rp']:9.0f} steps/s "
        f"{ratio('rp', 'base')}")
  print(f"insert  BatchedSequenceAdder N={n} + rp    {med['batched']:9.0f} "
        f"steps/s {ratio('batched', 'base')}")
  print(f"sample  TrajectoryDataset unbatched (baseline) "
        f"{med['base_sample']:9.0f} steps/s  ({items} items per round)")
  print(f"sample  make_sequence_dataset B={B}            {med['sample']:9.0f} "
        f"steps/s {ratio('sample', 'base_sample')}")


if __name__ == "__main__":
  main()
