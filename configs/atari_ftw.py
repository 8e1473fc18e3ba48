"""Atari Pong with the full FTW agent.

The FTW network as the paper builds it: FtwTorso (residual convolutions),
RPTH (a slow and a fast variational LSTM core sharing a 64x32 DNC memory),
pixel control, reward prediction and the RPTH KL terms, V-trace.
It takes the observations and learning-signal choices of `configs/atari.py`
(84x84 grayscale, 4 stacked frames, standardised pixels, advantages and
returns, Adam, clip 0.5, 32 environments, the learning rate decaying to 0
and the entropy cost from 0.03 to 0 over 8,000 learner steps), none of
which removes a loss or shrinks the network; only the network and its
losses differ.

Its torso computes in bfloat16 (`torso_dtype`; variables stay float32):
on a CPU with AMX or AVX512-BF16 (`lscpu | grep bf16`) the residual
convolutions run ~2x faster (bench/pong.py); on one without, set
`torso_dtype=float32`.
"""

from agents.ftw.config import FtwConfig
from configs import atari


def get_config() -> FtwConfig:
  defaults = FtwConfig()  # The FTW network's sizes and loss weights.
  return atari.get_config().replace(
      conv_filters=defaults.conv_filters,
      residual_filters=defaults.residual_filters,
      core="rpth",
      hidden_size=256,
      num_dimensions=128,
      rpth_period=8,
      memory_size=64,
      word_size=32,
      num_reads=2,
      pixel_control_cost=defaults.pixel_control_cost,
      reward_prediction_cost=defaults.reward_prediction_cost,
      torso_dtype="bfloat16",
  )
