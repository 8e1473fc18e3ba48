"""Catch with the full FTW network: what `make run` trains.

FtwTorso + RPTH (fast and slow variational units sharing a DNC memory) +
pixel control + reward prediction, V-trace, on 16 Catch environments. A
Catch episode is 9 actions plus the final observation, so sequences of 10
steps hold one episode with no padding.
"""

from agents.ftw.config import FtwConfig


def get_config() -> FtwConfig:
  return FtwConfig(
      environment="catch",
      num_envs=16,
      variable_update_period=10,
      core="rpth",
      torso_hidden_size=256,
      hidden_size=128,
      num_dimensions=64,
      rpth_period=4,
      memory_size=32,
      word_size=16,
      num_reads=2,
      num_writes=1,
      head_hidden_size=128,
      sequence_length=10,
      batch_size=16,
      queue_size=64,
      loss="vtrace",
      discount=0.99,
      entropy_cost=0.01,
      pixel_control_cost=0.01,
      reward_prediction_cost=0.1,
      kl_cost=1e-3,
      kl_prior_cost=1e-4,
      optimizer="adam",
      learning_rate=5e-4,
      max_seconds=15 * 60,
      eval_every_seconds=30.0,
      eval_episodes=32,
  )
