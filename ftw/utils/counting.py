"""Thread-safe step counters that can be nested and checkpointed.

A `Counter` keeps named counts ("actor_steps", "learner_steps", "episodes").
A child counter created with a `prefix` forwards its increments to its parent
under "<prefix>_<key>", so every node can count on its own while one parent
holds the job's totals (locally a plain Counter, on Ray a counter node).
"""

import threading
import time
from typing import Any, Dict, Mapping, Optional, Union

Number = Union[int, float]


class Counter:
  """Named counts, optionally forwarded to a parent counter."""

  def __init__(self, parent: Optional["Counter"] = None, prefix: str = ""):
    if parent is not None and not hasattr(parent, "increment"):
      raise ValueError(
          f"parent must be a Counter (or have increment()), got {parent!r}")
    self._parent = parent
    self._prefix = prefix
    self._counts: Dict[str, Number] = {}
    self._lock = threading.Lock()

  def increment(self, **counts: Number) -> Dict[str, Number]:
    """Adds to the named counts and returns all counts afterwards."""
    for key, value in counts.items():
      if not isinstance(value, (int, float)):
        raise ValueError(f"count {key!r} must be a number, got {value!r}")
    with self._lock:
      for key, value in counts.items():
        self._counts[key] = self._counts.get(key, 0) + value
    if self._parent is not None:
      self._parent.increment(
          **{self._prefixed(k): v for k, v in counts.items()})
    return self.get_counts()

  def get_counts(self) -> Dict[str, Number]:
    """Returns the job's counts: the root counter holds every node's."""
    if self._parent is not None:
      return self._parent.get_counts()
    with self._lock:
      return {self._prefixed(k): v for k, v in self._counts.items()}

  def _prefixed(self, key: str) -> str:
    return f"{self._prefix}_{key}" if self._prefix else key

  def save(self) -> Mapping[str, Number]:
    with self._lock:
      return dict(self._counts)

  def restore(self, state: Mapping[str, Number]):
    with self._lock:
      self._counts = dict(state)


class StepsPerSecond:
  """Rate of a growing count, measured between successive calls."""

  def __init__(self):
    self._last_time = None
    self._last_value = None

  def __call__(self, value: Number) -> float:
    now = time.monotonic()
    rate = 0.0
    if self._last_time is not None and now > self._last_time:
      rate = (value - self._last_value) / (now - self._last_time)
    self._last_time, self._last_value = now, value
    return rate


class LearnerStepLog:
  """What every learner does after an update: counts the step (`steps`
  under its counter's prefix, 'learner' -> 'learner_steps'), turns the
  step's metrics into floats and logs them with the counts and the rate."""

  def __init__(self, counter: Counter, logger=None):
    self._counter = counter
    self._logger = logger
    self._rate = StepsPerSecond()

  def record(self, metrics: Mapping[str, Any]) -> Dict[str, float]:
    """Counts one step; returns the metrics as floats (+ the rate if logged)."""
    counts = self._counter.increment(steps=1)
    results = {k: float(v) for k, v in metrics.items()}
    if self._logger is not None:
      results["learner_steps_per_second"] = self._rate(
          counts.get("learner_steps", 0))
      self._logger.write({**results, **counts})
    return results
