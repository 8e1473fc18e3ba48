"""Acme's agent interfaces, kept as ftw's own small module.

dm-acme is not a dependency (see README), but its names are what users of
actor-learner frameworks know, so ftw keeps them: an `Actor` acts and
observes, a `Learner` steps (or `run`s) on replayed data, is a
`VariableSource` that actors pull weights from, and `close`s when done.
"""

import abc
from typing import Any, List, Optional, Sequence, Tuple

import dm_env
import numpy as np

Nest = Any


class Actor(abc.ABC):
  """Interacts with environments: picks actions and records what follows."""

  @abc.abstractmethod
  def select_action(self, observation: Nest) -> np.ndarray:
    """Returns the actions to take for a (batched) observation."""

  @abc.abstractmethod
  def observe_first(self, timestep: dm_env.TimeStep):
    """Records the first timestep of an episode (or of every env's episode)."""

  @abc.abstractmethod
  def observe(self, action: np.ndarray, next_timestep: dm_env.TimeStep):
    """Records the action taken and the timestep that followed it."""

  @abc.abstractmethod
  def update(self, wait: bool = False):
    """Pulls fresh variables from the variable source when it is time."""


class VariableSource(abc.ABC):
  """Something actors can ask for the current network weights."""

  @abc.abstractmethod
  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    """Returns, for each name, the list of that group's variable values."""


def check_variable_groups(names: Sequence[str], groups: Sequence[str]):
  """Raises ValueError naming every name of `names` not in `groups` (what a
  learner's `get_variables` serves)."""
  unknown = [n for n in names if n not in groups]
  if unknown:
    raise ValueError(f"unknown variable group(s) {unknown}; this learner "
                     f"serves {tuple(groups)}")


class Learner(VariableSource):
  """Updates the agent's parameters from replayed experience."""

  @abc.abstractmethod
  def step(self):
    """Performs one update."""

  def run(self, num_steps: Optional[int] = None):
    """Steps num_steps times, or forever when None."""
    i = 0
    while num_steps is None or i < num_steps:
      self.step()
      i += 1

  # What close() lets go of: the replay iterator(s), and the traced update,
  # which holds a bound method of the learner (a reference cycle).
  _RELEASED_ON_CLOSE: Tuple[str, ...] = ("_iterator", "_step_fn")
  _closed = False  # Set by close().

  def close(self):
    """Releases the replay iterators, and the reader threads behind them,
    now rather than at whichever later garbage collection breaks the cycle
    through the traced update. Variables stay readable (get_variables,
    checkpoints); step() raises afterwards. Idempotent."""
    for name in self._RELEASED_ON_CLOSE:
      setattr(self, name, None)
    self._closed = True

  @property
  def closed(self) -> bool:
    """Whether close() was called."""
    return self._closed

  def _check_open(self):
    """Raises RuntimeError if close() was called: call first in step()."""
    if self._closed:
      raise RuntimeError(f"{type(self).__name__}.step() after close()")
