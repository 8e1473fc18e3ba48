"""RunningMeanStd against numpy statistics of the concatenated batches."""

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf.networks.normalization import RunningMeanStd
from ftw.tf.networks.vision import FtwTorso


def test_merged_batches_match_numpy_mean_and_variance():
  rng = np.random.default_rng(0)
  batches = [rng.normal(3.0, 2.0, size=(n, 4, 3)).astype(np.float32)
             for n in (5, 1, 17)]
  rms = RunningMeanStd(clip=None)
  for batch in batches:
    rms.update(batch)
  everything = np.concatenate(batches)
  np.testing.assert_allclose(rms.mean.numpy(), everything.mean(0), rtol=1e-5)
  np.testing.assert_allclose(rms.variance.numpy(), everything.var(0),
                             rtol=1e-4)
  assert rms.count.numpy() == 23
  x = rng.normal(size=(2, 4, 3)).astype(np.float32)
  expected = (x - everything.mean(0)) / np.sqrt(everything.var(0) + 1e-5)
  np.testing.assert_allclose(rms(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_merged_assigns_nothing_and_equals_what_update_assigns():
  rng = np.random.default_rng(2)
  first = rng.normal(1.0, 3.0, size=(6, 2)).astype(np.float32)
  x = rng.normal(-2.0, 0.5, size=(5, 2)).astype(np.float32)
  weights = np.array([1.0, 0.0, 1.0, 1.0, 0.0], np.float32)
  rms = RunningMeanStd(clip=None)
  rms.update(first)
  merged = rms.merged(x, weights)
  # Merging only reads: the variables still hold the first batch.
  np.testing.assert_allclose(rms.mean.numpy(), first.mean(0), rtol=1e-5)
  assert rms.count.numpy() == 6
  # By hand: the statistics of the first batch and x's weight-1 rows.
  everything = np.concatenate([first, x[weights > 0]])
  np.testing.assert_allclose(merged.mean.numpy(), everything.mean(0),
                             rtol=1e-5)
  np.testing.assert_allclose(merged.variance.numpy(), everything.var(0),
                             rtol=1e-4)
  np.testing.assert_allclose(merged.m2.numpy(),
                             everything.var(0) * len(everything), rtol=1e-4)
  assert merged.count.numpy() == len(everything)
  # `update` assigns exactly these values.
  rms.update(x, weights)
  for name in ("count", "mean", "variance"):
    np.testing.assert_array_equal(getattr(rms, name).numpy(),
                                  getattr(merged, name).numpy(), name)


def test_merged_equals_what_assign_sets_inside_a_tf_function():
  """A learner's step reads `merged` in its loss and assigns it after: the
  graph must give both the same bits (Grappler may regroup sums)."""
  rng = np.random.default_rng(3)
  rms = RunningMeanStd(clip=None)
  rms.update(rng.normal(size=(7, 3)).astype(np.float32))

  @tf.function
  def step(x, weights):
    merged = rms.merged(x, weights)
    rms.assign(merged)
    return merged

  for _ in range(3):
    x = rng.normal(2.0, 3.0, size=(9, 3)).astype(np.float32)
    merged = step(x, (rng.random(9) > 0.3).astype(np.float32))
    for name in ("count", "mean", "m2"):
      np.testing.assert_array_equal(getattr(rms, f"_{name}").numpy(),
                                    getattr(merged, name).numpy(), name)


def test_assign_before_the_variables_exist_is_an_error():
  rms = RunningMeanStd()
  statistics = RunningMeanStd().merged(np.zeros((2, 3), np.float32))
  with pytest.raises(ValueError, match="no variables"):
    rms.assign(statistics)


def test_build_creates_unit_statistics_and_checks_the_element_shape():
  rms = RunningMeanStd(clip=None)
  assert not rms.built
  rms.build([2, 3])
  assert rms.built
  np.testing.assert_array_equal(rms.mean.numpy(), np.zeros([2, 3]))
  np.testing.assert_array_equal(rms.variance.numpy(), np.ones([2, 3]))
  assert float(rms.count.numpy()) == 0.0
  rms.build((2, 3))  # The same shape again: nothing changes.
  with pytest.raises(ValueError, match=r"element_shape \(3, 2\) differs"):
    rms.build([3, 2])
  with pytest.raises(ValueError, match="fully defined"):
    RunningMeanStd().build([None, 3])
  x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
  rms.update(x)  # Built by hand, it merges as if built by its first update.
  np.testing.assert_allclose(rms.mean.numpy(), x.mean(0))
  np.testing.assert_allclose(rms.variance.numpy(), x.var(0))


def test_zero_weight_rows_are_ignored():
  rms = RunningMeanStd(clip=None)
  x = np.array([[1.0], [3.0], [100.0]], np.float32)
  rms.update(x, weights=np.array([1.0, 1.0, 0.0]))
  np.testing.assert_allclose(rms.mean.numpy(), [2.0])
  np.testing.assert_allclose(rms.variance.numpy(), [1.0])


def test_before_any_update_inputs_pass_and_clip_applies():
  rms = RunningMeanStd(clip=5.0)
  x = np.array([[0.5, -7.0, 9.0]], np.float32)
  np.testing.assert_allclose(rms(x).numpy(), [[0.5, -5.0, 5.0]], atol=1e-4)


def test_bad_arguments_name_themselves():
  with pytest.raises(ValueError, match="clip"):
    RunningMeanStd(clip=0.0)
  with pytest.raises(ValueError, match="epsilon"):
    RunningMeanStd(epsilon=-1.0)
  rms = RunningMeanStd()
  rms.update(np.zeros((2, 3), np.float32))
  with pytest.raises(ValueError, match="element shape"):
    rms(np.zeros((2, 4), np.float32))


def test_torso_normalizes_pixels_and_statistics_are_variables():
  torso = FtwTorso(conv_filters=((4, 8, 4),), residual_filters=(),
                   hidden_size=8, normalize_inputs=True)
  frames = np.random.default_rng(1).integers(0, 255, (6, 84, 84, 2),
                                             dtype=np.uint8)
  before = torso(frames).numpy()
  torso.update_input_statistics(frames)
  after = torso(frames).numpy()
  assert not np.allclose(before, after)
  names = [v.name for v in torso.variables if not v.trainable]
  assert any("mean" in n for n in names) and any("count" in n for n in names)
  np.testing.assert_allclose(torso.input_normalizer.mean.numpy(),
                             frames.mean(0) / 255.0, rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match="normalize_inputs"):
    FtwTorso(hidden_size=8).update_input_statistics(frames)
