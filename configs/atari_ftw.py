"""Atari Pong with the full FTW agent.

The FTW network as the paper builds it: FtwTorso (residual convolutions),
RPTH (a slow and a fast variational LSTM core sharing a 64x32 DNC memory),
pixel control, reward prediction and the RPTH KL terms, V-trace.
It takes the observations and learning-signal choices of `configs/atari.py`
(84x84 grayscale, 4 stacked frames, standardised pixels, advantages and
returns, Adam, clip 0.5, 32 environments, the learning rate and the entropy
cost decaying linearly to 0 over the run), none of which removes a loss or
shrinks the network; only the network and its losses differ, and settings
sized for its slower learner (1.1-1.5 steps/s of 16 sequences where the
default takes 2.8-3.3 on a machine with AMX; 0.36 of 32 against 1.5 of 16
on an AVX2 one):
- Batches of 32 sequences, a queue of 64, learning rate 4e-4 (the
  default's), and the decays over 4,000 learner steps: as many samples as
  the default's 8,000 steps of 16. In two 45-minute runs one after the
  other (seed 0, a 2-core machine with AMX), the decays over 8,000 steps
  ended at -1.45 (greedy +5.5; the entropy cost was still 0.022 at the
  end, the sampled policy noisy), over 4,000 at +15.35 (greedy +19.75,
  +15 reached at 44.3 minutes, 5.4M frames). |log rho| stayed at
  0.01-0.07 and the entropy above 1.3: no collapse.
- At batch 16 with the default's learning rate and queue every run's
  policy turned nearly greedy (entropy 1.7 -> 0.5 within ~100 steps) at
  learner step ~1,250-1,500 while it still lost every point, after |log
  rho| had grown to 0.1-0.4; batch 16 needed the rate and the queue
  halved (2e-4, 32), and learnt slower (-18.1 after 26 minutes).

Its torso computes in bfloat16 where the CPU has AMX-BF16 or AVX512-BF16
(`torso_dtype="auto"`; variables stay float32): the convolutions run ~2x
faster there (bench/pong.py), and so does its final linear layer's product
(~45 -> ~9 ms of op time per update; its bias and output stay float32).
Elsewhere it computes in float32: on a 2-core AVX2 machine (AMD EPYC)
bfloat16 made the whole run ~4x slower (58 agent steps/s against ~240 in
float32).
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
      torso_dtype="auto",
      batch_size=32,
      queue_size=64,
      learning_rate=4e-4,
      max_learner_steps=4000,
  )
