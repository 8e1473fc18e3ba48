"""Moving network weights from a learner (variable source) to actors."""

import threading
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from ftw import core


def to_numpy(variables: Sequence[tf.Variable]):
  return [v.numpy() for v in variables]


def unscoped_variables(module: tf.Module) -> Sequence[tf.Variable]:
  """`module.variables`, read without entering the module's name scope.

  Sonnet runs every method and property (`variables` too) inside
  `module.name_scope`: one object per module whose stack of scope-restoring
  functions all threads share. A thread reading the variables (a variable
  source serving actors, a peer copying weights) while the learner thread
  is inside the module (tracing its step) can pop the learner's entry
  instead of its own and stay in the module's scope: a full test run once
  left later tests, variables and summary tags under 'simple_ftw_network/'.
  tf.Module's property finds the same variables in the same order, without
  a name scope.
  """
  return tf.Module.variables.fget(module)


class VariableClient:
  """Copies the source's variables into local ones every `update_period` calls.

  `update()` counts calls; on every `update_period`-th call it fetches from
  the source. With `asynchronous=True` the fetch runs in a background thread
  and the new values are assigned on the next call after it arrives, so an
  actor does not wait on a remote learner.
  """

  def __init__(self, source: core.VariableSource,
               variables: Sequence[tf.Variable], update_period: int = 1,
               key: str = "policy", asynchronous: bool = False):
    if update_period <= 0:
      raise ValueError(f"update_period must be > 0, got {update_period}")
    self._source = source
    self._variables = list(variables)
    self._period = update_period
    self._key = key
    self._async = asynchronous
    self._calls = 0
    self._pending: Optional[threading.Thread] = None
    self._fetched = None

  def update(self, wait: bool = False):
    """Counts a call; fetches (and assigns) when the period is reached."""
    self._calls += 1
    if self._fetched is not None:
      self._assign(self._fetched)
      self._fetched = None
    if wait:
      self.update_and_wait()
      return
    if self._calls % self._period:
      return
    if not self._async:
      self.update_and_wait()
    elif self._pending is None or not self._pending.is_alive():
      self._pending = threading.Thread(target=self._fetch, daemon=True)
      self._pending.start()

  def update_and_wait(self):
    self._assign(self._source.get_variables([self._key])[0])

  def _fetch(self):
    self._fetched = self._source.get_variables([self._key])[0]

  def _assign(self, values):
    if len(values) != len(self._variables):
      raise ValueError(
          f"variable source sent {len(values)} arrays for {len(self._variables)}"
          " local variables: the actor's and learner's networks differ")
    for variable, value in zip(self._variables, values):
      variable.assign(np.asarray(value))
