"""A learner's iterator over a Reverb dataset that must never hang.

Datasets made with a rate-limiter timeout end when no item arrives for that
long; that lets a learner blocked on an empty queue notice a stop request.
`ResumingIterator` makes the dataset again unless `should_stop()` says the
job is over, so a quiet spell is not the end of training.
"""

from typing import Callable

import tensorflow as tf

DATASET_TIMEOUT_MS = 1000
"""The rate-limiter timeout the builders give their datasets."""


class ResumingIterator:
  """Iterates datasets from `make_dataset()`, remaking one that ended.

  Raises StopIteration only when a dataset ended and `should_stop()` is
  True.
  """

  def __init__(self, make_dataset: Callable[[], "tf.data.Dataset"],
               should_stop: Callable[[], bool]):
    self._make = make_dataset
    self._should_stop = should_stop
    self._iterator = None

  def __iter__(self):
    return self

  def __next__(self):
    while True:
      if self._iterator is None:
        self._iterator = iter(self._make())
      try:
        return next(self._iterator)
      except (StopIteration, tf.errors.OutOfRangeError,
              tf.errors.DeadlineExceededError):
        self._iterator = None
        if self._should_stop():
          raise StopIteration from None
