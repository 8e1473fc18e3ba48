"""Configuration of FTW's population training; validates itself on construction.

FTW (Jaderberg et al. 2019) trains P agents together: they are rated by Elo
from the matches they play, matched with co-players of similar skill, and
population-based training (PBT) copies the settings of better agents into
worse ones and perturbs them. This config holds the knobs of those rules.
"""

import dataclasses
import math
import numbers
from typing import Tuple

from ftw import checks


@dataclasses.dataclass
class PopulationConfig:
  """Every knob of FTW's population training; one line of docs per field."""

  population_size: int = 4
  """Number of agents P trained together (>= 2)."""
  elo_k: float = 32.0
  """Elo step size K: a rating moves by K * (score - expected score)."""
  elo_scale: float = 400.0
  """Elo scale: a rating lead of `elo_scale` means 10:1 odds of winning."""
  initial_elo: float = 1000.0
  """Rating of every agent before its first match."""
  matchmaking_sigma: float = 1 / 6
  """Width of the Gaussian over win probability used to pick co-players."""
  pbt_interval: int = 500
  """Learner steps between an agent's PBT checks (the learner calls them)."""
  pbt_ready: int = 1000
  """Learner steps an agent must train after its last exploit (or the start)
  before it may exploit again."""
  pbt_threshold: float = 0.7
  """An agent whose win probability against a random other agent is below
  this copies that agent; in (0, 1)."""
  pbt_min_matches: int = 5
  """Rated matches both agents need before an exploit is considered."""
  perturb_probability: float = 1.0
  """Probability that each evolved value is perturbed after a copy; (0, 1]."""
  perturb_factors: Tuple[float, float] = (0.8, 1.2)
  """Factors a perturbed value is multiplied with, each with probability 1/2."""
  evolve: Tuple[str, ...] = ("learning_rate", "entropy_cost", "kl_cost",
                             "kl_prior_cost", "rpth_period")
  """Names of the FtwConfig hyperparameters PBT evolves."""
  evolve_internal_rewards: bool = True
  """Evolve the internal reward weights too (when the agents have them)."""
  initial_spread: float = 2.0
  """Agents i > 0 start with each evolved value times a log-uniform factor
  in [1 / spread, spread]; agent 0 starts at the given values (>= 1)."""
  seed: int = 0
  """Seed of the initial spread, matchmaking and PBT."""
  log_every_seconds: float = 30.0
  """Seconds between rows of the Elo log (and refreshes of the plots)."""

  def __post_init__(self):
    self.population_size = checks.check_int(
        "population_size", self.population_size, 2)
    self.pbt_interval = checks.check_int("pbt_interval", self.pbt_interval, 1)
    self.pbt_ready = checks.check_int("pbt_ready", self.pbt_ready, 0)
    self.pbt_min_matches = checks.check_int(
        "pbt_min_matches", self.pbt_min_matches, 0)
    self.seed = checks.check_int("seed", self.seed, 0)
    self.initial_elo = _real("initial_elo", self.initial_elo)
    for name in ("elo_k", "elo_scale", "matchmaking_sigma"):
      setattr(self, name, _real(name, getattr(self, name), low=0.0))
    self.pbt_threshold = _real("pbt_threshold", self.pbt_threshold, low=0.0,
                               high=1.0)
    self.perturb_probability = _real(
        "perturb_probability", self.perturb_probability, low=0.0, high=1.0,
        high_closed=True)
    self.initial_spread = _real("initial_spread", self.initial_spread,
                                low=1.0, low_closed=True)
    self.log_every_seconds = _real("log_every_seconds", self.log_every_seconds,
                                   low=0.0, low_closed=True)
    self.perturb_factors = _factors(self.perturb_factors)
    self.evolve = _names(self.evolve)
    if not isinstance(self.evolve_internal_rewards, bool):
      raise ValueError("evolve_internal_rewards must be a bool, got "
                       f"{self.evolve_internal_rewards!r}")

  def replace(self, **overrides) -> "PopulationConfig":
    """Returns a copy with fields replaced; unknown names raise ValueError."""
    return checks.replace_fields(self, overrides, what="population config")


def _real(name, value, low=None, high=None, low_closed=False,
          high_closed=False) -> float:
  """`value` as a float if it is a finite real in the given range."""
  ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and
        math.isfinite(value))
  if ok and low is not None:
    ok = value >= low if low_closed else value > low
  if ok and high is not None:
    ok = value <= high if high_closed else value < high
  if not ok:
    left = "-inf" if low is None else f"{low:g}"
    right = "inf" if high is None else f"{high:g}"
    interval = (f"{'[' if low_closed else '('}{left}, "
                f"{right}{']' if high_closed else ')'}")
    raise ValueError(f"{name} must be a finite number in {interval}, "
                     f"got {value!r}")
  return float(value)


def _factors(value) -> Tuple[float, float]:
  """Two distinct positive finite factors, as a tuple of floats."""
  ok = isinstance(value, (list, tuple)) and len(value) == 2
  if ok:
    try:
      factors = tuple(_real("perturb_factors", v, low=0.0) for v in value)
    except ValueError:
      ok = False
  if not ok or factors[0] == factors[1]:
    raise ValueError("perturb_factors must be two distinct finite numbers "
                     f"> 0, got {value!r}")
  return factors


def _names(value) -> Tuple[str, ...]:
  """A possibly empty sequence of distinct non-empty names, as a tuple."""
  ok = isinstance(value, (list, tuple)) and all(
      isinstance(v, str) and v for v in value) and len(set(value)) == len(value)
  if not ok:
    raise ValueError("evolve must be a sequence of distinct hyperparameter "
                     f"names, got {value!r}")
  return tuple(value)
