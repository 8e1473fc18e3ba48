"""What population-based training reads and changes in one agent's learner.

An agent's evolvable settings are its hyperparameters (the learner's
`HYPERPARAMETERS`: learning rate and loss weights; plus RPTH's slow-core
period when the network was built with `variable_period=True`) and its
internal reward weights (the `InternalRewards` module of its embedding).
All of them live in TensorFlow variables of the learner or the network, so
they are checkpointed with the weights, and actors receive the period and
the internal reward weights with the network's variables.
"""

from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from agents.ftw.config import FtwConfig
from agents.ftw.learner import HYPERPARAMETERS

EVOLVABLE = HYPERPARAMETERS + ("rpth_period",)
"""Every hyperparameter a population may evolve."""


def check_evolvable(names: Sequence[str], config: FtwConfig):
  """Raises ValueError for a name PBT cannot evolve in this agent."""
  unknown = [n for n in names if n not in EVOLVABLE]
  if unknown:
    raise ValueError(f"evolve names {unknown}, which are not evolvable; "
                     f"choose from {EVOLVABLE}")
  if "rpth_period" in names and config.core != "rpth":
    raise ValueError(f"evolve names 'rpth_period' but core={config.core!r} "
                     f"has no slow core; use core='rpth' or drop it")


def initial_values(config: FtwConfig, names: Sequence[str]) -> Dict[str, float]:
  """The config's values of the evolved hyperparameters."""
  check_evolvable(names, config)
  return {name: getattr(config, name) for name in names}


def _period_variable(network) -> Optional[tf.Variable]:
  periods = getattr(network.core, "periods", ())
  variables = [p for p in periods if isinstance(p, tf.Variable)]
  return variables[0] if variables else None


def settings(learner) -> Tuple[Dict[str, float], Optional[Tuple[float, ...]]]:
  """(hyperparameters, internal reward weights or None) of a learner."""
  values = learner.hyperparameters()
  period = _period_variable(learner.network)
  if period is not None:
    values["rpth_period"] = int(period.numpy())
  internal = getattr(learner.network.embed, "internal_rewards", None)
  weights = None
  if internal is not None:
    weights = tuple(float(w) for w in tf.reshape(internal.weights, [-1]))
  return values, weights


def apply_settings(learner, hyperparameters: Mapping[str, float],
                   internal_reward_weights: Optional[Sequence[float]] = None):
  """Sets hyperparameters (any of `EVOLVABLE`) and internal reward weights.

  Raises:
    ValueError: an unknown name; `rpth_period` for a network without a
      variable period; weights for a network without internal rewards.
  """
  unknown = sorted(set(hyperparameters) - set(EVOLVABLE))
  if unknown:
    raise ValueError(f"unknown hyperparameter(s) {unknown}; evolvable: "
                     f"{EVOLVABLE}")
  learner.set_hyperparameters({k: v for k, v in hyperparameters.items()
                               if k in HYPERPARAMETERS})
  if "rpth_period" in hyperparameters:
    period = _period_variable(learner.network)
    if period is None:
      raise ValueError("rpth_period: this network's period is not a variable "
                       "(build it with make_network(variable_period=True))")
    value = int(round(hyperparameters["rpth_period"]))
    if value < 1:
      raise ValueError(f"rpth_period must be >= 1, got {value}")
    period.assign(value)
  if internal_reward_weights is not None:
    internal = getattr(learner.network.embed, "internal_rewards", None)
    if internal is None:
      raise ValueError("internal_reward_weights given, but this network has "
                       "no internal rewards (config.internal_reward_weights)")
    weights = np.asarray(internal_reward_weights, np.float32)
    internal.assign(weights.reshape(internal.weights.shape))
