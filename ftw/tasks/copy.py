"""Copy and repeat-copy tasks (Graves et al. 2014) as seeded batched datasets.

Both tasks emit time-major batches of random binary words. The network reads
the words, sees a delimiter, and must then write the words back (once for
copy, `repeats` times for repeat-copy) while its input is silent.

Layout of one sequence with L words of `num_bits` bits and R repeats
(copy is the case R = 1), channel index on the right:

  t = 0 .. L-1         inputs[t, b, :num_bits]  = word t       (mask 0)
  t = L                inputs[t, b, num_bits]   = 1 (delimiter) (mask 0)
                       inputs[t, b, num_bits+1] = R / max_repeats
  t = L+1 .. L+R*L     inputs[t, b, :]          = 0
                       targets[t, b, :]         = word (t-L-1) mod L (mask 1)
  t >= L+1+R*L         padding to the batch's longest sequence (mask 0)

The repeat channel is normalised into (0, 1] by dividing by `max_repeats`, so
copy always shows 1 there. Targets are zero wherever the mask is zero; only
masked steps are scored by `cost` and `bit_error`.
"""

from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf


class CopyBatch(NamedTuple):
  """A time-major batch of the copy tasks.

  inputs: float32 [T, B, num_bits + 2]: words, delimiter, repeat channel.
  targets: float32 [T, B, num_bits]: the words to write back (0 elsewhere).
  mask: float32 [T, B]: 1 where the output is scored, 0 elsewhere.
  """
  inputs: np.ndarray
  targets: np.ndarray
  mask: np.ndarray


def _check_rank(name: str, x: tf.Tensor, rank: int, layout: str):
  if x.shape.rank != rank:
    raise ValueError(f"{name} must have rank {rank} ({layout}), got shape {x.shape}.")


def cost(logits, targets, mask) -> tf.Tensor:
  """Sigmoid cross-entropy of the scored steps, summed over bits and time.

  Args:
    logits: float [T, B, num_bits], pre-sigmoid outputs of the network.
    targets: float [T, B, num_bits] of 0/1 bits.
    mask: float [T, B], 1 where the step is scored.

  Returns:
    Scalar: the masked cross-entropy summed over time and bits, averaged over
    the batch (the loss of the DNC paper's copy experiments).
  """
  logits = tf.convert_to_tensor(logits, tf.float32)
  targets = tf.convert_to_tensor(targets, tf.float32)
  mask = tf.convert_to_tensor(mask, tf.float32)
  _check_rank("logits", logits, 3, "[T, B, num_bits]")
  _check_rank("targets", targets, 3, "[T, B, num_bits]")
  _check_rank("mask", mask, 2, "[T, B]")
  xent = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
  per_step = tf.reduce_sum(xent, axis=-1) * mask
  batch_size = tf.cast(tf.shape(logits)[1], tf.float32)
  return tf.reduce_sum(per_step) / batch_size


def bit_error(logits, targets, mask) -> tf.Tensor:
  """Fraction of wrong bits over the scored steps.

  A bit is predicted 1 when its logit is > 0 (sigmoid > 0.5).

  Args:
    logits: float [T, B, num_bits].
    targets: float [T, B, num_bits] of 0/1 bits.
    mask: float [T, B], 1 where the step is scored.

  Returns:
    Scalar in [0, 1]: wrong bits / (scored steps x num_bits); 0 if nothing is
    scored.
  """
  logits = tf.convert_to_tensor(logits, tf.float32)
  targets = tf.convert_to_tensor(targets, tf.float32)
  mask = tf.convert_to_tensor(mask, tf.float32)
  _check_rank("logits", logits, 3, "[T, B, num_bits]")
  _check_rank("targets", targets, 3, "[T, B, num_bits]")
  _check_rank("mask", mask, 2, "[T, B]")
  predicted = tf.cast(logits > 0.0, tf.float32)
  wrong = tf.cast(tf.not_equal(predicted, targets), tf.float32)
  wrong = tf.reduce_sum(wrong, axis=-1) * mask
  num_bits = tf.cast(tf.shape(logits)[-1], tf.float32)
  scored = tf.reduce_sum(mask) * num_bits
  return tf.math.divide_no_nan(tf.reduce_sum(wrong), scored)


def _check_positive_int(name: str, value, minimum: int = 1):
  if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
    raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")


class RepeatCopyTask:
  """Repeat-copy: read L random words, then write them back R times.

  L is drawn uniformly from [min_length, max_length] and R from
  [min_repeats, max_repeats], independently per sequence. See the module
  docstring for the channel and time layout.
  """

  def __init__(self, num_bits: int = 6, min_length: int = 1, max_length: int = 8,
               batch_size: int = 16, seed: Optional[int] = None,
               min_repeats: int = 1, max_repeats: int = 2):
    """Initialises the task.

    Args:
      num_bits: bits per word (>= 1).
      min_length: fewest words in a sequence (>= 1).
      max_length: most words in a sequence (>= min_length).
      batch_size: sequences per batch (>= 1).
      seed: seed of the task's own numpy generator (None: fresh entropy).
      min_repeats: fewest repeats (>= 1).
      max_repeats: most repeats (>= min_repeats).

    Raises:
      ValueError: on a non-positive or inconsistent argument.
    """
    _check_positive_int("num_bits", num_bits)
    _check_positive_int("min_length", min_length)
    _check_positive_int("max_length", max_length, minimum=min_length)
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("min_repeats", min_repeats)
    _check_positive_int("max_repeats", max_repeats, minimum=min_repeats)
    self.num_bits = int(num_bits)
    self.min_length = int(min_length)
    self.max_length = int(max_length)
    self.batch_size = int(batch_size)
    self.min_repeats = int(min_repeats)
    self.max_repeats = int(max_repeats)
    self._rng = np.random.default_rng(seed)

  @property
  def input_size(self) -> int:
    return self.num_bits + 2

  @property
  def target_size(self) -> int:
    return self.num_bits

  @property
  def max_time(self) -> int:
    """Longest possible sequence: L + 1 + R * L at the largest L and R."""
    return self.max_length * (1 + self.max_repeats) + 1

  def sample(self, length: Optional[int] = None,
             repeats: Optional[int] = None) -> CopyBatch:
    """Draws one batch, padded to its longest sequence.

    Args:
      length: if given, every sequence has this many words (e.g. evaluation
        at max_length); otherwise drawn per sequence.
      repeats: if given, every sequence repeats this often; otherwise drawn.

    Returns:
      A `CopyBatch` of float32 arrays, time-major.
    """
    b = self.batch_size
    if length is None:
      lengths = self._rng.integers(self.min_length, self.max_length + 1, size=b)
    else:
      _check_positive_int("length", length)
      lengths = np.full([b], length)
    if repeats is None:
      reps = self._rng.integers(self.min_repeats, self.max_repeats + 1, size=b)
    else:
      _check_positive_int("repeats", repeats)
      if repeats > self.max_repeats:
        raise ValueError(f"repeats must be <= max_repeats={self.max_repeats}, "
                         f"got {repeats}.")
      reps = np.full([b], repeats)
    total = int(np.max(lengths * (1 + reps) + 1))
    inputs = np.zeros([total, b, self.num_bits + 2], np.float32)
    targets = np.zeros([total, b, self.num_bits], np.float32)
    mask = np.zeros([total, b], np.float32)
    for i, (n, r) in enumerate(zip(lengths, reps)):
      words = self._rng.integers(0, 2, size=[n, self.num_bits]).astype(np.float32)
      inputs[:n, i, :self.num_bits] = words
      inputs[n, i, self.num_bits] = 1.0
      inputs[n, i, self.num_bits + 1] = r / self.max_repeats
      targets[n + 1:n + 1 + r * n, i] = np.tile(words, [r, 1])
      mask[n + 1:n + 1 + r * n, i] = 1.0
    return CopyBatch(inputs, targets, mask)

  def as_dataset(self, length: Optional[int] = None) -> tf.data.Dataset:
    """An endless `tf.data.Dataset` of `sample()` batches (T varies per batch)."""
    signature = CopyBatch(
        tf.TensorSpec([None, self.batch_size, self.input_size], tf.float32),
        tf.TensorSpec([None, self.batch_size, self.target_size], tf.float32),
        tf.TensorSpec([None, self.batch_size], tf.float32))

    def generate():
      while True:
        yield self.sample(length=length)

    return tf.data.Dataset.from_generator(generate, output_signature=signature)

  # The losses as methods, so a training loop needs only the task object.
  cost = staticmethod(cost)
  bit_error = staticmethod(bit_error)


class CopyTask(RepeatCopyTask):
  """Copy: read L random words, then write them back once (Graves et al. 2014)."""

  def __init__(self, num_bits: int = 6, min_length: int = 1, max_length: int = 8,
               batch_size: int = 16, seed: Optional[int] = None):
    super().__init__(num_bits=num_bits, min_length=min_length,
                     max_length=max_length, batch_size=batch_size, seed=seed,
                     min_repeats=1, max_repeats=1)
