"""The torso's input path over whole frame batches, compiled with XLA.

Before its first convolution FtwTorso scales pixels to [0, 1], standardises
them with running statistics, clips them and casts them to its compute
dtype; the learner also merges every batch into those statistics. Run as
separate TensorFlow ops each step is a pass over all frames (640 frames of
84x84x4 in a Pong update: 18M values), several per step. XLA fuses each
path into one loop over the frames. Measured on a 2-core Xeon (AMX), 640
frames, one thread per op: standardising 43 -> 9 ms, merging the statistics
76 -> 34 ms (`bench/pixel_input.py`; `bench/ftw_learner_parts.py` gives the
whole update).
Pixel control's pseudo-rewards were slower under XLA (28 -> 34 ms) and
stay as they are.

Both functions are pure (the statistics come in as tensors); TensorFlow
compiles them once per input shape.
"""

import functools
from typing import Optional

import tensorflow as tf

from ftw.tf.networks import normalization

_jit = functools.partial(tf.function, jit_compile=True, autograph=False)


def unit_pixels(inputs: tf.Tensor) -> tf.Tensor:
  """uint8 pixels -> float32 in [0, 1]; float pixels -> float32 as given."""
  if inputs.dtype == tf.uint8:
    return tf.cast(inputs, tf.float32) / 255.
  return tf.cast(inputs, tf.float32)


@_jit
def torso_input(inputs: tf.Tensor, mean: Optional[tf.Tensor],
                variance: Optional[tf.Tensor], epsilon: float,
                clip: Optional[float], compute_dtype: tf.DType) -> tf.Tensor:
  """Pixels [B, H, W, C] -> what the first convolution reads, in
  `compute_dtype`: scaled to [0, 1], then standardised unless mean is None."""
  x = unit_pixels(inputs)
  if mean is not None:
    x = normalization.standardize(x, mean, variance, epsilon, clip)
  return tf.cast(x, compute_dtype)


@_jit
def merged_pixel_statistics(inputs: tf.Tensor, weights: Optional[tf.Tensor],
                            count: tf.Tensor, mean: tf.Tensor,
                            m2: tf.Tensor) -> normalization.MergedStatistics:
  """Running statistics merged with the scaled pixels [N, H, W, C] (rows
  weighted by weights [N] in {0, 1}, None: all 1); see `normalization.merge_statistics`."""
  return normalization.merge_statistics(count, mean, m2, unit_pixels(inputs),
                                        weights)
