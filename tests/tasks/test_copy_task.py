"""Tests for the copy / repeat-copy tasks and their cost and bit error."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tasks import CopyTask, RepeatCopyTask, bit_error, cost


def _sequence_length(mask_column):
  """Number of scored steps and the first scored step of one sequence."""
  scored = np.flatnonzero(mask_column)
  return len(scored), scored[0]


def test_copy_layout_targets_repeat_the_inputs_after_the_delimiter():
  task = CopyTask(num_bits=5, min_length=2, max_length=6, batch_size=8, seed=0)
  batch = task.sample()
  t, b = batch.mask.shape
  assert batch.inputs.shape == (t, 8, 7)
  assert batch.targets.shape == (t, 8, 5)
  for i in range(b):
    num_scored, first = _sequence_length(batch.mask[:, i])
    length = first - 1
    assert 2 <= length <= 6
    assert num_scored == length  # one copy
    delimiter = batch.inputs[:, i, 5]
    assert np.flatnonzero(delimiter).tolist() == [length]
    assert batch.inputs[length, i, 6] == 1.0  # repeat channel: 1 / 1
    words = batch.inputs[:length, i, :5]
    np.testing.assert_array_equal(batch.targets[first:first + length, i], words)
    # Input is silent while the network answers; targets are 0 off the mask.
    assert not batch.inputs[length + 1:, i].any()
    assert not batch.targets[:first, i].any()
    assert not batch.targets[first + length:, i].any()
  # The batch is padded to its longest sequence exactly.
  assert t == max(2 * (np.flatnonzero(batch.inputs[:, i, 5])[0]) + 1 for i in range(b))
  assert set(np.unique(batch.inputs[..., :5])) <= {0.0, 1.0}


def test_repeat_copy_repeats_words_and_normalises_the_repeat_channel():
  task = RepeatCopyTask(num_bits=3, min_length=1, max_length=4, batch_size=16,
                        seed=1, min_repeats=1, max_repeats=4)
  batch = task.sample()
  seen_repeats = set()
  for i in range(16):
    length = int(np.flatnonzero(batch.inputs[:, i, 3])[0])
    repeats = batch.inputs[length, i, 4] * 4
    assert repeats == int(repeats) and 1 <= repeats <= 4
    repeats = int(repeats)
    seen_repeats.add(repeats)
    num_scored, first = _sequence_length(batch.mask[:, i])
    assert first == length + 1 and num_scored == repeats * length
    words = batch.inputs[:length, i, :3]
    np.testing.assert_array_equal(batch.targets[first:first + num_scored, i],
                                  np.tile(words, [repeats, 1]))
  assert len(seen_repeats) > 1
  fixed = task.sample(length=4, repeats=3)
  assert fixed.mask.sum(0).tolist() == [12.0] * 16
  assert fixed.inputs.shape[0] == 4 + 1 + 12 == task.max_time - 4


def test_same_seed_same_batches_different_seed_different():
  a = CopyTask(seed=7).sample()
  b = CopyTask(seed=7).sample()
  c = CopyTask(seed=8).sample()
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x, y)
  assert a.inputs.shape != c.inputs.shape or not np.array_equal(a.inputs, c.inputs)


def test_as_dataset_yields_sample_batches():
  task = CopyTask(num_bits=4, max_length=3, batch_size=2, seed=0)
  batch = next(iter(task.as_dataset(length=3)))
  assert batch.inputs.shape == (7, 2, 6)
  assert batch.mask.numpy().sum() == 6


def test_cost_and_bit_error_match_numpy():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=[5, 3, 4]).astype(np.float32)
  targets = rng.integers(0, 2, size=[5, 3, 4]).astype(np.float32)
  mask = (rng.uniform(size=[5, 3]) > 0.4).astype(np.float32)
  p = 1 / (1 + np.exp(-logits))
  xent = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
  want_cost = (xent.sum(-1) * mask).sum() / 3
  wrong = ((logits > 0) != (targets > 0.5)).sum(-1)
  want_error = (wrong * mask).sum() / (mask.sum() * 4)
  np.testing.assert_allclose(cost(logits, targets, mask).numpy(), want_cost, rtol=1e-5)
  np.testing.assert_allclose(bit_error(logits, targets, mask).numpy(), want_error, rtol=1e-6)


def test_bit_error_ignores_unmasked_steps_and_is_zero_for_perfect_logits():
  targets = np.array([[[1, 0]], [[0, 1]]], np.float32)  # [T=2, B=1, 2]
  mask = np.array([[0.0], [1.0]], np.float32)
  logits = np.where(targets > 0, 5.0, -5.0).astype(np.float32)
  logits[0] *= -1  # all wrong, but unscored
  assert bit_error(logits, targets, mask).numpy() == 0.0
  logits[1, 0, 0] = 5.0  # one wrong scored bit out of 2
  assert bit_error(logits, targets, mask).numpy() == pytest.approx(0.5)
  assert bit_error(logits, targets, np.zeros_like(mask)).numpy() == 0.0


def test_bad_arguments_raise():
  with pytest.raises(ValueError, match="max_length"):
    CopyTask(min_length=5, max_length=3)
  with pytest.raises(ValueError, match="num_bits"):
    CopyTask(num_bits=0)
  with pytest.raises(ValueError, match="max_repeats"):
    RepeatCopyTask(min_repeats=3, max_repeats=2)
  with pytest.raises(ValueError, match="repeats"):
    RepeatCopyTask(max_repeats=2).sample(repeats=3)
  with pytest.raises(ValueError, match="logits"):
    cost(tf.zeros([3, 4]), tf.zeros([3, 4, 1]), tf.zeros([3, 4]))
  with pytest.raises(ValueError, match="mask"):
    bit_error(tf.zeros([3, 4, 2]), tf.zeros([3, 4, 2]), tf.zeros([3, 4, 1]))
