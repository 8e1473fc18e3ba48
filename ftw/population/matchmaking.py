"""Matchmaking: teammates and opponents of similar skill, as in FTW.

A match is two teams of `players_per_team` slots. The focal agent i is drawn
uniformly from the population and takes team A's first slot. Every other
slot (i's teammates, then the opponents) independently draws agent j with
probability proportional to

  w_ij = exp(-(p_ij - 0.5) ** 2 / (2 * sigma ** 2)),

where p_ij is the Elo probability that i beats j one-on-one. Agents i is as
likely to beat as to lose to (p near 0.5) are the likeliest; i itself
(p = 0.5, the largest weight) may fill other slots too, as self-play copies.
`sigma` (FTW: 1/6) sets how quickly the weight falls with the skill gap: at
p = 0.5 +- sigma it is exp(-1/2) of the largest.
"""

import math
import numbers
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ftw import checks
from ftw.population import elo

Team = Tuple[int, ...]
Match = Tuple[Team, Team]


class Matchmaker:
  """Draws matches from the current ratings of an `EloTable`."""

  def __init__(self, elo_table: elo.EloTable, players_per_team: int = 2,
               sigma: float = 1 / 6,
               rng: Optional[np.random.Generator] = None):
    """Builds the matchmaker.

    Args:
      elo_table: the ratings; read at every draw, so updates take effect.
      players_per_team: slots per team, >= 1.
      sigma: width of the Gaussian over win probability, > 0.
      rng: the random generator; None uses one seeded with 0 (repeatable).
    """
    if not isinstance(elo_table, elo.EloTable):
      raise ValueError(f"elo_table must be an EloTable, got {elo_table!r}")
    self._table = elo_table
    self._players_per_team = checks.check_positive_int(
        "players_per_team", players_per_team)
    if (isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or
        not math.isfinite(sigma) or sigma <= 0):
      raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    self._sigma = float(sigma)
    self._rng = np.random.default_rng(0) if rng is None else rng

  @property
  def players_per_team(self) -> int:
    return self._players_per_team

  def co_player_probabilities(self, focal: int) -> np.ndarray:
    """P(a non-focal slot gets agent j) for every j, float64 [P]."""
    p = self._table.win_probabilities(focal)
    weights = np.exp(-(p - 0.5) ** 2 / (2.0 * self._sigma ** 2))
    return weights / weights.sum()

  def match(self) -> Match:
    """One match: (team A's agent ids, team B's), focal agent first in A."""
    focal = int(self._rng.integers(self._table.num_agents))
    others = self._rng.choice(self._table.num_agents,
                              size=2 * self._players_per_team - 1,
                              p=self.co_player_probabilities(focal))
    slots = [focal] + [int(j) for j in others]
    return (tuple(slots[:self._players_per_team]),
            tuple(slots[self._players_per_team:]))

  def matches(self, n: int) -> List[Match]:
    """`n` independent matches."""
    n = checks.check_int("n", n, 0)
    return [self.match() for _ in range(n)]


def slot_assignment(match: Match, teams: Sequence[int]) -> np.ndarray:
  """The agent id of each slot of an arena, int64 [len(teams)].

  Args:
    match: (team A's agent ids, team B's), as `Matchmaker.match` gives.
    teams: the team (0 or 1) of each slot of the arena, e.g. [0, 1, 0, 1];
      team 0's slots get team A's agents in order, team 1's team B's.

  Returns:
    The agents of the slots.
  """
  if not (isinstance(match, (tuple, list)) and len(match) == 2):
    raise ValueError(f"match must be (team_a, team_b), got {match!r}")
  teams = np.asarray(teams)
  if teams.ndim != 1 or not np.isin(teams, (0, 1)).all():
    raise ValueError(f"teams must be a 1-D array of 0s and 1s, got {teams!r}")
  out = np.empty(len(teams), np.int64)
  for team in (0, 1):
    slots = np.flatnonzero(teams == team)
    if len(slots) != len(match[team]):
      raise ValueError(f"teams has {len(slots)} slots of team {team} but "
                       f"match team {'AB'[team]} has {len(match[team])} "
                       f"agents: teams={teams.tolist()}, match={match!r}")
    out[slots] = match[team]
  return out
