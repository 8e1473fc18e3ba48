"""Neural Turing Machine addressing (Graves et al. 2014, section 3.3).

The four stages that turn a head's parameters into a weighting over memory:

  1. content:      w_c = softmax_i(beta * cos(k, M_i))
  2. interpolation: w_g = g * w_c + (1 - g) * w_prev
  3. shift:         w~_i = sum_j w_g_j * s_{(i - j) mod N}  (circular)
  4. sharpening:    w_i = w~_i ** gamma / sum_j w~_j ** gamma, gamma >= 1

Shapes: B batch, H heads, N memory slots, W word size, S = 2 * shift_range + 1
shift offsets ordered -shift_range .. +shift_range.
"""

import tensorflow as tf

# Keeps norms and powers away from 0, where sqrt / pow have no finite gradient.
_EPSILON = 1e-6


def cosine_similarity(memory: tf.Tensor, keys: tf.Tensor) -> tf.Tensor:
  """Cosine similarity of each key with each memory row.

  Args:
    memory: [B, N, W].
    keys: [B, H, W].

  Returns:
    [B, H, N] in [-1, 1]; 0 for an all-zero row or key (no NaN).
  """
  dot = tf.matmul(keys, memory, transpose_b=True)
  key_norm = tf.sqrt(tf.reduce_sum(tf.square(keys), axis=-1, keepdims=True) + _EPSILON)
  memory_norm = tf.sqrt(tf.reduce_sum(tf.square(memory), axis=-1) + _EPSILON)
  return dot / (key_norm * memory_norm[:, tf.newaxis, :])


def content_weights(memory: tf.Tensor, keys: tf.Tensor,
                    strengths: tf.Tensor) -> tf.Tensor:
  """Content-based weighting softmax(beta * cos(k, M_i)).

  Args:
    memory: [B, N, W].
    keys: [B, H, W].
    strengths: [B, H], the key strengths beta >= 0.

  Returns:
    [B, H, N] weightings, each summing to 1.
  """
  similarity = cosine_similarity(memory, keys)
  return tf.nn.softmax(similarity * strengths[..., tf.newaxis], axis=-1)


def interpolate(content: tf.Tensor, previous: tf.Tensor, gate: tf.Tensor) -> tf.Tensor:
  """Gated mix g * content + (1 - g) * previous; gate [B, H], weights [B, H, N]."""
  gate = gate[..., tf.newaxis]
  return gate * content + (1.0 - gate) * previous


def circular_shift(weights: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
  """Circular convolution of weightings with a distribution over offsets.

  Args:
    weights: [B, H, N].
    shifts: [B, H, S], S odd, a distribution over offsets -(S-1)/2 .. (S-1)/2.
      Offset +1 moves weight from slot i to slot i + 1 (mod N).

  Returns:
    [B, H, N]; sums to the sum of `weights` when `shifts` sums to 1.
  """
  num_shifts = shifts.shape[-1]
  shift_range = (num_shifts - 1) // 2
  rolled = [tf.roll(weights, shift=offset, axis=-1)
            for offset in range(-shift_range, shift_range + 1)]
  rolled = tf.stack(rolled, axis=-1)  # [B, H, N, S]
  return tf.reduce_sum(rolled * shifts[:, :, tf.newaxis, :], axis=-1)


def sharpen(weights: tf.Tensor, gamma: tf.Tensor) -> tf.Tensor:
  """w ** gamma renormalised; gamma [B, H] >= 1, weights [B, H, N] >= 0."""
  # Dividing by the largest weight first leaves the result unchanged but keeps
  # the largest power at 1, so a large gamma cannot underflow every entry.
  weights = weights + _EPSILON
  weights = weights / tf.reduce_max(weights, axis=-1, keepdims=True)
  powered = tf.pow(weights, gamma[..., tf.newaxis])
  return powered / tf.reduce_sum(powered, axis=-1, keepdims=True)


def address(memory: tf.Tensor, previous: tf.Tensor, keys: tf.Tensor,
            strengths: tf.Tensor, gate: tf.Tensor, shifts: tf.Tensor,
            gamma: tf.Tensor) -> tf.Tensor:
  """The full NTM addressing pipeline; see the module docstring for shapes."""
  weights = content_weights(memory, keys, strengths)
  weights = interpolate(weights, previous, gate)
  weights = circular_shift(weights, shifts)
  return sharpen(weights, gamma)
