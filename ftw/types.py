"""Types shared across ftw's networks, environments and agents."""

from typing import Any, NamedTuple


class OAR(NamedTuple):
  """Observation with the previous action and reward, as the agent sees it.

  observation: the environment's observation (e.g. [B, 84, 84, 3] pixels).
  action: the previous action, int [B] or int [B, G] for G action groups.
  reward: the previous reward, float [B] (or [B, R] for reward vectors).
  """
  observation: Any
  action: Any
  reward: Any
