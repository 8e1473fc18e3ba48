"""Catch with the full FTW network: what `make run` trains.

FtwConfig's defaults are this agent: FtwTorso + RPTH (fast and slow
variational units sharing a 32x16 DNC memory) + pixel control + reward
prediction + RPTH KL, V-trace, Adam, 16 environments per actor. A Catch
episode is 9 actions plus the final observation, so sequences of 10 steps
hold one episode with no padding.
"""

from agents.ftw.config import FtwConfig


def get_config() -> FtwConfig:
  return FtwConfig(
      environment="catch",
      sequence_length=10,
      variable_update_period=10,
      max_seconds=15 * 60,
      eval_every_seconds=30.0,
      eval_episodes=32,
  )
