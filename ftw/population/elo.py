"""Team-vs-team Elo ratings of a population, as FTW rates its agents.

A team's rating is the SUM of its members' ratings, and team A beats team B
with probability

  P(A beats B) = 1 / (1 + 10 ** ((rating_B - rating_A) / scale)).

After a match with score s of team A (1 win, 0.5 draw, 0 loss), every member
of team A moves by delta = K * (s - P(A beats B)) and every member of team B
by -delta. An agent may fill several slots of a match (copies of itself in
self-play); it moves once per slot it filled, so equal-sized teams keep the
sum of all ratings unchanged.
"""

import math
import numbers
from typing import Any, Dict, Sequence

import numpy as np

from ftw import checks

_SCORES = (0.0, 0.5, 1.0)


def team_rating(ratings: Sequence[float]) -> float:
  """The rating of a team: the sum of its members' ratings."""
  return float(sum(ratings))


def win_probability(rating_a: float, rating_b: float,
                    scale: float = 400.0) -> float:
  """P(A beats B) for single or team ratings `rating_a`, `rating_b`."""
  return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / scale))


class EloTable:
  """Elo ratings and rated-match counts of agents 0 .. num_agents - 1."""

  def __init__(self, num_agents: int, initial: float = 1000.0, k: float = 32.0,
               scale: float = 400.0):
    """Builds a table where every agent has the `initial` rating.

    Args:
      num_agents: population size, >= 1.
      initial: rating before the first match.
      k: step size K of the updates, > 0.
      scale: rating difference that gives 10:1 odds, > 0.
    """
    num_agents = checks.check_int("num_agents", num_agents, 1)
    for name, value in (("initial", initial), ("k", k), ("scale", scale)):
      positive = name != "initial"
      if (isinstance(value, bool) or not isinstance(value, numbers.Real) or
          not math.isfinite(value) or (positive and value <= 0)):
        raise ValueError(f"{name} must be a finite number"
                         f"{' > 0' if positive else ''}, got {value!r}")
    self._initial = float(initial)
    self._k = float(k)
    self._scale = float(scale)
    self._ratings = np.full(num_agents, self._initial, np.float64)
    self._matches = np.zeros(num_agents, np.int64)
    self._games = 0

  @property
  def num_agents(self) -> int:
    return len(self._ratings)

  @property
  def scale(self) -> float:
    return self._scale

  @property
  def games(self) -> int:
    """Number of matches rated so far."""
    return self._games

  def rating(self, agent: int) -> float:
    return float(self._ratings[self._agent("agent", agent)])

  def ratings(self) -> np.ndarray:
    """A copy of all ratings, float64 [num_agents]."""
    return self._ratings.copy()

  def matches(self, agent: int) -> int:
    """Rated matches `agent` played in (once per match, whatever its slots)."""
    return int(self._matches[self._agent("agent", agent)])

  def win_probability(self, i: int, j: int) -> float:
    """P(agent i beats agent j) in a one-on-one match."""
    return win_probability(self.rating(i), self.rating(j), self._scale)

  def win_probabilities(self, i: int) -> np.ndarray:
    """P(agent i beats agent j) one-on-one for every j, float64 [P]."""
    return win_probability(self.rating(i), self._ratings, self._scale)

  def update(self, team_a: Sequence[int], team_b: Sequence[int],
             score_a: float) -> float:
    """Rates one match (see the module docstring).

    Args:
      team_a: agent ids of team A's slots (repeats allowed).
      team_b: agent ids of team B's slots (repeats allowed).
      score_a: 1 if team A won, 0.5 for a draw, 0 if team A lost.

    Returns:
      delta, the change of each team A slot's agent (team B's: -delta).
    """
    team_a = self._team("team_a", team_a)
    team_b = self._team("team_b", team_b)
    if (isinstance(score_a, bool) or not isinstance(score_a, numbers.Real) or
        float(score_a) not in _SCORES):
      raise ValueError(f"score_a must be 0, 0.5 or 1 (loss, draw, win of "
                       f"team A), got {score_a!r}")
    expected = win_probability(team_rating(self._ratings[team_a]),
                               team_rating(self._ratings[team_b]), self._scale)
    delta = self._k * (float(score_a) - expected)
    # np.add.at adds once per occurrence, so a repeated agent moves per slot.
    np.add.at(self._ratings, team_a, delta)
    np.add.at(self._ratings, team_b, -delta)
    self._matches[sorted(set(team_a) | set(team_b))] += 1
    self._games += 1
    return delta

  def state(self) -> Dict[str, Any]:
    """Plain JSON-able dict of everything in the table (for checkpoints)."""
    return {"initial": self._initial, "k": self._k, "scale": self._scale,
            "ratings": [float(r) for r in self._ratings],
            "matches": [int(m) for m in self._matches], "games": self._games}

  @classmethod
  def from_state(cls, state: Dict[str, Any]) -> "EloTable":
    """The table `state()` described."""
    table = cls(len(state["ratings"]), state["initial"], state["k"],
                state["scale"])
    if len(state["matches"]) != table.num_agents:
      raise ValueError("state['matches'] and state['ratings'] differ in "
                       f"length: {len(state['matches'])} vs {table.num_agents}")
    table._ratings[:] = np.asarray(state["ratings"], np.float64)
    table._matches[:] = np.asarray(state["matches"], np.int64)
    table._games = int(state["games"])
    return table

  def _agent(self, name: str, agent: Any) -> int:
    if not checks.is_int(agent) or not 0 <= agent < self.num_agents:
      raise ValueError(f"{name} must be an agent id in [0, {self.num_agents}),"
                       f" got {agent!r}")
    return int(agent)

  def _team(self, name: str, team: Any) -> np.ndarray:
    if isinstance(team, (str, bytes)) or not isinstance(
        team, (Sequence, np.ndarray)) or len(team) == 0:
      raise ValueError(f"{name} must be a non-empty sequence of agent ids, "
                       f"got {team!r}")
    return np.array([self._agent(f"{name}[{i}]", a) for i, a in
                     enumerate(team)], np.int64)
