"""Reverb tables for the FTW learner and their signatures.

- The sequence queue: FIFO, every item sampled exactly once, writers block
  when it is full (backpressure on actors). It must hold more than
  batch_size + 1 items or learner and writers can deadlock.
- Or a sequence replay: uniform sampling from the newest `max_size` items,
  each item sampled `samples_per_insert` times on average, enforced by a
  SampleToInsertRatio rate limiter (V-trace corrects the policy lag of the
  reuse). Writers block when they run ahead, the learner when it does.
- Two reward-prediction tables, `rp_zero` and `rp_nonzero`: uniform sampling,
  oldest item evicted first, sampling allowed from the first item on.

Signatures are nests of `tf.TensorSpec`, built from single-environment
(unbatched) dm_env specs or TensorSpecs, so datasets can be made with
`reverb.TrajectoryDataset.from_table_signature`.
"""

from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np
import reverb
import tensorflow as tf
import tree

from ftw import checks
from ftw.replay import base


def validate_queue_size(max_size: int, batch_size: int) -> None:
  """Raises ValueError unless a queue of `max_size` can serve `batch_size`.

  Args:
    max_size: capacity of the sequence queue.
    batch_size: items the learner takes per batch.
  """
  batch_size = checks.check_int("batch_size", batch_size, 1)
  if not isinstance(max_size, (int, np.integer)) or max_size <= batch_size + 1:
    raise ValueError(
        f"max_size must be an int > batch_size + 1 = {batch_size + 1} (a "
        f"smaller queue deadlocks learner and writers), got {max_size!r}")


def make_sequence_queue(name: str,
                        max_size: int,
                        signature: Optional[Any] = None,
                        *,
                        batch_size: Optional[int] = None) -> reverb.Table:
  """Returns the learner's FIFO queue of sequences (each sampled once).

  Args:
    name: table name (adders and datasets default to `base.SEQUENCE_TABLE`).
    max_size: capacity; inserts block while the queue is full.
    signature: optional nest of tf.TensorSpec (see `sequence_signature`).
    batch_size: if given, `max_size` is checked with `validate_queue_size`.
  """
  max_size = checks.check_int("max_size", max_size, 1)
  if batch_size is not None:
    validate_queue_size(max_size, batch_size)
  return reverb.Table.queue(name=name, max_size=int(max_size),
                            signature=signature)


def make_sequence_replay(name: str,
                         max_size: int,
                         samples_per_insert: float,
                         min_size: int,
                         signature: Optional[Any] = None,
                         error_buffer: Optional[float] = None) -> reverb.Table:
  """Returns a uniform sequence replay that reuses each item on average
  `samples_per_insert` times.

  Args:
    name: table name.
    max_size: capacity; the oldest item is evicted first.
    samples_per_insert: > 0, sampled items per inserted item, on average.
    min_size: >= 1, items inserted before sampling starts.
    signature: optional nest of tf.TensorSpec (see `sequence_signature`).
    error_buffer: slack of the rate limiter in samples; defaults to enough
      for a few batches either way so neither side stalls on every call.
  """
  max_size = checks.check_int("max_size", max_size, 1)
  if not isinstance(min_size, (int, np.integer)) or not 1 <= min_size <= max_size:
    raise ValueError(f"min_size must be an int in [1, max_size={max_size}], "
                     f"got {min_size!r}")
  if not samples_per_insert > 0:
    raise ValueError(f"samples_per_insert must be > 0, got "
                     f"{samples_per_insert!r}")
  if error_buffer is None:
    error_buffer = max(4.0 * min_size * samples_per_insert, 1.0)
  return reverb.Table(
      name=name, sampler=reverb.selectors.Uniform(),
      remover=reverb.selectors.Fifo(), max_size=int(max_size),
      rate_limiter=reverb.rate_limiters.SampleToInsertRatio(
          samples_per_insert=float(samples_per_insert),
          min_size_to_sample=int(min_size), error_buffer=float(error_buffer)),
      signature=signature)


def make_reward_prediction_tables(
    max_size: int,
    signature: Optional[Any] = None,
    names: Sequence[str] = (base.RP_ZERO_TABLE, base.RP_NONZERO_TABLE),
) -> Tuple[reverb.Table, reverb.Table]:
  """Returns the (zero, nonzero) reward-prediction tables.

  Args:
    max_size: capacity of each table; the oldest item is evicted first.
    signature: optional `reward_prediction_signature(...)`.
    names: the two table names (zero, nonzero).
  """
  max_size = checks.check_int("max_size", max_size, 1)
  if isinstance(names, str) or len(names) != 2:
    raise ValueError(f"names must be a pair (zero, nonzero), got {names!r}")
  return tuple(
      reverb.Table(name=name,
                   sampler=reverb.selectors.Uniform(),
                   remover=reverb.selectors.Fifo(),
                   max_size=int(max_size),
                   rate_limiter=reverb.rate_limiters.MinSize(1),
                   signature=signature)
      for name in names)


def _tensor_spec(spec: Any, name: str) -> tf.TensorSpec:
  """A tf.TensorSpec from a dm_env spec, TensorSpec or array-like."""
  if isinstance(spec, tf.TensorSpec):
    return spec
  if hasattr(spec, "shape") and hasattr(spec, "dtype"):
    return tf.TensorSpec(tuple(spec.shape), tf.as_dtype(spec.dtype))
  raise ValueError(f"{name} must be a nest of dm_env specs or tf.TensorSpec, "
                   f"got leaf {spec!r}")


def _specs(nest: Any, name: str) -> Any:
  return tree.map_structure(lambda s: _tensor_spec(s, name), nest)


def make_step_spec(observation_spec: Any,
                   action_spec: Any,
                   extras_spec: Any = (),
                   reward_spec: Optional[Any] = None,
                   discount_spec: Optional[Any] = None) -> base.Step:
  """Per-step specs (one environment, no batch) of what the adder appends.

  Reward and discount are stored as float32 (the adder casts them); their
  shapes come from the given specs, scalar by default.
  """
  scalar_shape = lambda spec: () if spec is None else tuple(spec.shape)
  return base.Step(
      observation=_specs(observation_spec, "observation_spec"),
      action=_specs(action_spec, "action_spec"),
      reward=tf.TensorSpec(scalar_shape(reward_spec), tf.float32),
      discount=tf.TensorSpec(scalar_shape(discount_spec), tf.float32),
      start_of_episode=tf.TensorSpec((), tf.bool),
      extras=_specs(extras_spec, "extras_spec"),
      mask=tf.TensorSpec((), tf.float32))


def sequence_signature(
    step_spec: base.Step,
    sequence_length: Optional[int],
    core_state_key: Optional[str] = base.CORE_STATE_KEY) -> base.Step:
  """Signature of a sequence item: [T, ...] leaves, core state unstacked.

  Args:
    step_spec: from `make_step_spec`.
    sequence_length: T, or None for items of varying length
      (`pad_end_of_episode=False`).
    core_state_key: key of the recurrent state in mapping extras (stored once
      per item, without time dimension); None stacks all extras.
  """
  if sequence_length is not None and sequence_length < 1:
    raise ValueError(
        f"sequence_length must be >= 1 or None, got {sequence_length!r}")
  stack = lambda nest: tree.map_structure(
      lambda s: tf.TensorSpec((sequence_length, *s.shape), s.dtype), nest)
  extras = step_spec.extras
  if (core_state_key is not None and isinstance(extras, Mapping) and
      core_state_key in extras):
    stacked = stack({k: v for k, v in extras.items() if k != core_state_key})
    stacked[core_state_key] = extras[core_state_key]
  else:
    stacked = stack(extras)
  return step_spec._replace(
      **{f: stack(getattr(step_spec, f))
         for f in base.Step._fields if f != "extras"},
      extras=stacked)


def reward_prediction_signature(frame_spec: Any,
                                num_frames: int = 3,
                                reward_shape: Tuple[int, ...] = ()
                                ) -> base.RewardPredictionItem:
  """Signature of a reward-prediction item: frames [k, H, W, C], reward
  `reward_shape` ([] for a scalar reward, [E] for an event vector)."""
  if num_frames < 1:
    raise ValueError(f"num_frames must be >= 1, got {num_frames!r}")
  frame = _tensor_spec(frame_spec, "frame_spec")
  return base.RewardPredictionItem(
      frames=tf.TensorSpec((num_frames, *frame.shape), frame.dtype),
      reward=tf.TensorSpec(tuple(reward_shape), tf.float32))
