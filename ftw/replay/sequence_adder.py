"""Fixed-length sequence adder for one environment stream, on Reverb.

Items are `base.Step` nests of T consecutive steps of one episode, written on
Reverb's TrajectoryWriter so that overlapping items share the same chunks.

Sequence starts. Items start at episode steps 0, P, 2P, ... (P = period) and an
item is written as soon as its T steps exist. At the end of an episode one
more step is appended: the final observation with zero action, reward and
discount and mask 0 (the learner needs it to bootstrap and for pixel control).
The first item whose window reaches that final step is padded with zero steps
(mask 0) up to T and written; later starts are not, and an item is never
written if it would hold no real transition. A new episode always starts a new
item: items never cross episodes.

Choosing P. The learner trains positions 0..T-2 of an item and uses position
T-1 only to bootstrap. With P = T - 1 consecutive items overlap by one step
and every transition is trained exactly once: this is the recommended
default. P = T trains no transition that lands on position T-1; P < T - 1
trains most transitions more than once.

Recurrent state. When `extras` is a mapping holding `core_state_key`, the core
state is appended only at steps where an item starts and each item stores the
state of its first step once (no time dimension); the rest of `extras` is
stored per step.

Reward prediction. When `reward_prediction_tables=(zero, nonzero)` is given,
after every transition t with t >= k - 1 an item `RewardPredictionItem(frames =
pixels of o_{t-k+1..t}, reward = r_{t+1})` goes to `zero` if r_{t+1} == 0 else
to `nonzero`. Pixels are `observation.observation` for an `ftw.types.OAR`,
else the observation itself. The first k - 1 steps of an episode make no
reward-prediction item: the k frames are always from the same episode and no
padding frames are ever shown to the reward predictor.

Shutdown. Writes go through `timed_writer.TimedWriter`: a wait on a full
table lasts as long as the server answers; a missing server raises
`ServerUnavailableError` after `flush_timeout_ms`; `close()` waits at most
`flush_timeout_ms` and never raises.
"""

from typing import Any, Mapping, Optional, Sequence

import dm_env
import numpy as np
import reverb
import tree

from ftw import checks
from ftw import types
from ftw.replay import base
from ftw.replay import timed_writer

_DEFAULT_FLUSH_TIMEOUT_MS = 10_000


def _pixels(observation: Any) -> Any:
  """The frames shown to the reward predictor."""
  if isinstance(observation, types.OAR):
    return observation.observation
  return observation


def check_item_arguments(sequence_length, period, max_in_flight_items,
                         reward_prediction_tables, reward_prediction_frames):
  """Raises a ValueError naming the first item argument out of range."""
  checks.check_int("sequence_length", sequence_length, 2)
  if not checks.is_int(period) or not 1 <= period <= sequence_length:
    raise ValueError(f"period must be an int in [1, sequence_length="
                     f"{sequence_length}], got {period!r}")
  checks.check_int("max_in_flight_items", max_in_flight_items, 1)
  if reward_prediction_tables is not None and (
      isinstance(reward_prediction_tables, str) or
      len(reward_prediction_tables) != 2):
    raise ValueError("reward_prediction_tables must be None or a pair of "
                     f"table names (zero, nonzero), got "
                     f"{reward_prediction_tables!r}")
  checks.check_int("reward_prediction_frames", reward_prediction_frames, 1)


class SequenceAdder(base.Adder):
  """Writes fixed-length sequences of one environment stream to Reverb."""

  def __init__(self,
               client: reverb.Client,
               sequence_length: int,
               period: int,
               table: str = base.SEQUENCE_TABLE,
               max_in_flight_items: int = 32,
               pad_end_of_episode: bool = True,
               reward_prediction_tables: Optional[Sequence[str]] = None,
               reward_prediction_frames: int = 3,
               flush_timeout_ms: int = _DEFAULT_FLUSH_TIMEOUT_MS,
               core_state_key: Optional[str] = base.CORE_STATE_KEY):
    """Creates the adder and its TrajectoryWriter.

    Args:
      client: a `reverb.Client` connected to the replay server.
      sequence_length: T >= 2, steps per item.
      period: P in [1, T], steps between item starts (P = T - 1 recommended).
      table: name of the sequence table.
      max_in_flight_items: items allowed to be unconfirmed by the server
        before `add` blocks (backpressure from the table's rate limiter).
      pad_end_of_episode: pad the last item of an episode with zero steps to
        T; if False it is written shorter (the table then needs a signature
        with an unknown time dimension, or none).
      reward_prediction_tables: None, or the names (zero, nonzero) of the
        reward-prediction tables.
      reward_prediction_frames: k >= 1, frames per reward-prediction item.
      flush_timeout_ms: > 0, longest single wait on the writer.
      core_state_key: key of the recurrent state in mapping extras, stored
        once per item; None stores all extras per step.

    Raises:
      ValueError: on an argument out of range.
    """
    check_item_arguments(sequence_length, period, max_in_flight_items,
                         reward_prediction_tables, reward_prediction_frames)

    self._length = sequence_length
    self._period = period
    self._table = table
    self._max_in_flight = max_in_flight_items
    self._pad = pad_end_of_episode
    self._rp_tables = (tuple(reward_prediction_tables)
                       if reward_prediction_tables is not None else None)
    self._rp_frames = reward_prediction_frames
    self._core_key = core_state_key
    self._timed = timed_writer.TimedWriter(
        client, max(sequence_length, reward_prediction_frames),
        flush_timeout_ms)
    self._writer = self._timed.writer
    # Steps are appended as flat lists of leaves in `tree.flatten(Step)`
    # order (None where a core state is not stored): cheaper for the writer
    # to flatten, and a flat list of columns is a valid item trajectory.
    # Set up from the first step; later steps must keep its structure, so
    # the writer's columns (and `_history`, a list of them) never change.
    self._structure = None  # (observation, action, extras) of step 0
    self._is_core = None  # per leaf: part of the core state?
    self._core_nones = None  # core state structure filled with None
    self._pixels_index = None
    self._reward_index = None
    self._history = None
    self._clear_episode()

  # --- Adder interface -----------------------------------------------------

  def add_first(self, timestep: dm_env.TimeStep) -> None:
    self._check_open()
    if timestep.step_type != dm_env.StepType.FIRST:
      raise ValueError("add_first needs a FIRST timestep, got step_type "
                       f"{timestep.step_type!r}")
    if self._observation is not None:
      raise ValueError("add_first called while an episode is in progress: "
                       "the previous episode must end with a LAST timestep "
                       "(or call reset())")
    if self._rp_tables is not None and tree.is_nested(
        _pixels(timestep.observation)):
      raise ValueError("reward prediction needs an array observation or an "
                       "ftw.types.OAR whose .observation is an array, got "
                       f"{type(timestep.observation).__name__}")
    self._observation = timestep.observation

  def add(self, action: Any, next_timestep: dm_env.TimeStep,
          extras: Any = ()) -> None:
    self._check_open()
    if self._observation is None:
      raise ValueError("add called before add_first (no episode in progress)")
    if next_timestep.step_type == dm_env.StepType.FIRST:
      raise ValueError("add got a FIRST timestep: start episodes with "
                       "add_first")
    self._check_structure(action, extras)
    per_step_extras, core_state = self._split_extras(extras)
    if core_state is not None:
      if self._t % self._period:  # Not an item start: state not stored.
        core_state = self._core_nones
      per_step_extras = dict(per_step_extras)
      per_step_extras[self._core_key] = core_state
    step = base.Step(
        observation=self._observation,
        action=np.asarray(action),
        reward=np.asarray(next_timestep.reward, np.float32),
        discount=np.asarray(next_timestep.discount, np.float32),
        start_of_episode=np.bool_(self._t == 0),
        extras=per_step_extras,
        mask=np.float32(1.0))
    if self._is_core is None:
      self._set_up_columns(step)
    self._append(step)
    self._maybe_add_reward_prediction(step.reward)
    self._maybe_add_sequence()

    if next_timestep.last():
      self._end_of_episode(next_timestep.observation, step)
    else:
      self._observation = next_timestep.observation

  @property
  def core_state_key(self) -> Optional[str]:
    return self._core_key

  def core_state_placeholder(self) -> Any:
    """What `add` may get as the core state at a step that does not store it.

    The recurrent state is kept only where an item starts; at other steps a
    caller may pass this (the state's structure filled with None) instead of
    converting and slicing a real state. None when the next step stores it.
    """
    if self._core_nones is None or self._t % self._period == 0:
      return None
    return self._core_nones

  def reset(self) -> None:
    """Drops the unwritten steps of the episode in progress."""
    self._check_open()
    self._timed.end_episode()
    self._clear_episode()

  def close(self, timeout_ms: Optional[int] = None) -> None:
    """Sends pending items (waits <= timeout_ms), closes the writer.

    `timeout_ms` defaults to flush_timeout_ms; a job that is stopping passes
    a short one. Unwritten steps of an unfinished episode are dropped. Never
    raises for a missing server; the loss of unconfirmed items is logged.
    Idempotent.
    """
    self._timed.close(timeout_ms)

  # --- Episode bookkeeping -------------------------------------------------

  def _clear_episode(self) -> None:
    self._observation = None  # o_t awaiting its action.
    self._t = 0  # Steps appended in this episode (incl. final and padding).

  def _split_extras(self, extras: Any):
    """Splits mapping extras into (per-step extras, core state or None)."""
    if (self._core_key is not None and isinstance(extras, Mapping) and
        self._core_key in extras):
      rest = {k: v for k, v in extras.items() if k != self._core_key}
      return rest, extras[self._core_key]
    return extras, None

  def _set_up_columns(self, step: base.Step) -> None:
    """Records the leaf layout of the first step; configures core columns."""
    paths = [path for path, _ in tree.flatten_with_path(step)]
    self._is_core = [path[:2] == ("extras", self._core_key) for path in paths]
    _, core_state = self._split_extras(step.extras)
    self._core_nones = tree.map_structure(lambda _: None, core_state)
    obs_path = (("observation", "observation")
                if isinstance(step.observation, types.OAR) else
                ("observation",))
    self._pixels_index = paths.index(obs_path) if obs_path in paths else None
    self._reward_index = paths.index(("reward",))
    for index, is_core in enumerate(self._is_core):
      if is_core:  # One chunk per stored state: only item starts are sent.
        self._writer.configure((index,), num_keep_alive_refs=self._length,
                               max_chunk_length=1)

  def _check_structure(self, action: Any, extras: Any) -> None:
    current = (self._observation, action, extras)
    if self._structure is None:
      self._structure = tree.map_structure(lambda _: None, current)
      return
    try:
      tree.assert_same_structure(self._structure, current, check_types=False)
    except (ValueError, TypeError) as e:
      raise ValueError(
          "observation, action and extras must keep the structure of the "
          f"first step {self._structure}: {e}") from e

  def _append(self, step: base.Step) -> None:
    self._writer.append(tree.flatten(step))
    self._t += 1
    if self._history is None:
      # The first append created every column; columns are reset in place
      # between episodes, so this view stays valid.
      self._history = self._writer.history

  def _end_of_episode(self, final_observation: Any,
                      last_step: base.Step) -> None:
    """Appends the final observation, writes the last (padded) item."""
    try:
      tree.assert_same_structure(self._structure[0], final_observation,
                                 check_types=False)
    except (ValueError, TypeError) as e:
      raise ValueError("the LAST observation must have the structure of the "
                       f"others {self._structure[0]}: {e}") from e
    zeros = lambda nest: tree.map_structure(np.zeros_like, nest)
    extras, core_state = self._split_extras(last_step.extras)
    extras = zeros(extras)
    if core_state is not None:
      extras[self._core_key] = self._core_nones
    final = base.Step(
        observation=final_observation,
        action=zeros(last_step.action),
        reward=np.zeros_like(last_step.reward),
        discount=np.zeros_like(last_step.discount),
        start_of_episode=np.bool_(False),
        extras=extras,
        mask=np.float32(0.0))
    self._append(final)
    wrote_covering_item = self._maybe_add_sequence()
    num_steps = self._t
    num_transitions = num_steps - 1
    if num_steps < self._length:
      next_start = 0
    else:
      next_start = ((num_steps - self._length) // self._period + 1) * (
          self._period)
    if not wrote_covering_item and next_start <= num_transitions - 1:
      if self._pad:
        padding = tree.map_structure(
            lambda x: None if x is None else np.zeros_like(x), final)
        while self._t < next_start + self._length:
          self._append(padding)
        self._add_sequence(self._length)
      else:
        self._add_sequence(num_steps - next_start)
    self._timed.end_episode(block_until_num_items=self._max_in_flight)
    self._clear_episode()

  # --- Items ---------------------------------------------------------------

  def _maybe_add_sequence(self) -> bool:
    """Writes the item ending at the newest step if one starts T steps back."""
    excess = self._t - self._length
    if excess >= 0 and excess % self._period == 0:
      self._add_sequence(self._length)
      return True
    return False

  def _add_sequence(self, length: int) -> None:
    """Creates an item from the newest `length` steps.

    The trajectory is the flat list of columns in `tree.flatten(Step)` order,
    which is how Reverb flattens a `Step` nest (and its table signature).
    """
    trajectory = [column[-length] if is_core else column[-length:]
                  for column, is_core in zip(self._history, self._is_core)]
    self._writer.create_item(self._table, 1.0, trajectory)
    self._timed.flush(self._max_in_flight)

  def _maybe_add_reward_prediction(self, reward: np.ndarray) -> None:
    if self._rp_tables is None or self._t < self._rp_frames:
      return
    if reward.shape != ():
      raise ValueError("reward prediction needs scalar rewards, got shape "
                       f"{reward.shape}")
    item = base.RewardPredictionItem(
        frames=self._history[self._pixels_index][-self._rp_frames:],
        reward=self._history[self._reward_index][-1])
    table = self._rp_tables[0] if reward == 0 else self._rp_tables[1]
    self._writer.create_item(table, 1.0, item)
    self._timed.flush(self._max_in_flight)

  def _check_open(self) -> None:
    if self._timed.closed:
      raise RuntimeError("SequenceAdder is closed")
