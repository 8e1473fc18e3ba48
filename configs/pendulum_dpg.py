"""Pendulum-v1 (gymnasium) with deterministic policy gradient.

DDPG with D4PG's n-step critic: policy and critic MLPs of 256-256, the
policy's tanh mean scaled to the torque bounds [-2, 2], Gaussian exploration
with sigma 0.2 of the half range, 4 environments per actor, sequences of 16
steps (15 transitions) sampled 64 times each on average from a uniform replay
of 10,000 sequences, 3-step targets, Polyak target updates (tau 0.005),
Adam 1e-4 (policy) and 1e-3 (critic). Episodes are 200 steps, cut by a time
limit: the last state is bootstrapped (discount 1), not treated as terminal.
"""

from agents.dpg.config import DPGConfig


def get_config() -> DPGConfig:
  return DPGConfig(
      environment="gym:Pendulum-v1",
      num_envs=4,
      exploration_sigma=0.2,
      policy_layers=(256, 256),
      critic_layers=(256, 256),
      sequence_length=16,
      batch_size=16,
      replay_size=10_000,
      min_replay_size=64,
      samples_per_insert=64.0,
      n_step=3,
      discount=0.99,
      target_update_tau=0.005,
      policy_learning_rate=1e-4,
      critic_learning_rate=1e-3,
      max_seconds=15 * 60,
      eval_every_seconds=30.0,
      eval_episodes=8,
  )
