"""Capture the Flag arenas as player slots, the way an FTW actor sees them.

An actor steps N environments as one batch (`VectorEnv`). A team game is
the same to it: A arenas of P players are N = A * P slots, slot
`a * P + p` being player p of arena a, stepped together with one batched
network call, each slot's trajectory written to replay as its own sequence
(architecture notes: "multi-agent environments are, to an actor, just more
slots"). `CtfSlots` has VectorEnv's interface and semantics (values with a
leading [N], specs of ONE slot, an arena whose episode ended is reset on the
next `step` and its rows are then FIRST), with each slot's value an OAR:

  observation  OAR(observation=rgb uint8 [N, S, S, 3],
                   action=previous action int32 [N] (or [N, G]),
                   reward=previous event vector float32 [N, E])
  reward       float32 [N, E]: the step's game events (`ctf_events`), the
               vector FTW's internal reward r = w . events is made from
               (`InternalRewards` in the embedding and in the learner);
  discount     float32 [N].

The game's own reward (+1 per capture by my team, -1 per capture by the
other, Melting Pot's default) is `game_reward(reward)`: it is exactly
team_capture - opponent_capture of the event vector, so nothing is lost by
handing the agent events instead. `pop_outcomes()` gives the outcome of
every episode that ended since its last call (scores, win/draw/loss, event
counts), for logs and the evaluator.
"""

from typing import Callable, List, Sequence, Tuple, Union

import dm_env
from dm_env import specs
import numpy as np

from ftw.envs import ctf_events
from ftw.envs.ctf import CaptureTheFlag
from ftw.types import OAR

ArenaOrFactory = Union[CaptureTheFlag, Callable[[], CaptureTheFlag]]

_TEAM_CAPTURE = ctf_events.EVENT_NAMES.index("team_capture")
_OPPONENT_CAPTURE = ctf_events.EVENT_NAMES.index("opponent_capture")


def game_reward(events: np.ndarray) -> np.ndarray:
  """The game's reward [...] of event vectors [..., E]: captures by my team
  minus captures by the other team."""
  events = np.asarray(events)
  if events.shape[-1:] != (ctf_events.NUM_EVENTS,):
    raise ValueError(f"events must have shape [..., {ctf_events.NUM_EVENTS}]"
                     f", got {events.shape}.")
  return events[..., _TEAM_CAPTURE] - events[..., _OPPONENT_CAPTURE]


class CtfSlots:
  """A Capture the Flag arenas as A * P slots (see the module docstring)."""

  def __init__(self, arenas: Sequence[ArenaOrFactory]):
    """Builds the slots.

    Args:
      arenas: CaptureTheFlag environments, or callables that each return
        one; all with the same number of players, action mode and image
        size.
    """
    if not isinstance(arenas, Sequence) or not arenas:
      raise ValueError(f"arenas must be a non-empty sequence of "
                       f"CaptureTheFlag environments or factories, got "
                       f"{arenas!r}.")
    built = []
    for i, arena in enumerate(arenas):
      if not isinstance(arena, CaptureTheFlag) and callable(arena):
        arena = arena()
      if not isinstance(arena, CaptureTheFlag):
        raise ValueError(f"arenas[{i}] must be (or make) a CaptureTheFlag, "
                         f"got {arena!r}.")
      built.append(arena)
    first = built[0]
    for i, arena in enumerate(built[1:], 1):
      if (arena.num_players != first.num_players or
          arena.action_spec() != first.action_spec() or
          arena.observation_spec() != first.observation_spec()):
        raise ValueError(f"arenas[{i}] differs from arenas[0] in players, "
                         f"actions or observations; all must match.")
    self._arenas = built
    self._players = first.num_players
    self._action_spec = first.action_spec()
    self._action_shape = tuple(self._action_spec.shape)
    self._needs_reset = [True] * len(built)
    self._prev_action = np.zeros((self.num_envs, *self._action_shape),
                                 np.int32)
    self._outcomes: List[Tuple[int, ctf_events.Outcome]] = []

  @property
  def num_envs(self) -> int:
    """N = arenas x players: the actor's batch."""
    return len(self._arenas) * self._players

  @property
  def num_arenas(self) -> int:
    return len(self._arenas)

  @property
  def num_players(self) -> int:
    return self._players

  @property
  def arenas(self) -> Sequence[CaptureTheFlag]:
    return tuple(self._arenas)

  @property
  def teams(self) -> np.ndarray:
    """int32 [N]: the team (0 red, 1 blue) of each slot's player."""
    return np.concatenate([arena.teams for arena in self._arenas])

  def pop_outcomes(self) -> List[Tuple[int, ctf_events.Outcome]]:
    """(arena index, Outcome) of each episode ended since the last call."""
    outcomes, self._outcomes = self._outcomes, []
    return outcomes

  def _slots(self, a: int) -> slice:
    return slice(a * self._players, (a + 1) * self._players)

  def _batch(self, timesteps: Sequence[dm_env.TimeStep]) -> dm_env.TimeStep:
    step_types, rewards, discounts, frames = [], [], [], []
    for a, ts in enumerate(timesteps):
      self._needs_reset[a] = ts.last()
      first = ts.first()
      if first:
        self._prev_action[self._slots(a)] = 0
      elif ts.last():
        self._outcomes.append((a, self._arenas[a].outcome()))
      step_types.append(np.full(self._players, ts.step_type, np.int32))
      # The events of the step are the reward; the arena already gives
      # zeros at FIRST.
      rewards.append(ts.observation.events)
      discounts.append(ts.discount)
      frames.append(ts.observation.rgb)
    reward = np.concatenate(rewards).astype(np.float32, copy=False)
    return dm_env.TimeStep(
        step_type=np.concatenate(step_types),
        reward=reward,
        discount=np.concatenate(discounts).astype(np.float32, copy=False),
        observation=OAR(np.concatenate(frames), self._prev_action.copy(),
                        reward))

  def reset(self) -> dm_env.TimeStep:
    """Resets every arena; returns the batch of FIRST timesteps."""
    return self._batch([arena.reset() for arena in self._arenas])

  def step(self, actions) -> dm_env.TimeStep:
    """Steps every arena with its players' actions (resets ended arenas).

    Args:
      actions: int [N] (discrete) or [N, G] (multi-discrete), slot order.
    """
    actions = np.asarray(actions)
    expected = (self.num_envs,) + self._action_shape
    if actions.shape != expected or actions.dtype.kind not in "iu":
      raise ValueError(f"actions must be ints of shape {expected} (arenas x "
                       f"players, *action_shape), got {actions.dtype} "
                       f"{actions.shape}.")
    timesteps = []
    for a, arena in enumerate(self._arenas):
      if self._needs_reset[a]:
        timesteps.append(arena.reset())
      else:
        timesteps.append(arena.step(actions[self._slots(a)]))
        self._prev_action[self._slots(a)] = actions[self._slots(a)]
    return self._batch(timesteps)

  def observation_spec(self) -> OAR:
    arena_spec = self._arenas[0].observation_spec()
    action = self._action_spec
    if isinstance(action, specs.DiscreteArray):
      previous = specs.DiscreteArray(action.num_values, np.int32,
                                     name="previous_action")
    else:
      previous = specs.BoundedArray(action.shape, np.int32, action.minimum,
                                    action.maximum, name="previous_action")
    return OAR(arena_spec.rgb, previous,
               specs.Array(arena_spec.events.shape, np.float32,
                           name="previous_reward"))

  def action_spec(self):
    return self._action_spec

  def reward_spec(self) -> specs.Array:
    return specs.Array((ctf_events.NUM_EVENTS,), np.float32, name="events")

  def discount_spec(self) -> specs.BoundedArray:
    return self._arenas[0].discount_spec()

  def game_reward(self, reward: np.ndarray) -> np.ndarray:
    """The game's reward [N] of a step's event rewards [N, E]."""
    return game_reward(reward)

  def close(self) -> None:
    for arena in self._arenas:
      arena.close()

  def __enter__(self) -> "CtfSlots":
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()
