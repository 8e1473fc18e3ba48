"""The population's bookkeeper: Elo, matchmaking, PBT and their logs.

`PopulationController` is plain Python; the launcher wraps it in a Ray actor
that actors ask for matches and report results to, and that learners ask for
PBT checks; Ray may run those calls concurrently, so each takes a lock.
Random draws come from three generators spawned from `population.seed`
(initial spread, matchmaking, PBT: matches do not shift PBT's draws), and
`state()` holds everything needed to resume.

When the lineage log is new, every agent's starting settings are written to
it as rows with an empty `copied_from`, so the plots start at them.
"""

import dataclasses
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ftw import checks
from ftw.population import elo
from ftw.population import matchmaking
from ftw.population import pbt
from ftw.population.config import PopulationConfig
from ftw.population.records import PopulationRecords


class PopulationController:
  """Matches, Elo, PBT checks and per-agent settings of a population."""

  def __init__(self, population: PopulationConfig,
               hyperparameters0: Mapping[str, Any],
               internal_reward_weights0: Optional[Sequence[float]],
               weight_names: Optional[Sequence[str]] = None,
               logdir: Optional[str] = None, players_per_team: int = 2,
               start_minutes: float = 0.0,
               event_names: Optional[Sequence[str]] = None,
               clock: Callable[[], float] = time.monotonic,
               tensorboard: bool = True):
    """Builds a fresh population (see `restore` to resume one).

    Args:
      population: the population config.
      hyperparameters0: values of at least `population.evolve` (e.g.
        `dataclasses.asdict(ftw_config)`); agent 0 starts at them.
      internal_reward_weights0: agent 0's internal reward weights, or None.
      weight_names: names of the weights in logs (default reward_<i>).
      logdir: experiment log folder (None: no logs).
      players_per_team: slots per team of a match.
      start_minutes: minutes already run (the clock of log rows starts here).
      event_names: names of the entries of `report`'s event vectors.
      clock: seconds, for the minutes of lineage rows (tests inject one).
      tensorboard: also write TensorBoard scalars of the Elo ratings.
    """
    seeds = np.random.SeedSequence(population.seed).spawn(3)
    settings = pbt.initial_hyperparameters(
        hyperparameters0, internal_reward_weights0, population,
        np.random.default_rng(seeds[0]))
    table = elo.EloTable(population.population_size, population.initial_elo,
                         population.elo_k, population.elo_scale)
    self._setup(population, table, settings, weight_names, event_names,
                players_per_team, np.random.default_rng(seeds[1]),
                np.random.default_rng(seeds[2]), None)
    self._open_records(logdir, start_minutes, clock, tensorboard)

  @classmethod
  def restore(cls, state: Mapping[str, Any], logdir: Optional[str] = None,
              population: Optional[PopulationConfig] = None,
              clock: Callable[[], float] = time.monotonic,
              tensorboard: bool = True) -> "PopulationController":
    """The controller `state()` described, continuing its logs in `logdir`.

    Args:
      state: a `state()` (possibly through JSON).
      logdir: experiment log folder (None: no logs).
      population: a config to use instead of the saved one (same size).
      clock: seconds; minutes continue from the saved ones.
      tensorboard: also write TensorBoard scalars of the Elo ratings.
    """
    population = population or PopulationConfig(**state["population"])
    table = elo.EloTable.from_state(state["elo"])
    if table.num_agents != population.population_size:
      raise ValueError(f"the state has {table.num_agents} agents but "
                       f"population_size is {population.population_size}")
    match_rng, pbt_rng = np.random.default_rng(), np.random.default_rng()
    match_rng.bit_generator.state = state["rng"]["matchmaking"]
    pbt_rng.bit_generator.state = state["rng"]["pbt"]
    controller = cls.__new__(cls)
    controller._setup(
        population, table, list(zip(state["hyperparameters"],
                                    state["internal_reward_weights"])),
        state["weight_names"] or None, state["event_names"],
        state["players_per_team"], match_rng, pbt_rng, state["pbt"])
    controller._counts = {k: list(v) for k, v in state["counts"].items()}
    controller._event_sums = [None if e is None else np.asarray(e, np.float64)
                              for e in state["event_sums"]]
    controller._event_slots = list(state["event_slots"])
    last = state["last_log_minutes"]
    controller._last_log_minutes = -float("inf") if last is None else last
    controller._open_records(logdir, state["minutes"], clock, tensorboard)
    return controller

  def state(self) -> Dict[str, Any]:
    """Everything needed to resume, as plain JSON-able values."""
    with self._lock:
      last = self._last_log_minutes
      return {
          "population": dataclasses.asdict(self._config),
          "players_per_team": self._matchmaker.players_per_team,
          "elo": self._table.state(), "pbt": self._pbt.state(),
          "hyperparameters": [dict(h) for h in self._hparams],
          "internal_reward_weights": [None if w is None else list(w)
                                      for w in self._weights],
          "weight_names": list(self._weight_names),
          "event_names": (None if self._event_names is None else
                          list(self._event_names)),
          "counts": {k: list(v) for k, v in self._counts.items()},
          "event_sums": [None if e is None else [float(x) for x in e]
                         for e in self._event_sums],
          "event_slots": list(self._event_slots),
          "rng": {"matchmaking": self._match_rng.bit_generator.state,
                  "pbt": self._pbt_rng.bit_generator.state},
          "minutes": self._minutes(),
          "last_log_minutes": None if last == -float("inf") else last}

  def _open_records(self, logdir, start_minutes, clock, tensorboard):
    """Starts the clock and the logs; a new lineage gets current settings."""
    self._start_minutes = float(start_minutes)
    self._clock, self._t0 = clock, clock()
    self._records = None
    if not logdir:
      return
    self._records = PopulationRecords(logdir, self._config.evolve,
                                      self._weight_names, tensorboard)
    if self._records.lineage_is_new:
      for agent in range(self._config.population_size):
        self._records.write_lineage(self._minutes(), pbt.Decision(
            agent, None, None, self._hparams[agent], self._weights[agent]),
                                    self._counts["learner_steps"][agent])

  def _setup(self, population, table, settings, weight_names, event_names,
             players_per_team, match_rng, pbt_rng, pbt_state):
    """Fields shared by `__init__` and `restore`."""
    self._lock = threading.Lock()
    self._plot_lock = threading.Lock()
    self._config = population
    self._table = table
    self._hparams = [dict(h) for h, _ in settings]
    self._weights = [None if w is None else tuple(w) for _, w in settings]
    self._weight_names = () if self._weights[0] is None else (
        pbt.weight_names_or_default(weight_names, len(self._weights[0])))
    self._event_names = None if event_names is None else tuple(event_names)
    self._match_rng, self._pbt_rng = match_rng, pbt_rng
    self._matchmaker = matchmaking.Matchmaker(
        table, players_per_team, population.matchmaking_sigma, match_rng)
    self._pbt = (pbt.PBT(population, table, pbt_rng, self._weight_names)
                 if pbt_state is None else pbt.PBT.from_state(
                     pbt_state, population, table, pbt_rng, self._weight_names))
    size = population.population_size
    self._counts = {k: [0] * size for k in ("wins", "draws", "losses",
                                            "learner_steps")}
    self._event_sums = [None] * size  # Per agent: summed event vectors,
    self._event_slots = [0] * size  # over this many slots it filled.
    self._last_log_minutes = -float("inf")

  def matches(self, n: int) -> List[matchmaking.Match]:
    """`n` matches: (team A's agent ids, team B's), focal agent first."""
    with self._lock:
      return self._matchmaker.matches(n)

  def report(self, team_a: Sequence[int], team_b: Sequence[int],
             score_a: float, events: Optional[Sequence] = None):
    """Rates a finished match and counts its outcome per agent.

    Args:
      team_a: agent ids of team A's slots.
      team_b: agent ids of team B's slots.
      score_a: 1 (team A won), 0.5 (draw) or 0 (team A lost).
      events: optional episode event counts, one vector per slot, team A's
        slots then team B's; summed per agent (means in elo.csv).
    """
    with self._lock:
      if events is not None:
        events = np.asarray(events, np.float64)
        if events.ndim != 2 or len(events) != len(team_a) + len(team_b):
          raise ValueError(f"events must be one vector per slot "
                           f"[{len(team_a) + len(team_b)}, E], got shape "
                           f"{events.shape}")
        # Checked before the update so a bad call changes nothing.
        sums = [s for s in self._event_sums if s is not None]
        width = (len(self._event_names) if self._event_names is not None else
                 len(sums[0]) if sums else events.shape[1])
        if events.shape[1] != width:
          raise ValueError(f"events have {events.shape[1]} entries per slot "
                           f"but event_names (or earlier reports) have "
                           f"{width}")
      self._table.update(team_a, team_b, score_a)
      # An agent on both sides (self-play) scored the mean of its sides.
      sides = {}
      for team, score in ((team_a, float(score_a)), (team_b, 1 - score_a)):
        for agent in set(int(a) for a in team):
          sides.setdefault(agent, []).append(score)
      for agent, scores in sides.items():
        score = sum(scores) / len(scores)
        key = "wins" if score == 1 else "losses" if score == 0 else "draws"
        self._counts[key][agent] += 1
      for slot, agent in enumerate(list(team_a) + list(team_b)):
        if events is not None:
          total = self._event_sums[agent]
          self._event_sums[agent] = events[slot] + (0 if total is None
                                                    else total)
          self._event_slots[agent] += 1

  def agent_settings(self, agent: int):
    """(evolved hyperparameters dict, internal reward weights or None)."""
    with self._lock:
      agent = self._agent(agent)
      return dict(self._hparams[agent]), self._weights[agent]

  def pbt_check(self, agent: int, learner_steps: int) -> Optional[pbt.Decision]:
    """Asks PBT about `agent`; on an exploit, adopts and logs its settings.

    Returns:
      None when the agent is not ready, else the decision; when
      `copied_from` is set the learner must load that agent's weights and
      use the decision's hyperparameters and internal reward weights.
    """
    with self._lock:
      agent = self._agent(agent)
      learner_steps = checks.check_int("learner_steps", learner_steps, 0)
      self._counts["learner_steps"][agent] = learner_steps
      decision = self._pbt.decide(agent, learner_steps,
                                  dict(enumerate(self._hparams)),
                                  dict(enumerate(self._weights)))
      if decision is not None and decision.copied_from is not None:
        self._hparams[agent] = dict(decision.hyperparameters)
        self._weights[agent] = decision.internal_reward_weights
        if self._records is not None:
          self._records.write_lineage(self._minutes(), decision, learner_steps)
      return decision

  def summary(self) -> Dict[str, List[Any]]:
    """Per-agent lists for progress lines: ratings, matches, exploits, ..."""
    with self._lock:
      size = self._config.population_size
      return {"ratings": [round(self._table.rating(i), 1) for i in range(size)],
              "matches": [self._table.matches(i) for i in range(size)],
              "exploits": [self._pbt.num_exploits(i) for i in range(size)],
              "checks": [self._pbt.num_checks(i) for i in range(size)],
              **{k: list(v) for k, v in self._counts.items()}}

  def log(self, minutes: Optional[float] = None, force: bool = False) -> bool:
    """Writes Elo rows and redraws the plots if `log_every_seconds` passed.

    Args:
      minutes: minutes of the run now (None: the controller's own clock).
      force: write even if the last rows are recent.

    Returns:
      Whether rows were written.
    """
    with self._lock:
      minutes = self._minutes() if minutes is None else float(minutes)
      due = ((minutes - self._last_log_minutes) * 60 >=
             self._config.log_every_seconds)
      if self._records is None or not (force or due):
        return False
      self._last_log_minutes = minutes
      self._records.write_elo(minutes, self._table, self._extra())
    # Plotting takes about a second: outside the lock, so matches and
    # reports are not held up; its own lock keeps two plots apart.
    with self._plot_lock:
      self._records.plot()
    return True

  def close(self):
    if self._records is not None:
      self._records.close()

  def _extra(self) -> Dict[int, Dict[str, Any]]:
    """elo.csv's extra columns per agent."""
    extra = {}
    for agent in range(self._config.population_size):
      row = {k: v[agent] for k, v in self._counts.items()}
      row["exploits"] = self._pbt.num_exploits(agent)
      total = self._event_sums[agent]
      if total is not None:  # Mean events per episode the agent played.
        names = self._event_names or [f"{i}" for i in range(len(total))]
        for name, value in zip(names, total):
          row[f"event_{name}"] = round(
              float(value) / self._event_slots[agent], 4)
      extra[agent] = row
    return extra

  def _minutes(self) -> float:
    return self._start_minutes + (self._clock() - self._t0) / 60.0

  def _agent(self, agent: int) -> int:
    self._table.rating(agent)  # Raises a ValueError naming a bad id.
    return int(agent)
