"""Replay item structures and the adder interface (Acme's names, our code).

An adder turns the actor's stream of dm_env TimeSteps and actions into Reverb
items. The conventions follow Acme so learners written against Acme's layout
read our items unchanged:

  step t holds the observation o_t, the action a_t taken at o_t, the reward
  r_{t+1} and discount d_{t+1} that followed a_t, whether o_t began an
  episode, and the extras (e.g. policy logits, recurrent state) computed at o_t.
"""

import abc
from typing import Any, NamedTuple, Optional

import dm_env

# Default table names shared by adders, tables and datasets.
SEQUENCE_TABLE = "sequence_queue"
RP_ZERO_TABLE = "rp_zero"
RP_NONZERO_TABLE = "rp_nonzero"
# Key of the recurrent state inside a mapping of extras; stored once per item.
CORE_STATE_KEY = "core_state"


class Step(NamedTuple):
  """One step of an item (all leaves unbatched when appended).

  observation: nest, o_t (usually `ftw.types.OAR`).
  action: a_t, as given by the actor (e.g. int32 []).
  reward: float32 [], r_{t+1}, the reward that followed a_t.
  discount: float32 [], d_{t+1}; 0 at a terminal transition.
  start_of_episode: bool [], True when o_t is the episode's first observation.
  extras: nest of what the actor computed at o_t (e.g. {'logits': [A]}).
  mask: float32 [], 1 for a real transition (o_t, a_t, r_{t+1}); 0 for the
    episode's final observation-only step and for zero padding.
  """
  observation: Any
  action: Any
  reward: Any
  discount: Any
  start_of_episode: Any
  extras: Any
  mask: Any


class RewardPredictionItem(NamedTuple):
  """A reward-prediction example: k frames and the reward that followed.

  frames: uint8 [k, H, W, C], pixels of o_{t-k+1} .. o_t (oldest first).
  reward: float32 [], r_{t+1}, the reward that followed a_t.
  """
  frames: Any
  reward: Any


class ServerUnavailableError(RuntimeError):
  """The Reverb server stopped answering while a writer waited on it."""


class Adder(abc.ABC):
  """Writes an actor's experience to replay (Acme's adder interface)."""

  @abc.abstractmethod
  def add_first(self, timestep: dm_env.TimeStep) -> None:
    """Starts an episode with its FIRST timestep."""

  @abc.abstractmethod
  def add(self, action: Any, next_timestep: dm_env.TimeStep,
          extras: Any = ()) -> None:
    """Records `action` taken at the last observation and what followed.

    Args:
      action: the action taken at the previous timestep's observation.
      next_timestep: the timestep the environment returned for `action`.
      extras: nest computed at the previous observation (logits, core state).
    """

  @abc.abstractmethod
  def reset(self) -> None:
    """Drops the episode in progress (its unwritten steps are discarded)."""

  @abc.abstractmethod
  def close(self, timeout_ms: Optional[int] = None) -> None:
    """Sends what is pending (waits <= timeout_ms), releases the connection."""

  def __enter__(self) -> "Adder":
    return self

  def __exit__(self, *unused_exc_info) -> None:
    self.close()
