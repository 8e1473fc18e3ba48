"""Catch with R2D2: recurrent double Q-learning from prioritised replay.

A small network (A3C's torso: 16x8/4 and 32x4/2 convolutions, 128 units;
an LSTM(128); a dueling head of 128), 16 environments per actor exploring
with Ape-X's per-row epsilons (0.4^(1 + 7 i / 15)), sequences of 10 steps
(a Catch episode is 9 actions plus the final observation, so one sequence
holds one episode: the stored state is the episode's initial state and
burn-in has nothing to warm up), 5-step double-Q targets with R2D2's value
rescaling, a hard target copy every 100 learner steps, each sequence
sampled 4 times on average with priorities 0.9 max + 0.1 mean |td|.
"""

from agents.r2d2.config import R2D2Config


def get_config() -> R2D2Config:
  return R2D2Config(
      environment="catch",
      num_envs=16,
      conv_filters=((16, 8, 4), (32, 4, 2)),
      residual_filters=(),
      torso_hidden_size=128,
      core="lstm",
      hidden_size=128,
      dueling=True,
      head_hidden_size=128,
      sequence_length=10,
      burn_in=0,
      batch_size=32,
      replay_size=5000,
      min_replay_size=200,
      samples_per_insert=4.0,
      n_step=5,
      discount=0.99,
      learning_rate=1e-3,
      target_update_period=100,
      variable_update_period=10,
      max_seconds=15 * 60,
      eval_every_seconds=30.0,
      eval_episodes=32,
  )
