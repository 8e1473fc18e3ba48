"""The torso's XLA-compiled input path against numpy and the op-by-op path."""

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf.networks import pixel_input
from ftw.tf.networks.normalization import RunningMeanStd
from ftw.tf.networks.vision import FtwTorso


def _frames(seed, shape=(7, 12, 12, 3)):
  return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_torso_input_matches_numpy_standardisation_and_clip():
  frames = _frames(0)
  x = frames.astype(np.float64) / 255.0
  mean = np.full(frames.shape[1:], 0.5, np.float32)
  mean[0, 0, 0] = 0.999  # A pixel far from its mean: clipped at -clip.
  variance = np.full(frames.shape[1:], 0.01, np.float32)
  got = pixel_input.torso_input(tf.constant(frames), tf.constant(mean),
                                tf.constant(variance), 1e-5, 2.0,
                                tf.float32).numpy()
  want = np.clip((x - mean) / np.sqrt(variance + 1e-5), -2.0, 2.0)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  assert got.min() == -2.0 and got.max() == 2.0
  # Without statistics: only scaled; float pixels are taken as given.
  scaled = pixel_input.torso_input(tf.constant(frames), None, None, 0.0, None,
                                   tf.float32).numpy()
  np.testing.assert_allclose(scaled, x, rtol=1e-6)
  floats = pixel_input.torso_input(tf.constant(x, tf.float64), None, None,
                                   0.0, None, tf.float32)
  assert floats.dtype == tf.float32
  np.testing.assert_allclose(floats.numpy(), x, rtol=1e-6)


def test_torso_input_casts_to_the_compute_dtype():
  frames = _frames(1)
  out = pixel_input.torso_input(tf.constant(frames), None, None, 0.0, None,
                                tf.bfloat16)
  assert out.dtype == tf.bfloat16
  # bfloat16 keeps 8 significant bits: within 2^-8 relative of x / 255.
  np.testing.assert_allclose(tf.cast(out, tf.float32).numpy(),
                             frames / 255.0, rtol=2 ** -8, atol=1e-6)


def test_merged_pixel_statistics_equal_the_running_mean_std_of_scaled_pixels():
  first, second = _frames(2), _frames(3)
  weights = np.array([1, 0, 1, 1, 0, 1, 1], np.float32)
  reference = RunningMeanStd()
  reference.update(first / np.float32(255.0))
  compiled = pixel_input.merged_pixel_statistics(
      tf.constant(second), tf.constant(weights), reference.count,
      reference.mean, reference.m2)
  reference.update(second / np.float32(255.0), weights)
  np.testing.assert_allclose(compiled.count.numpy(), 12.0)
  np.testing.assert_allclose(compiled.mean.numpy(), reference.mean.numpy(),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(compiled.m2.numpy(), reference.m2.numpy(),
                             rtol=1e-4, atol=1e-6)
  # And numpy's mean / variance of the 12 rows that count.
  rows = np.concatenate([first, second[weights > 0]]) / 255.0
  np.testing.assert_allclose(compiled.mean.numpy(), rows.mean(0), atol=1e-6)
  np.testing.assert_allclose(compiled.variance.numpy(), rows.var(0),
                             rtol=1e-4, atol=1e-6)


def test_torso_merge_matches_numpy_and_compiled_input_matches_op_by_op():
  frames = _frames(4, (5, 84, 84, 4))
  torso = FtwTorso(conv_filters=((4, 8, 4),), residual_filters=(),
                   hidden_size=8, normalize_inputs=True)
  torso(frames)  # The first call creates the statistics' variables.
  torso.update_input_statistics(frames, np.array([1, 1, 0, 1, 1], np.float32))
  kept = frames[[0, 1, 3, 4]] / 255.0
  norm = torso.input_normalizer
  np.testing.assert_allclose(norm.count.numpy(), 4.0)
  np.testing.assert_allclose(norm.mean.numpy(), kept.mean(0), atol=1e-6)
  np.testing.assert_allclose(norm.variance.numpy(), kept.var(0), rtol=1e-4,
                             atol=1e-6)
  # The compiled input equals the module's own op-by-op standardisation.
  x = tf.constant(frames)
  fused = pixel_input.torso_input(x, norm.mean, norm.variance, norm.epsilon,
                                  norm.clip, tf.float32)
  plain = norm(tf.cast(x, tf.float32) / 255.0)
  np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-5,
                             atol=1e-5)


def test_torso_rejects_frames_of_another_element_shape():
  torso = FtwTorso(conv_filters=((4, 8, 4),), residual_filters=(),
                   hidden_size=8, normalize_inputs=True)
  torso(_frames(5, (2, 84, 84, 4)))
  # [.., 1] would broadcast against the [84, 84, 4] statistics unchecked.
  with pytest.raises(ValueError, match="element shape"):
    torso(_frames(6, (2, 84, 84, 1)))
  with pytest.raises(ValueError, match="element shape"):
    torso.update_input_statistics(_frames(6, (2, 84, 84, 1)))
  with pytest.raises(ValueError, match="uint8 or float"):
    torso(np.zeros((2, 84, 84, 4), np.int32))
