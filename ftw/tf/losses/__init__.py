"""Reinforcement-learning losses: pure functions on time-major tensors.

Modules: `vtrace` (IMPALA targets), `returns` (n-step lambda-returns),
`a2c`, `qlearning`, `sarsa` (AgentNet-style TD losses), `pixel_control`,
`reward_prediction` (UNREAL auxiliary tasks), `kl` (Gaussian KL for RPTH),
`policy` (log-probabilities and entropies of discrete and
multi-discrete policies).
"""

from ftw.tf.losses import a2c
from ftw.tf.losses import kl
from ftw.tf.losses import pixel_control
from ftw.tf.losses import policy
from ftw.tf.losses import qlearning
from ftw.tf.losses import returns
from ftw.tf.losses import reward_prediction
from ftw.tf.losses import sarsa
from ftw.tf.losses import vtrace
