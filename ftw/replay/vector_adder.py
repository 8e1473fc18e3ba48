"""Sequence adder for a vectorised actor that writes whole items at once.

Same items as `BatchedSequenceAdder` (one `SequenceAdder` per row; see
`sequence_adder` for the layout: T-step windows starting every P steps of an
episode, the final observation appended with mask 0, the last window padded
with zeros, items never crossing episodes, the core state stored once per
item), built differently: each row's current window lives in numpy buffers
`[N, T, ...]` filled with one fancy-indexed assignment per leaf and vector
step, and a finished window goes to Reverb as ONE `append` of `[T, ...]`
arrays plus one `create_item`. The per-row, per-step Reverb calls of
`BatchedSequenceAdder` (16 rows: 16 appends and slices a step) become about
N / (T - 1) appends a step. Consecutive items share T - P steps, which are
sent twice (1/(T-1) more bytes with P = T - 1).

Reward prediction items (`RewardPredictionItem`, k frames of one episode and
the reward that followed) are written per transition as in `SequenceAdder`,
from a per-row ring of the last k frames. With `reward_prediction_zero_
probability` < 1 only that fraction of the zero-reward transitions is sent
(every non-zero one is): the zero table is sampled uniformly and refills far
faster than it is read, so a fraction keeps it as fresh at a fraction of the
inserts.
"""

from typing import Any, List, Optional, Sequence

import dm_env
import numpy as np
import reverb
import tree

from ftw import checks
from ftw import types
from ftw.replay import base
from ftw.replay import sequence_adder
from ftw.replay import timed_writer

_DEFAULT_FLUSH_TIMEOUT_MS = 10_000


def _leading(nest: Any) -> List[np.ndarray]:
  return [np.asarray(leaf) for leaf in tree.flatten(nest)]


class VectorSequenceAdder(base.Adder):
  """Writes fixed-length sequences of N auto-resetting streams to Reverb."""

  def __init__(self,
               client: reverb.Client,
               num_envs: int,
               sequence_length: int,
               period: int,
               table: str = base.SEQUENCE_TABLE,
               max_in_flight_items: int = 32,
               reward_prediction_tables: Optional[Sequence[str]] = None,
               reward_prediction_frames: int = 3,
               reward_prediction_zero_probability: float = 1.0,
               flush_timeout_ms: int = _DEFAULT_FLUSH_TIMEOUT_MS,
               core_state_key: Optional[str] = base.CORE_STATE_KEY,
               seed: Optional[int] = None):
    """Creates the adder and its writers.

    Args:
      client: a `reverb.Client` connected to the replay server.
      num_envs: N >= 1, rows of the vectorised environment.
      sequence_length: T >= 2, steps per item.
      period: P in [1, T], steps between item starts (P = T - 1 recommended).
      table: name of the sequence table.
      max_in_flight_items: items allowed unconfirmed before a write blocks.
      reward_prediction_tables: None, or the names (zero, nonzero).
      reward_prediction_frames: k >= 1, frames per reward-prediction item.
      reward_prediction_zero_probability: in (0, 1], fraction of zero-reward
        transitions written to the zero table.
      flush_timeout_ms: > 0, longest single wait on a writer.
      core_state_key: key of the recurrent state in mapping extras, stored
        once per item; None stores all extras per step.
      seed: seeds the choice of zero-reward items.

    Raises:
      ValueError: on an argument out of range.
    """
    num_envs = checks.check_int("num_envs", num_envs, 1)
    sequence_adder.check_item_arguments(
        sequence_length, period, max_in_flight_items,
        reward_prediction_tables, reward_prediction_frames)
    if not 0.0 < reward_prediction_zero_probability <= 1.0:
      raise ValueError("reward_prediction_zero_probability must be in (0, 1], "
                       f"got {reward_prediction_zero_probability!r}")
    self._n = num_envs
    self._length = sequence_length
    self._period = period
    self._table = table
    self._max_in_flight = max_in_flight_items
    self._rp_tables = (tuple(reward_prediction_tables)
                       if reward_prediction_tables is not None else None)
    self._rp_frames = reward_prediction_frames
    self._rp_zero_p = float(reward_prediction_zero_probability)
    self._rng = np.random.default_rng(seed)
    self._core_key = core_state_key
    self._timed = timed_writer.TimedWriter(client, 1, flush_timeout_ms)
    self._rp_timed = (timed_writer.TimedWriter(client, 1, flush_timeout_ms)
                      if self._rp_tables is not None else None)
    self._rows = np.arange(num_envs)
    self._t = np.zeros(num_envs, np.int64)  # Steps of the episode so far.
    self._pos = np.zeros(num_envs, np.int64)  # Steps in the current window.
    self._active = np.zeros(num_envs, bool)  # An episode is in progress.
    self._pending = None  # Observation leaves [N, ...] awaiting actions.
    self._obs_structure = None
    self._buffers = None  # Per Step leaf: [N, T, ...]; None until step 1.
    self._is_core = None
    self._paths = None
    self._num_obs = None
    self._pixels_index = None
    self._rp_ring = None  # [N, k, ...] each row's last k frames, circular.

  # --- Adder interface -----------------------------------------------------

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    """Starts an episode in every row (all rows must be FIRST)."""
    self._check_open()
    step_type = np.asarray(timestep.step_type)
    self._check_rows("timestep.step_type", [step_type])
    if not (step_type == int(dm_env.StepType.FIRST)).all():
      raise ValueError("add_first needs FIRST timesteps in every row, got "
                       f"step_type {step_type.tolist()}")
    if self._active.any():
      raise ValueError("add_first called while episodes are in progress "
                       "(call reset() first)")
    self._set_pending(timestep.observation)
    self._t[:] = 0
    self._pos[:] = 0
    self._active[:] = True

  def add(self, action: Any, next_timestep: dm_env.TimeStep,
          extras: Any = ()) -> None:
    """Adds one vector step (see `BatchedSequenceAdder.add`)."""
    self._check_open()
    if not self._active.all():
      raise ValueError("add called before add_first (no episode in progress)")
    step_type = np.asarray(next_timestep.step_type)
    self._check_rows("timestep.step_type", [step_type])
    first = step_type == int(dm_env.StepType.FIRST)
    last = step_type == int(dm_env.StepType.LAST)
    per_step, core_state = self._split_extras(extras)
    action_leaves = _leading(action)
    extras_leaves = _leading(per_step)
    self._check_rows("action", action_leaves)
    self._check_rows("extras", extras_leaves)
    if self._buffers is None:
      self._set_up(action, per_step, core_state, next_timestep.reward)
    rows = self._rows[~first]
    if rows.size:
      self._append_transitions(rows, action_leaves, extras_leaves,
                               core_state, next_timestep)
    full = rows[self._pos[rows] == self._length]
    for i in full:
      self._write_item(i)
      self._shift(i)
    next_observation = _leading(next_timestep.observation)
    self._check_rows("timestep.observation", next_observation)
    for i in self._rows[last]:
      self._end_episode(i, next_observation)
    self._set_pending(next_timestep.observation)
    self._t[first] = 0
    self._pos[first] = 0
    if full.size or last.any():
      self._timed.flush(self._max_in_flight)

  def reset(self) -> None:
    """Drops the unwritten steps of every row's episode."""
    self._check_open()
    self._active[:] = False
    self._t[:] = 0
    self._pos[:] = 0

  def flush(self) -> None:
    """Waits until every written item is in the tables (the tables' rate
    limiters apply); raises `ServerUnavailableError` when the server is gone.
    """
    self._timed.flush(0)
    if self._rp_timed is not None:
      self._rp_timed.flush(0)

  def close(self, timeout_ms: Optional[int] = None) -> None:
    """Sends pending items (waits <= timeout_ms), closes the writers."""
    self._timed.close(timeout_ms)
    if self._rp_timed is not None:
      self._rp_timed.close(timeout_ms)

  @property
  def core_state_key(self) -> Optional[str]:
    return self._core_key

  # --- Set-up --------------------------------------------------------------

  def _check_open(self) -> None:
    if self._timed.closed:
      raise RuntimeError("VectorSequenceAdder is closed")

  def _check_rows(self, name: str, leaves: Sequence[Any]) -> None:
    for leaf in leaves:
      shape = tuple(leaf.shape) if hasattr(leaf, "shape") else np.shape(leaf)
      if len(shape) < 1 or shape[0] != self._n:
        raise ValueError(f"{name} leaves must have leading dimension "
                         f"num_envs={self._n}, got shape {shape}")

  def _split_extras(self, extras: Any):
    if (self._core_key is not None and isinstance(extras, dict) and
        self._core_key in extras):
      rest = {k: v for k, v in extras.items() if k != self._core_key}
      return rest, extras[self._core_key]
    return extras, None

  def _set_pending(self, observation: Any) -> None:
    leaves = _leading(observation)
    self._check_rows("timestep.observation", leaves)
    if self._obs_structure is None:
      self._obs_structure = tree.map_structure(lambda _: None, observation)
      if self._rp_tables is not None and tree.is_nested(
          observation.observation if isinstance(observation, types.OAR)
          else observation):
        raise ValueError("reward prediction needs an array observation or "
                         "an ftw.types.OAR whose .observation is an array")
    elif len(leaves) != len(tree.flatten(self._obs_structure)):
      raise ValueError("observation must keep the structure of the first "
                       f"one {self._obs_structure}")
    # Copies: the environment may reuse its arrays.
    self._pending = [np.array(leaf) for leaf in leaves]

  def _set_up(self, action, per_step, core_state, reward) -> None:
    """Allocates [N, T, ...] buffers from the first step's leaves (a reward
    may be a vector per row, e.g. a team game's events)."""
    row = lambda nest: tree.map_structure(lambda x: np.asarray(x)[0], nest)
    observation = tree.unflatten_as(self._obs_structure,
                                    [p[0] for p in self._pending])
    extras = row(per_step)
    if core_state is not None:
      extras = dict(extras)
      extras[self._core_key] = tree.map_structure(
          lambda x: np.asarray(x)[0], core_state)
    step = base.Step(observation=observation, action=row(action),
                     reward=np.zeros(np.shape(reward)[1:], np.float32),
                     discount=np.float32(0),
                     start_of_episode=np.bool_(False), extras=extras,
                     mask=np.float32(0))
    paths_leaves = tree.flatten_with_path(step)
    self._paths = [path for path, _ in paths_leaves]
    self._is_core = [path[:2] == ("extras", self._core_key) and
                     core_state is not None for path in self._paths]
    self._buffers = [
        np.zeros((self._n, self._length) + np.shape(leaf),
                 np.asarray(leaf).dtype) for _, leaf in paths_leaves]
    self._num_obs = len(self._pending)
    obs_path = (("observation", "observation")
                if isinstance(observation, types.OAR) else ("observation",))
    self._pixels_index = self._paths.index(obs_path)
    if self._rp_tables is not None:
      pixels = self._buffers[self._pixels_index]
      self._rp_ring = np.zeros((self._n, self._rp_frames) + pixels.shape[2:],
                               pixels.dtype)

  # --- Steps ---------------------------------------------------------------

  def _step_values(self, rows, action_leaves, extras_leaves, core_leaves,
                   next_timestep) -> List[Any]:
    """Values [len(rows), ...] per Step leaf, in `tree.flatten(Step)` order."""
    reward = np.asarray(next_timestep.reward, np.float32)[rows]
    discount = np.asarray(next_timestep.discount, np.float32)[rows]
    start = self._t[rows] == 0
    ones = np.ones(len(rows), np.float32)
    values = [p[rows] for p in self._pending]
    values += [a[rows] for a in action_leaves]
    values += [reward, discount, start]
    # Extras leaves in flatten order, the core state's among them.
    core_iter = iter(core_leaves or ())
    extras_iter = iter(extras_leaves)
    for is_core in self._is_core[len(values):-1]:
      values.append(next(core_iter) if is_core else next(extras_iter)[rows])
    return values + [ones]

  def _append_transitions(self, rows, action_leaves, extras_leaves,
                          core_state, next_timestep) -> None:
    pos = self._pos[rows]
    starts = rows[self._t[rows] % self._period == 0]
    core_leaves = None
    if core_state is not None:
      core_leaves = [None] * len(tree.flatten(core_state))
      if starts.size:  # Convert the state only when an item starts.
        core_leaves = [np.asarray(leaf) for leaf in tree.flatten(core_state)]
    values = self._step_values(rows, action_leaves, extras_leaves,
                               core_leaves, next_timestep)
    if len(values) != len(self._buffers):
      raise ValueError("action and extras must keep the structure of the "
                       "first step")
    start_pos = self._pos[starts]
    for buffer, value, is_core in zip(self._buffers, values, self._is_core):
      if is_core:
        if value is not None and starts.size:
          buffer[starts, start_pos] = value[starts]
      else:
        buffer[rows, pos] = value
    self._t[rows] += 1
    self._pos[rows] += 1
    if self._rp_tables is not None:
      self._add_reward_prediction(rows, values[self._pixels_index],
                                  values[self._paths.index(("reward",))])

  def _add_reward_prediction(self, rows, pixels, rewards) -> None:
    # Circular: the episode's frame t-1 goes to slot (t-1) % k, so a step
    # writes one frame per row instead of shifting all k (32 Pong rows,
    # k=3: 0.03 against 0.33 ms).
    ring, k = self._rp_ring, self._rp_frames
    t = self._t[rows]  # Transitions so far, this one included.
    ring[rows, (t - 1) % k] = pixels
    ready = t >= k
    # A reward vector (game events) is "nonzero" when any entry is.
    nonzero = np.any(rewards.reshape(len(rows), -1) != 0, axis=1)
    keep = ready
    if self._rp_zero_p < 1.0:  # Draw only when zero rewards are subsampled.
      keep = ready & (nonzero |
                      (self._rng.random(len(rows)) < self._rp_zero_p))
    writer = self._rp_timed.writer
    for j in np.flatnonzero(keep):
      # Oldest first; fancy indexing copies.
      frames = ring[rows[j], np.arange(t[j] - k, t[j]) % k]
      writer.append([frames, rewards[j]])
      table = self._rp_tables[1] if nonzero[j] else self._rp_tables[0]
      writer.create_item(table, 1.0, [column[-1] for column in writer.history])
    if keep.any():
      self._rp_timed.flush(self._max_in_flight)

  # --- Items ---------------------------------------------------------------

  def _write_item(self, i: int) -> None:
    leaves = [buffer[i, 0] if is_core else buffer[i]
              for buffer, is_core in zip(self._buffers, self._is_core)]
    writer = self._timed.writer
    writer.append(leaves)
    writer.create_item(self._table, 1.0,
                       [column[-1] for column in writer.history])

  def _shift(self, i: int) -> None:
    keep = self._length - self._period
    if keep:
      for buffer in self._buffers:
        buffer[i, :keep] = buffer[i, self._period:]
    self._pos[i] = keep

  def _end_episode(self, i: int, observation: List[np.ndarray]) -> None:
    """Appends row i's final observation; writes its last (padded) item."""
    pos = self._pos[i]
    for index, (buffer, is_core) in enumerate(zip(self._buffers,
                                                  self._is_core)):
      if index < self._num_obs:
        buffer[i, pos] = observation[index][i]
      elif not is_core:
        buffer[i, pos] = 0
    self._t[i] += 1
    self._pos[i] += 1
    if self._pos[i] == self._length:  # The covering item is complete.
      self._write_item(i)
    elif self._pos[i] >= 2:  # The window holds a real transition: pad it.
      for buffer, is_core in zip(self._buffers, self._is_core):
        if not is_core:
          buffer[i, self._pos[i]:] = 0
      self._write_item(i)
    self._t[i] = 0
    self._pos[i] = 0
