"""The formal language a^n b^n as next-symbol prediction (Joulin & Mikolov 2015).

A sequence is `a^n b^n $`. The model reads it one symbol at a time and predicts
the next. While reading a's the next symbol is not determined (one more `a` or
the first `b`); once the first `b` has been read, every later symbol is: `b`
until n b's have been read, then the end symbol `$`. Those positions measure
whether a model counts; evaluating them for n beyond the training range
measures whether it generalises.

Batches are time-major `[T, B]`, padded with `$` after each sequence and
masked out there.
"""

from typing import NamedTuple, Sequence

import numpy as np

A, B, END = 0, 1, 2
VOCAB_SIZE = 3
SYMBOLS = "ab$"


class AnBnBatch(NamedTuple):
  """A padded, time-major batch of a^n b^n sequences.

  Attributes:
    inputs: `[T, B]` int32 symbols read at each step.
    targets: `[T, B]` int32 next symbols.
    mask: `[T, B]` float32, 1 on the 2n real steps of each sequence.
    deterministic: `[T, B]` float32, 1 where the target is determined (the
      input is a `b`): n steps per sequence.
    n: `[B]` int32, the n of each sequence.
  """
  inputs: np.ndarray
  targets: np.ndarray
  mask: np.ndarray
  deterministic: np.ndarray
  n: np.ndarray


def anbn_sequence(n: int) -> np.ndarray:
  """The symbols of `a^n b^n $`, int32 `[2n + 1]`."""
  if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
    raise ValueError(f"n must be an int >= 1, got {n!r}.")
  return np.array([A] * n + [B] * n + [END], dtype=np.int32)


def anbn_batch(ns: Sequence[int], length: int = 0) -> AnBnBatch:
  """A batch with one sequence per entry of `ns`.

  Args:
    ns: the n of each sequence, each >= 1.
    length: number of steps T; 0 means `2 * max(ns)`. Must be >= 2 * max(ns).

  Returns:
    An `AnBnBatch` of T steps.

  Raises:
    ValueError: on an empty `ns`, an n < 1 or a too short `length`.
  """
  ns = [int(n) if isinstance(n, np.integer) else n for n in ns]
  if not ns:
    raise ValueError("ns must hold at least one n.")
  sequences = [anbn_sequence(n) for n in ns]
  needed = 2 * max(ns)
  length = length or needed
  if length < needed:
    raise ValueError(f"length must be >= 2 * max(ns) = {needed}, got {length}.")
  padded = np.full([len(ns), length + 1], END, dtype=np.int32)
  for i, seq in enumerate(sequences):
    padded[i, :len(seq)] = seq
  steps = np.arange(length)[None, :]
  n = np.asarray(ns, dtype=np.int32)[:, None]
  mask = (steps < 2 * n).astype(np.float32)
  deterministic = ((steps >= n) & (steps < 2 * n)).astype(np.float32)
  return AnBnBatch(inputs=padded[:, :-1].T.copy(), targets=padded[:, 1:].T.copy(),
                   mask=mask.T.copy(), deterministic=deterministic.T.copy(),
                   n=n[:, 0])


def sample_anbn_batch(rng: np.random.Generator, batch_size: int, min_n: int,
                      max_n: int, length: int = 0) -> AnBnBatch:
  """A batch with n drawn uniformly from `[min_n, max_n]`.

  `length` 0 means `2 * max_n`, so every batch has the same shape.
  """
  if isinstance(batch_size, bool) or not isinstance(batch_size, int) or (
      batch_size < 1):
    raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}.")
  if not 1 <= min_n <= max_n:
    raise ValueError(f"need 1 <= min_n <= max_n, got min_n={min_n}, "
                     f"max_n={max_n}.")
  ns = rng.integers(min_n, max_n + 1, size=batch_size)
  return anbn_batch(ns, length or 2 * max_n)
