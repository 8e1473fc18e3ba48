"""Atari Pong with the full FTW agent.

The FTW network as the paper builds it: FtwTorso (residual convolutions),
RPTH (a slow and a fast variational LSTM core sharing a 64x32 DNC memory),
pixel control, reward prediction and the RPTH KL terms, V-trace.
It takes the observations and learning-signal choices of `configs/atari.py`
(84x84 grayscale, 4 stacked frames, standardised pixels, advantages and
returns, Adam, clip 0.5, 32 environments, the learning rate decaying to 0
and the entropy cost from 0.03 to 0 over 8,000 learner steps), none of
which removes a loss or shrinks the network; only the network and its
losses differ, and two settings for its slower learner:
- learning rate 2e-4 (the default's 4e-4 halved) and a queue of 32
  sequences (the default's 64 halved). With the default's values every
  run's policy turned nearly greedy (entropy 1.7 -> 0.5 within ~100
  steps) at learner step ~1,250-1,500 while it still lost every point,
  after |log rho| (how far the policy moved between acting and learning)
  had grown to 0.1-0.4; with these |log rho| stays at 0.01-0.1 up to step
  ~1,060 (0.1-0.55 after), the entropy falls slowly (1.2-1.6 at step
  1,600) and the return climbs (-18.1 sampled, -10.8 greedy after 25
  minutes; README). The full agent takes ~2.5x fewer learner steps per
  second than the default (1.1-1.5 against 2.8-3.3 in the runs), so a queue
  of equal length holds ~2.5x older data. Which of the two changes
  mattered more was not measured.

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
      learning_rate=2e-4,
      queue_size=32,
  )
