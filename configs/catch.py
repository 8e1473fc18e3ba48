"""Catch with the full FTW network: what `make run` trains.

The full FTW agent at a size for Catch: FtwTorso + RPTH (LSTMs of 128,
latent z of 64, slow period 4, fast and slow variational units sharing a
32x16 DNC memory with 2 read heads) + pixel control + reward prediction +
RPTH KL, V-trace, Adam, 16 environments per actor. A Catch
episode is 9 actions plus the final observation, so sequences of 10 steps
hold one episode with no padding.
"""

from agents.ftw.config import FtwConfig


def get_config() -> FtwConfig:
  return FtwConfig(
      environment="catch",
      hidden_size=128,
      num_dimensions=64,
      rpth_period=4,
      memory_size=32,
      word_size=16,
      num_reads=2,
      head_hidden_size=128,
      sequence_length=10,
      variable_update_period=10,
      max_seconds=15 * 60,
      eval_every_seconds=30.0,
      eval_episodes=32,
  )
