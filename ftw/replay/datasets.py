"""tf.data pipelines that read the learner's batches from Reverb.

Both keep parallelism small and configurable: every reader thread competes
with the learner for the same few cores, and each sample held in flight from
a queue table adds policy lag.
"""

from typing import Any, Optional, Sequence

import reverb
import tensorflow as tf
import tree

from ftw import checks
from ftw.replay import base


def _check_positive(name: str, value: Any) -> None:
  checks.check_int(name, value, 1)


def _trajectory_dataset(server_address: str, table: str,
                        max_in_flight_samples_per_worker: int,
                        signature: Optional[Any],
                        rate_limiter_timeout_ms: int) -> tf.data.Dataset:
  """Unbatched items of `table`, shaped by `signature` or the table's."""
  options = dict(
      server_address=server_address,
      table=table,
      max_in_flight_samples_per_worker=max_in_flight_samples_per_worker,
      num_workers_per_iterator=1,
      rate_limiter_timeout_ms=rate_limiter_timeout_ms)
  if signature is None:
    return reverb.TrajectoryDataset.from_table_signature(**options)
  return reverb.TrajectoryDataset(
      dtypes=tree.map_structure(lambda s: s.dtype, signature),
      shapes=tree.map_structure(lambda s: s.shape, signature),
      **options)


def _check_timeout(value: Any) -> None:
  if not isinstance(value, int) or value < -1:
    raise ValueError(
        f"rate_limiter_timeout_ms must be an int >= -1, got {value!r}")


def make_sequence_dataset(server_address: str,
                          table: str = base.SEQUENCE_TABLE,
                          batch_size: int = 16,
                          num_parallel_calls: int = 1,
                          prefetch: int = 1,
                          max_in_flight_samples_per_worker: Optional[int] = None,
                          signature: Optional[Any] = None,
                          rate_limiter_timeout_ms: int = -1,
                          drop_remainder: bool = True) -> tf.data.Dataset:
  """Batches of sequence items as `reverb.ReplaySample(info, data)`.

  `data` is a `base.Step` nest, batch-major: [B, T, ...] leaves, except the
  core state (extras['core_state']) which is [B, ...]; `info` fields are [B].
  The learner transposes to time-major [T, B, ...].

  Args:
    server_address: "host:port" of the Reverb server.
    table: the sequence table.
    batch_size: B, items per batch (the last partial batch is dropped).
    num_parallel_calls: independent readers interleaved (1 = one reader).
    prefetch: batches prepared ahead (0 = none).
    max_in_flight_samples_per_worker: items each reader requests ahead;
      defaults to `batch_size`. From a queue these are already removed.
    signature: nest of tf.TensorSpec of one item; if None the table's
      signature is read from the server.
    rate_limiter_timeout_ms: -1 waits for items forever; >= 0 ends the
      dataset when no item arrives for that long (also bounds how long
      deleting an iterator blocked on an empty queue takes, ~3 s otherwise).
    drop_remainder: False emits the incomplete last batch of a dataset that
      ended (its items, taken from a queue, are otherwise lost);
      `ResumingIterator(batch_size=...)` completes it with the next items.
  """
  _check_positive("batch_size", batch_size)
  _check_positive("num_parallel_calls", num_parallel_calls)
  if not isinstance(prefetch, int) or prefetch < 0:
    raise ValueError(f"prefetch must be an int >= 0, got {prefetch!r}")
  in_flight = max_in_flight_samples_per_worker or batch_size
  _check_positive("max_in_flight_samples_per_worker", in_flight)

  _check_timeout(rate_limiter_timeout_ms)
  make = lambda _: _trajectory_dataset(server_address, table, in_flight,
                                       signature, rate_limiter_timeout_ms)
  if num_parallel_calls == 1:
    dataset = make(0)
  else:
    dataset = tf.data.Dataset.range(num_parallel_calls).interleave(
        make, cycle_length=num_parallel_calls, block_length=1,
        num_parallel_calls=num_parallel_calls, deterministic=False)
  dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
  return dataset.prefetch(prefetch) if prefetch else dataset


def make_reward_prediction_dataset(
    server_address: str,
    batch_size: int,
    tables: Sequence[str] = (base.RP_ZERO_TABLE, base.RP_NONZERO_TABLE),
    prefetch: int = 1,
    max_in_flight_samples_per_worker: Optional[int] = None,
    signature: Optional[base.RewardPredictionItem] = None,
    rate_limiter_timeout_ms: int = -1,
) -> tf.data.Dataset:
  """Balanced reward-prediction batches: half zero, half nonzero reward.

  Elements are (frames uint8 [B, k, H, W, C], rewards float32 [B]); rows
  0..B/2-1 come from the zero table and rows B/2..B-1 from the nonzero one.
  Sampling blocks until both tables hold at least one item.

  Args:
    server_address: "host:port" of the Reverb server.
    batch_size: B, even and >= 2.
    tables: (zero, nonzero) table names.
    prefetch: batches prepared ahead (0 = none).
    max_in_flight_samples_per_worker: per table; defaults to B / 2.
    signature: `RewardPredictionItem` of tf.TensorSpec for one item; if None
      the tables' signatures are read from the server.
    rate_limiter_timeout_ms: as in `make_sequence_dataset`.
  """
  _check_positive("batch_size", batch_size)
  if batch_size % 2:
    raise ValueError(f"batch_size must be even (half zero, half nonzero "
                     f"rewards), got {batch_size}")
  if isinstance(tables, str) or len(tables) != 2:
    raise ValueError(f"tables must be a pair (zero, nonzero), got {tables!r}")
  if not isinstance(prefetch, int) or prefetch < 0:
    raise ValueError(f"prefetch must be an int >= 0, got {prefetch!r}")
  _check_timeout(rate_limiter_timeout_ms)
  half = batch_size // 2
  in_flight = max_in_flight_samples_per_worker or half
  _check_positive("max_in_flight_samples_per_worker", in_flight)

  def half_batches(table: str) -> tf.data.Dataset:
    dataset = _trajectory_dataset(server_address, table, in_flight, signature,
                                  rate_limiter_timeout_ms)
    return dataset.map(lambda sample: base.RewardPredictionItem(
        *sample.data)).batch(half, drop_remainder=True)

  def concat(zero: base.RewardPredictionItem,
             nonzero: base.RewardPredictionItem):
    frames = tf.concat([zero.frames, nonzero.frames], axis=0)
    rewards = tf.concat([zero.reward, nonzero.reward], axis=0)
    return frames, rewards

  dataset = tf.data.Dataset.zip(
      (half_batches(tables[0]), half_batches(tables[1]))).map(concat)
  return dataset.prefetch(prefetch) if prefetch else dataset
