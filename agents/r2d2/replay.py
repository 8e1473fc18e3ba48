"""Replay pieces of the replay-based agents (R2D2, DPG): the sampled table,
the learner's restarting iterator and the priority write-back.

The table is prioritised (R2D2) or uniform, sampled `samples_per_insert`
times per inserted sequence on average (a SampleToInsertRatio rate limiter:
writers wait when they run ahead, the learner when it does); the oldest
sequence is evicted first. Items follow `ftw.replay`'s sequence layout.
"""

from typing import Callable, Iterator, Mapping, Optional

import numpy as np
import reverb
import tensorflow as tf

from ftw import checks
from ftw import replay
from ftw.replay.resuming import DATASET_TIMEOUT_MS
from ftw.replay.resuming import ResumingIterator

REPLAY_TABLE = "replay"


def make_adder(client: reverb.Client, num_envs: int, config
               ) -> replay.VectorSequenceAdder:
  """The sequence adder of a replay agent (`config`: R2D2's or DPG's)."""
  return replay.VectorSequenceAdder(
      client, num_envs, sequence_length=config.sequence_length,
      period=config.sequence_period, table=REPLAY_TABLE,
      flush_timeout_ms=1000)


def make_dataset(server_address: str, config, signature,
                 should_stop: Callable[[], bool]) -> Iterator:
  """Batches of `ReplaySample(info, data)` from the replay table.

  Sampled items stay in the table, so a dataset that times out mid-batch
  loses nothing (unlike a queue's); `ResumingIterator` remakes it.
  """
  return ResumingIterator(lambda: replay.make_sequence_dataset(
      server_address, table=REPLAY_TABLE, batch_size=config.batch_size,
      prefetch=config.dataset_prefetch, signature=signature,
      rate_limiter_timeout_ms=DATASET_TIMEOUT_MS), should_stop)


def make_replay_table(name: str, max_size: int, min_size: int,
                      samples_per_insert: float, batch_size: int,
                      prioritized: bool, priority_exponent: float = 0.9,
                      signature=None) -> reverb.Table:
  """A FIFO-evicted replay of `max_size` items, prioritised or uniform.

  Args:
    name: table name.
    max_size: capacity in items.
    min_size: items inserted before sampling starts (>= batch_size).
    samples_per_insert: > 0, item samples per inserted item, on average.
    batch_size: items per learner batch (sizes the rate limiter's slack).
    prioritized: sample with probability priority^priority_exponent.
    priority_exponent: in [0, 1].
    signature: nest of tf.TensorSpec of one item.
  """
  max_size = checks.check_int("max_size", max_size, 1)
  min_size = checks.check_int("min_size", min_size, 1)
  batch_size = checks.check_int("batch_size", batch_size, 1)
  if not batch_size <= min_size <= max_size:
    raise ValueError(f"min_size must be in [batch_size={batch_size}, "
                     f"max_size={max_size}], got {min_size}")
  if not samples_per_insert > 0:
    raise ValueError(f"samples_per_insert must be > 0, got "
                     f"{samples_per_insert!r}")
  if not 0.0 <= priority_exponent <= 1.0:
    raise ValueError(f"priority_exponent must be in [0, 1], got "
                     f"{priority_exponent!r}")
  # Slack of a few batches (and of 10% of the start-up fill) either way, so
  # neither side stalls on every call.
  error_buffer = max(2.0 * batch_size, 0.1 * min_size * samples_per_insert,
                     2.0 * max(1.0, samples_per_insert))
  sampler = (reverb.selectors.Prioritized(priority_exponent) if prioritized
             else reverb.selectors.Uniform())
  return reverb.Table(
      name=name, sampler=sampler, remover=reverb.selectors.Fifo(),
      max_size=max_size,
      rate_limiter=reverb.rate_limiters.SampleToInsertRatio(
          samples_per_insert=float(samples_per_insert),
          min_size_to_sample=min_size, error_buffer=error_buffer),
      signature=signature)


class PriorityWriter:
  """Writes new priorities of sampled items back to their Reverb table."""

  def __init__(self, client: reverb.Client, table: str = REPLAY_TABLE):
    self._client = client
    self._table = table

  def __call__(self, keys: np.ndarray, priorities: np.ndarray) -> None:
    keys = np.asarray(keys).reshape(-1)
    if not np.issubdtype(keys.dtype, np.integer):
      raise ValueError(f"keys must be integers (uint64 item keys), got "
                       f"dtype {keys.dtype}")
    keys = keys.astype(np.uint64)
    priorities = np.asarray(priorities, np.float64).reshape(-1)
    if keys.shape != priorities.shape:
      raise ValueError(f"keys {keys.shape} and priorities {priorities.shape} "
                       "must have the same length")
    if not np.all(np.isfinite(priorities)) or np.any(priorities < 0):
      raise ValueError(f"priorities must be finite and >= 0, got {priorities}")
    # One update per key (a batch may hold the same item twice).
    updates: Mapping[int, float] = dict(zip(keys.tolist(),
                                            priorities.tolist()))
    self._client.mutate_priorities(self._table, updates=updates)


def importance_weights(probabilities: tf.Tensor, table_size: tf.Tensor,
                       exponent: float) -> tf.Tensor:
  """[B] weights (N P)^-exponent, divided by their batch maximum."""
  probabilities = tf.cast(probabilities, tf.float32)
  size = tf.cast(table_size, tf.float32)
  weights = tf.pow(tf.maximum(size * probabilities, 1e-10), -exponent)
  return weights / tf.reduce_max(weights)


def sample_to_insert_ratio(client: reverb.Client,
                           table: str = REPLAY_TABLE) -> Optional[float]:
  """Item samples per inserted item so far (None before any insert)."""
  info = client.server_info(timeout=5)[table].rate_limiter_info
  inserts = info.insert_stats.completed
  return info.sample_stats.completed / inserts if inserts else None
