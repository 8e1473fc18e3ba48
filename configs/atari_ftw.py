"""Atari Pong (through gymnasium + ale-py) with the full FTW agent.

The FTW network as the paper builds it (FtwTorso + RPTH with a shared DNC
memory + pixel control + reward prediction + RPTH KL). `configs/atari.py`
is the faster-learning default for Pong.


RGB 84x84 frames, frame skip 4 with max-pooling, up to 30 no-op starts,
rewards clipped to [-1, 1], as UNREAL and FTW preprocess them. Larger cores
and memory than FtwConfig's defaults, and RMSProp as in IMPALA.
"""

from agents.ftw.config import FtwConfig


def get_config() -> FtwConfig:
  return FtwConfig(
      environment="Pong",
      environment_kwargs={"frame_skip": 4, "noop_max": 30,
                          "clip_rewards": True, "sticky_actions": False},
      variable_update_period=20,
      hidden_size=256,
      num_dimensions=128,
      rpth_period=8,
      memory_size=64,
      word_size=32,
      num_reads=2,
      head_hidden_size=256,
      sequence_length=20,
      optimizer="rmsprop",
      learning_rate=6e-4,
      eval_every_seconds=300.0,
      eval_episodes=4,
  )
