"""Sequence adder for a vectorised actor: one call per vector step.

A VectorEnv with auto-reset steps N environments at once and returns batched
dm_env TimeSteps (step_type [N], reward [N], discount [N], observation nest
with leading N). A row whose previous step was LAST comes back as FIRST on the
next call (the action chosen for it at LAST is ignored by the environment).
`BatchedSequenceAdder` keeps one `SequenceAdder` (one TrajectoryWriter) per
row and routes each row: FIRST rows start a new episode, the others add a
step. Rows' episodes end independently; items never mix rows.
"""

from typing import Any, List, Mapping, Optional

import dm_env
import numpy as np
import reverb
import tree

from ftw import checks
from ftw.replay import base
from ftw.replay import sequence_adder


def _as_numpy(nest: Any) -> Any:
  # Tensors (e.g. a Sonnet core state) become numpy once per vector step.
  if all(isinstance(leaf, np.ndarray) for leaf in tree.flatten(nest)):
    return nest
  return tree.map_structure(np.asarray, nest)


class BatchedSequenceAdder(base.Adder):
  """N `SequenceAdder`s fed from batched TimeSteps, actions and extras."""

  def __init__(self, client: reverb.Client, num_envs: int, **adder_kwargs):
    """Creates one adder per environment row.

    Args:
      client: a `reverb.Client` connected to the replay server.
      num_envs: N >= 1, rows of the vectorised environment.
      **adder_kwargs: `SequenceAdder` arguments (sequence_length, period,
        table, max_in_flight_items, pad_end_of_episode,
        reward_prediction_tables, reward_prediction_frames, flush_timeout_ms,
        core_state_key).

    Raises:
      ValueError: if num_envs < 1 or an adder argument is out of range.
    """
    num_envs = checks.check_int("num_envs", num_envs, 1)
    self._num_envs = num_envs
    self._adders: List[sequence_adder.SequenceAdder] = [
        sequence_adder.SequenceAdder(client, **adder_kwargs)
        for _ in range(num_envs)]

  @property
  def adders(self) -> List[sequence_adder.SequenceAdder]:
    """The per-row adders, row i at index i."""
    return list(self._adders)

  def _check_rows(self, name: str, nest: Any) -> None:
    for leaf in tree.flatten(nest):
      shape = tuple(leaf.shape) if hasattr(leaf, "shape") else np.shape(leaf)
      if len(shape) < 1 or shape[0] != self._num_envs:
        raise ValueError(f"{name} leaves must have leading dimension "
                         f"num_envs={self._num_envs}, got shape {shape}")

  def _row(self, timestep: dm_env.TimeStep, i: int) -> dm_env.TimeStep:
    pick = lambda x: None if x is None else x[i]
    return dm_env.TimeStep(
        step_type=dm_env.StepType(int(timestep.step_type[i])),
        reward=pick(timestep.reward),
        discount=pick(timestep.discount),
        observation=tree.map_structure(lambda x: x[i], timestep.observation))

  def _check_timestep(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    timestep = timestep._replace(
        step_type=np.asarray(timestep.step_type),
        observation=_as_numpy(timestep.observation))
    self._check_rows("timestep.step_type", timestep.step_type)
    self._check_rows("timestep.observation", timestep.observation)
    return timestep

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    """Starts an episode in every row (all rows must be FIRST)."""
    timestep = self._check_timestep(timestep)
    for i, adder in enumerate(self._adders):
      adder.add_first(self._row(timestep, i))

  def add(self, action: Any, next_timestep: dm_env.TimeStep,
          extras: Any = ()) -> None:
    """Adds one vector step.

    Args:
      action: [N] (or nest with leading N), the actions taken at the previous
        observations.
      next_timestep: the batched timestep the VectorEnv returned.
      extras: nest with leading N computed at the previous observations. A
        recurrent state under the adders' core-state key may stay a
        TensorFlow nest: it is converted and sliced only for rows whose next
        step starts an item (the only steps that store it).
    """
    action = _as_numpy(action)
    extras, core_state = self._split_core_state(extras)
    extras = _as_numpy(extras)
    next_timestep = self._check_timestep(next_timestep)
    self._check_rows("action", action)
    self._check_rows("extras", extras)
    rows = [self._row(next_timestep, i) for i in range(self._num_envs)]
    placeholders = [None if row.first() else adder.core_state_placeholder()
                    for row, adder in zip(rows, self._adders)]
    if core_state is not None:
      self._check_rows("extras core state", core_state)
      if any(p is None for p, row in zip(placeholders, rows)
             if not row.first()):
        core_state = _as_numpy(core_state)
    for i, (adder, row) in enumerate(zip(self._adders, rows)):
      if row.first():
        adder.add_first(row)
        continue
      row_extras = tree.map_structure(lambda x: x[i], extras)
      if core_state is not None:
        row_extras[adder.core_state_key] = (
            placeholders[i] if placeholders[i] is not None else
            tree.map_structure(lambda x: x[i], core_state))
      adder.add(tree.map_structure(lambda x: x[i], action), row, row_extras)

  def _split_core_state(self, extras: Any):
    """(extras without the core state, core state or None)."""
    key = self._adders[0].core_state_key
    if key is None or not isinstance(extras, Mapping) or key not in extras:
      return extras, None
    return {k: v for k, v in extras.items() if k != key}, extras[key]

  def reset(self) -> None:
    for adder in self._adders:
      adder.reset()

  def close(self, timeout_ms: Optional[int] = None) -> None:
    """Closes every row's writer, each waiting at most `timeout_ms`."""
    for adder in self._adders:
      adder.close(timeout_ms)
