"""A learner's iterator over a Reverb dataset that must never hang.

Datasets made with a rate-limiter timeout end when no item arrives for that
long; that lets a learner blocked on an empty queue notice a stop request.
`ResumingIterator` makes the dataset again unless `should_stop()` says the
job is over, so a quiet spell is not the end of training.

Items sampled from a queue are gone from it. A dataset that ends while its
last batch is incomplete must therefore hand over the items it has (made
with `drop_remainder=False`), and the iterator carries them into the next
batches: no item is lost when the queue runs dry, however slowly it fills
(before, a learner whose actors wrote fewer than a batch per timeout threw
every partial batch away and never trained).

An ended dataset's iterator is released in a background thread: deleting a
tf.data iterator over Reverb waits for its prefetch thread, which can sit
in a sample for seconds (seen: 8-9 s in the learner's thread, which then
noticed a stop request that late).
"""

import collections
import threading
from typing import Any, Callable, Optional

import tensorflow as tf
import tree

DATASET_TIMEOUT_MS = 1000
"""The rate-limiter timeout the builders give their datasets."""


def _size(batch: Any) -> int:
  return int(tree.flatten(batch)[0].shape[0])


def _concat(a: Any, b: Any) -> Any:
  return tree.map_structure(lambda x, y: tf.concat([x, y], 0), a, b)


def _rows(batch: Any, start: int, stop: Optional[int] = None) -> Any:
  return tree.map_structure(lambda x: x[start:stop], batch)


class _Releaser:
  """Drops the iterators handed to it in its own daemon thread.

  `hand_over(owner, attribute)` moves the iterator out of
  `owner.attribute` (which becomes None); the thread drops it only after
  that, so the last reference, and the wait of the deletion, are its own.
  """

  def __init__(self):
    self._items = collections.deque()
    self._ready = 0  # Items at the front of _items that only we hold.
    self._lock = threading.Lock()
    self._wake = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True,
                                    name="dataset-release")
    self._thread.start()

  def hand_over(self, owner: Any, attribute: str):
    self._items.append(getattr(owner, attribute))
    setattr(owner, attribute, None)
    with self._lock:
      self._ready += 1
    self._wake.set()

  def _run(self):
    while True:
      self._wake.wait()
      self._wake.clear()
      with self._lock:
        ready, self._ready = self._ready, 0
      for _ in range(ready):
        self._items.popleft()  # The deletion (and its wait) happens here.


class ResumingIterator:
  """Iterates datasets from `make_dataset()`, remaking one that ended.

  With `batch_size`, batches smaller than it (a dataset's last, made with
  `drop_remainder=False`) are carried over and completed with the next
  dataset's items; every batch returned has exactly `batch_size` rows.

  Raises StopIteration only when a dataset ended and `should_stop()` is
  True.
  """

  def __init__(self, make_dataset: Callable[[], "tf.data.Dataset"],
               should_stop: Callable[[], bool],
               batch_size: Optional[int] = None):
    if batch_size is not None and batch_size < 1:
      raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    self._make = make_dataset
    self._should_stop = should_stop
    self._batch_size = batch_size
    self._iterator = None
    self._carry = None  # Rows [b < batch_size, ...] awaiting a batch.
    self._releaser: Optional[_Releaser] = None

  def __iter__(self):
    return self

  @property
  def carried(self) -> int:
    """Items held over from a dataset that ended mid-batch."""
    return 0 if self._carry is None else _size(self._carry)

  def _next_batch(self):
    while True:
      if self._iterator is None:
        self._iterator = iter(self._make())
      try:
        return next(self._iterator)
      except (StopIteration, tf.errors.OutOfRangeError,
              tf.errors.DeadlineExceededError):
        pass  # The error (and the frames holding the iterator) goes here.
      self._release_iterator()
      if self._should_stop():
        raise StopIteration

  def _release_iterator(self):
    if self._releaser is None:
      self._releaser = _Releaser()
    self._releaser.hand_over(self, "_iterator")

  def __next__(self):
    while True:
      batch = self._next_batch()
      if self._batch_size is None:
        return batch
      if self._carry is not None:
        batch = _concat(self._carry, batch)
        self._carry = None
      size = _size(batch)
      if size < self._batch_size:
        self._carry = batch  # The dataset ends next: keep its items.
        continue
      if size > self._batch_size:
        self._carry = _rows(batch, self._batch_size)
        batch = _rows(batch, 0, self._batch_size)
      return batch
