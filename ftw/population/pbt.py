"""Population-based training decisions of FTW: exploit by copy, then explore.

Every `pbt_interval` learner steps an agent's learner asks for a check. An
agent is ready when it has trained `pbt_ready` learner steps since its last
exploit (or the start). A ready agent i picks another agent j uniformly at
random; if both have played `pbt_min_matches` rated matches and
P(i beats j) < `pbt_threshold`, i exploits j: it takes j's weights (the
caller copies them), hyperparameters and internal reward weights, then
explores: each evolved value is, with probability `perturb_probability`,
multiplied by one of `perturb_factors` drawn with equal probability.

Integer hyperparameters (`rpth_period` and any value given as an int) are
rounded half up and kept >= 1; when rounding undoes a perturbation the value
moves by +1 (factor > 1) or -1 (factor < 1, never below 1) instead, so a
perturbation changes it whenever it can. Internal reward weights keep their
sign (they are multiplied by positive factors).
"""

import dataclasses
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ftw import checks
from ftw.population import elo
from ftw.population.config import PopulationConfig

INTEGER_HYPERPARAMETERS = ("rpth_period",)

Weights = Optional[Tuple[float, ...]]


@dataclasses.dataclass
class Decision:
  """The outcome of one PBT check of `agent`."""

  agent: int
  """The agent that was checked."""
  copied_from: Optional[int]
  """The agent it copied (exploited); None when nothing changed."""
  win_probability: Optional[float]
  """P(agent beats compared_with) from the Elo ratings at the check (None:
  no check, e.g. a lineage row of starting settings)."""
  hyperparameters: Dict[str, Any]
  """The agent's evolved hyperparameters after the check (after explore)."""
  internal_reward_weights: Weights
  """The agent's internal reward weights after the check (None: it has none)."""
  perturbed: Tuple[str, ...] = ()
  """Names of the values explore changed."""
  compared_with: Optional[int] = None
  """The agent it was compared with."""


def _round_half_up(x: float) -> int:
  return int(math.floor(x + 0.5))


def perturb_value(value: float, factor: float, integer: bool = False):
  """`value * factor`; for an integer the rounding rule of the module doc."""
  if not integer:
    return float(value) * factor
  value = int(round(value))
  new = max(1, _round_half_up(value * factor))
  if new == value:  # Rounding undid the perturbation: step by one instead.
    new = value + 1 if factor > 1 else max(1, value - 1)
  return new


def is_integer_hyperparameter(name: str, value: Any) -> bool:
  """Whether `name` (or its value's type) makes a hyperparameter an int."""
  return name in INTEGER_HYPERPARAMETERS or checks.is_int(value)


def weight_names_or_default(weight_names: Optional[Sequence[str]],
                            num_weights: int) -> Tuple[str, ...]:
  """`weight_names`, or `reward_<index>` names when None."""
  if weight_names is None:
    return tuple(f"reward_{i}" for i in range(num_weights))
  if len(weight_names) != num_weights:
    raise ValueError(f"weight_names has {len(weight_names)} names for "
                     f"{num_weights} internal reward weights: {weight_names!r}")
  return tuple(weight_names)


def explore(hyperparameters: Mapping[str, float],
            internal_reward_weights: Optional[Sequence[float]],
            config: PopulationConfig, rng: np.random.Generator,
            weight_names: Optional[Sequence[str]] = None):
  """Perturbs every given hyperparameter and internal reward weight.

  Each value draws (in the mapping's order, then the weights' order) whether
  it is perturbed and which factor it would get, so the generator advances
  the same way whatever the outcome.

  Args:
    hyperparameters: name -> value of the hyperparameters to perturb.
    internal_reward_weights: weights to perturb, or None.
    config: gives perturb_probability and perturb_factors.
    rng: the random generator.
    weight_names: names of the weights for `perturbed` (default reward_<i>).

  Returns:
    (new hyperparameters dict, new weights tuple or None, names changed).
  """
  perturbed = []

  def draw(name, value, integer):
    hit = rng.random() < config.perturb_probability
    factor = config.perturb_factors[int(rng.integers(2))]
    new = perturb_value(value, factor, integer) if hit else value
    if new != value:
      perturbed.append(name)
    return int(new) if integer else float(new)

  new_hparams = {name: draw(name, value, is_integer_hyperparameter(name, value))
                 for name, value in hyperparameters.items()}
  new_weights = None
  if internal_reward_weights is not None:
    names = weight_names_or_default(weight_names, len(internal_reward_weights))
    new_weights = tuple(draw(n, float(w), False)
                        for n, w in zip(names, internal_reward_weights))
  return new_hparams, new_weights, tuple(perturbed)


def initial_hyperparameters(
    config_values: Mapping[str, float],
    internal_reward_weights: Optional[Sequence[float]],
    population: PopulationConfig,
    rng: np.random.Generator) -> List[Tuple[Dict[str, Any], Weights]]:
  """The starting (hyperparameters, weights) of every agent.

  Agent 0 starts at the given values; agent i > 0 multiplies each value of
  `population.evolve` (and each weight, when internal rewards evolve) by its
  own factor exp(U(-log spread, log spread)); integers are rounded half up
  and kept >= 1.

  Args:
    config_values: name -> value, holding at least `population.evolve`
      (other names are ignored, e.g. `dataclasses.asdict(ftw_config)`).
    internal_reward_weights: the weights of agent 0, or None.
    population: the population config.
    rng: the random generator.

  Returns:
    One (hyperparameters of `population.evolve`, weights) per agent.
  """
  missing = [n for n in population.evolve if n not in config_values]
  if missing:
    raise ValueError(f"config_values lacks evolved hyperparameter(s) "
                     f"{missing}; it has {sorted(config_values)}")
  base = {n: config_values[n] for n in population.evolve}
  for name, value in base.items():
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise ValueError(f"config_values[{name!r}] must be a number to evolve, "
                       f"got {value!r}")
  weights = (None if internal_reward_weights is None else
             tuple(float(w) for w in internal_reward_weights))
  log_spread = math.log(population.initial_spread)
  out = [({n: (int(v) if is_integer_hyperparameter(n, v) else float(v))
           for n, v in base.items()}, weights)]
  for _ in range(1, population.population_size):
    def spread(value, integer):
      factor = math.exp(rng.uniform(-log_spread, log_spread))
      if integer:
        return max(1, _round_half_up(value * factor))
      return float(value) * factor
    hparams = {n: spread(v, is_integer_hyperparameter(n, v))
               for n, v in base.items()}
    agent_weights = weights
    if weights is not None and population.evolve_internal_rewards:
      agent_weights = tuple(spread(w, False) for w in weights)
    out.append((hparams, agent_weights))
  return out


class PBT:
  """Decides, per check, whether an agent copies another (module docstring)."""

  def __init__(self, config: PopulationConfig, elo_table: elo.EloTable,
               rng: np.random.Generator,
               weight_names: Optional[Sequence[str]] = None):
    """Builds the PBT rule.

    Args:
      config: the population config.
      elo_table: the ratings and match counts the decisions read.
      rng: the random generator (partner choice and explore).
      weight_names: names of the internal reward weights, for `perturbed`.
    """
    if elo_table.num_agents != config.population_size:
      raise ValueError(f"elo_table has {elo_table.num_agents} agents but "
                       f"population_size is {config.population_size}")
    self._config = config
    self._table = elo_table
    self._rng = rng
    self._weight_names = weight_names
    size = config.population_size
    self._last_exploit = [0] * size  # Learner steps of the last exploit.
    self._checks = [0] * size
    self._exploits = [0] * size

  def ready(self, agent: int, learner_steps: int) -> bool:
    """Whether `agent` trained `pbt_ready` steps since its last exploit."""
    agent = self._agent(agent)
    learner_steps = checks.check_int("learner_steps", learner_steps, 0)
    return learner_steps - self._last_exploit[agent] >= self._config.pbt_ready

  def decide(self, agent: int, learner_steps: int,
             hyperparameters_of: Mapping[int, Mapping[str, Any]],
             internal_rewards_of: Mapping[int, Weights]) -> Optional[Decision]:
    """One PBT check of `agent`; None when it is not ready.

    Args:
      agent: the agent checked.
      learner_steps: its learner's steps now.
      hyperparameters_of: agent id -> its evolved hyperparameters.
      internal_rewards_of: agent id -> its internal reward weights or None.

    Returns:
      The decision; `copied_from` is None unless the agent exploited, in
      which case it (and only then) holds explored copies of j's settings.
    """
    if not self.ready(agent, learner_steps):
      return None
    size = self._config.population_size
    j = int(self._rng.integers(size - 1))
    j += j >= agent  # Uniform over the other agents.
    p = self._table.win_probability(agent, j)
    self._checks[agent] += 1
    enough = min(self._table.matches(agent),
                 self._table.matches(j)) >= self._config.pbt_min_matches
    if not enough or p >= self._config.pbt_threshold:
      own = internal_rewards_of[agent]
      return Decision(agent, None, p, dict(hyperparameters_of[agent]),
                      None if own is None else tuple(own), (), j)
    source = dict(hyperparameters_of[j])
    evolved = {n: v for n, v in source.items() if n in self._config.evolve}
    evolve_weights = self._config.evolve_internal_rewards
    new_hparams, new_weights, perturbed = explore(
        evolved, internal_rewards_of[j] if evolve_weights else None,
        self._config, self._rng, self._weight_names)
    if not evolve_weights:  # Fixed weights: the agent keeps its own.
      own = internal_rewards_of[agent]
      new_weights = None if own is None else tuple(own)
    source.update(new_hparams)
    self._last_exploit[agent] = int(learner_steps)
    self._exploits[agent] += 1
    return Decision(agent, j, p, source, new_weights, perturbed, j)

  def num_checks(self, agent: int) -> int:
    """Checks of a ready `agent` so far (exploits or not)."""
    return self._checks[self._agent(agent)]

  def num_exploits(self, agent: int) -> int:
    """Times `agent` copied another agent."""
    return self._exploits[self._agent(agent)]

  def last_exploit(self, agent: int) -> int:
    """Learner steps of `agent`'s last exploit (0 before any)."""
    return self._last_exploit[self._agent(agent)]

  def state(self) -> Dict[str, Any]:
    """Plain JSON-able counters (the generator's state is the caller's)."""
    return {"last_exploit": list(self._last_exploit),
            "checks": list(self._checks), "exploits": list(self._exploits)}

  @classmethod
  def from_state(cls, state: Mapping[str, Any], config: PopulationConfig,
                 elo_table: elo.EloTable, rng: np.random.Generator,
                 weight_names: Optional[Sequence[str]] = None) -> "PBT":
    """The PBT `state()` described, on `elo_table`, drawing from `rng`."""
    pbt = cls(config, elo_table, rng, weight_names)
    for key in ("last_exploit", "checks", "exploits"):
      values = [int(v) for v in state[key]]
      if len(values) != config.population_size:
        raise ValueError(f"state[{key!r}] has {len(values)} entries for "
                         f"population_size {config.population_size}")
      setattr(pbt, f"_{key}", values)
    return pbt

  def _agent(self, agent: int) -> int:
    size = self._config.population_size
    if not checks.is_int(agent) or not 0 <= agent < size:
      raise ValueError(f"agent must be an agent id in [0, {size}), "
                       f"got {agent!r}")
    return int(agent)
