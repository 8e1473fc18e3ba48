"""Atari Pong with R2D2, sized for a small CPU machine.

R2D2's recipe (Kapturowski et al. 2019) with the observation pipeline of
`configs/atari.py`: 84x84 grayscale frames, 4 stacked, frame skip 4, no-op
starts, clipped rewards; A3C's torso (16x8/4, 32x4/2, 256 units), an
LSTM(256) and a dueling head; sequences of 40 steps whose first 20 only burn
in the stored recurrent state (R2D2: 80 and 40), adjacent sequences
overlapping by 21 steps (period 19: every step after an episode's first 20
is trained once); prioritised replay (exponent 0.9, importance weights 0.6,
priorities 0.9 max + 0.1 mean |td|) of 4,000 sequences, each sampled twice on
average; 5-step double-Q targets with value rescaling, discount 0.997; a
hard target copy every 2,500 learner steps; Ape-X epsilons over 32
environments; Adam 1e-4 with epsilon 1e-3.
"""

from agents.r2d2.config import R2D2Config


def get_config() -> R2D2Config:
  return R2D2Config(
      environment="Pong",
      environment_kwargs={"frame_skip": 4, "noop_max": 30,
                          "clip_rewards": True, "sticky_actions": False,
                          "grayscale": True, "frame_stack": 4},
      num_envs=32,
      conv_filters=((16, 8, 4), (32, 4, 2)),
      residual_filters=(),
      torso_hidden_size=256,
      core="lstm",
      hidden_size=256,
      dueling=True,
      head_hidden_size=256,
      sequence_length=40,
      burn_in=20,
      batch_size=16,
      replay_size=4000,
      min_replay_size=200,
      samples_per_insert=2.0,
      n_step=5,
      discount=0.997,
      learning_rate=1e-4,
      adam_epsilon=1e-3,
      target_update_period=2500,
      variable_update_period=20,
      eval_every_seconds=300.0,
      eval_episodes=4,
  )
