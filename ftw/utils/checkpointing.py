"""Periodic checkpoints of TensorFlow objects plus plain Python state.

`Checkpointer` wraps `tf.train.CheckpointManager`: it saves every
`save_every_seconds` (and on demand, e.g. at exit) and restores the latest
checkpoint on request. Python-side state such as counters is stored as a
JSON string variable inside the same checkpoint, so one file set restores
weights, optimiser slots and counts together.
"""

import json
import os
import time
from typing import Any, Callable, Dict, Optional

import tensorflow as tf


class _JsonState(tf.Module):
  """Holds a JSON-encoded dict as a string variable (checkpointable)."""

  def __init__(self):
    super().__init__(name="json_state")
    self.value = tf.Variable("{}", dtype=tf.string, trainable=False)


class Checkpointer:
  """Saves `objects` and the dict returned by `get_state` periodically."""

  def __init__(self, directory: str, objects: Dict[str, Any],
               get_state: Optional[Callable[[], Dict[str, Any]]] = None,
               set_state: Optional[Callable[[Dict[str, Any]], None]] = None,
               save_every_seconds: float = 300.0, max_to_keep: int = 2):
    if save_every_seconds <= 0:
      raise ValueError(
          f"save_every_seconds must be > 0, got {save_every_seconds}")
    self._get_state = get_state
    self._set_state = set_state
    self._json = _JsonState()
    self._checkpoint = tf.train.Checkpoint(**objects, python_state=self._json)
    os.makedirs(directory, exist_ok=True)
    self._manager = tf.train.CheckpointManager(
        self._checkpoint, directory, max_to_keep=max_to_keep)
    self._every = save_every_seconds
    self._last_save = time.monotonic()
    self.directory = directory

  @property
  def latest(self) -> Optional[str]:
    return self._manager.latest_checkpoint

  def save(self, force: bool = False) -> Optional[str]:
    """Saves when forced or when `save_every_seconds` have passed."""
    if not force and time.monotonic() - self._last_save < self._every:
      return None
    if self._get_state is not None:
      self._json.value.assign(json.dumps(self._get_state()))
    path = self._manager.save()
    self._last_save = time.monotonic()
    return path

  def restore(self) -> bool:
    """Restores the latest checkpoint; returns False when there is none."""
    latest = self._manager.latest_checkpoint
    if latest is None:
      return False
    # Optimiser slots may not exist yet: restore is deferred for those.
    self._checkpoint.restore(latest)
    if self._set_state is not None:
      self._set_state(json.loads(self._json.value.numpy().decode()))
    return True


CHECKPOINT_FOLDER = "checkpoints"


def learner_checkpointer(learner, logdir: str, every_seconds: float,
                         get_state: Optional[Callable[[], Dict[str, Any]]] = None,
                         set_state: Optional[Callable[[Dict[str, Any]], None]]
                         = None) -> Checkpointer:
  """The checkpointer of a learner, as every launcher wires it.

  What a learner checkpoint holds is the learner's to say
  (`learner.checkpoint_objects()`: network, optimiser, normalisers...);
  where it goes (`<logdir>/checkpoints`) and how often (`every_seconds`,
  the config's `checkpoint_every_seconds`) is decided here, once. The
  launcher adds only the Python state it owns (counters) through
  `get_state` / `set_state`.
  """
  return Checkpointer(os.path.join(logdir, CHECKPOINT_FOLDER),
                      objects=learner.checkpoint_objects(),
                      get_state=get_state, set_state=set_state,
                      save_every_seconds=every_seconds)
