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
