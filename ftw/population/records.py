"""Logs of population training under `<logdir>/population/`.

  elo.csv          one row per agent per log: minutes, agent, elo, matches,
                   then any extra columns (learner_steps, wins, ...).
  lineage.csv      one row per change of an agent's settings: minutes, agent,
                   learner_steps, copied_from (empty: the starting settings),
                   win_probability, every evolved hyperparameter, every
                   internal reward weight.
  elo.png, internal_rewards.png, hyperparameters.png: the curves of both.
  events.out.tfevents.*: `elo/agent_<i>` scalars against whole seconds.

The CSV files are appended to, with a header only when a file is new or
empty, so a resumed run continues them.
"""

import csv
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ftw.population import elo
from ftw.population.pbt import Decision
from ftw.utils import loggers

_Row = Tuple[int, float, Dict[str, float]]  # agent, minutes, values.

LINEAGE_COLUMNS = ("minutes", "agent", "learner_steps", "copied_from",
                   "win_probability")
ELO_COLUMNS = ("minutes", "agent", "elo", "matches")


class _CsvTable:
  """A CSV file of rows with a column order fixed by its first header."""

  def __init__(self, path: str, columns: Sequence[str]):
    self.path = path
    self._columns: Optional[List[str]] = None
    self._initial = list(columns)
    if os.path.exists(path) and os.path.getsize(path) > 0:
      with open(path, newline="") as f:
        self._columns = next(csv.reader(f), None)

  def append(self, rows: Sequence[Mapping[str, Any]]):
    if self._columns is None:
      self._columns = list(self._initial)
      with open(self.path, "w", newline="") as f:
        csv.writer(f).writerow(self._columns)
    new = [k for row in rows for k in row if k not in self._columns]
    if new:  # Rewrite once with the new columns appended.
      old = self.read()
      self._columns += list(dict.fromkeys(new))
      with open(self.path, "w", newline="") as f:
        writer = csv.DictWriter(f, self._columns)
        writer.writeheader()
        writer.writerows(old)
    with open(self.path, "a", newline="") as f:
      csv.DictWriter(f, self._columns).writerows(rows)

  def read(self) -> List[Dict[str, str]]:
    return loggers.read_csv(self.path, missing_ok=True)


class PopulationRecords:
  """Writes and plots the population's Elo and lineage logs."""

  def __init__(self, logdir: str, hyperparameter_names: Sequence[str],
               weight_names: Optional[Sequence[str]] = None,
               tensorboard: bool = True):
    """Opens (or continues) the logs in `<logdir>/population/`.

    Args:
      logdir: the experiment's log folder.
      hyperparameter_names: evolved hyperparameters, lineage columns.
      weight_names: internal reward weight names (e.g. `w_flag_pickup`),
        lineage columns after the hyperparameters; None or () if none.
      tensorboard: also write `elo/agent_<i>` TensorBoard scalars.
    """
    self.directory = os.path.join(logdir, "population")
    os.makedirs(self.directory, exist_ok=True)
    self._hparam_names = tuple(hyperparameter_names)
    self._weight_names = tuple(weight_names or ())
    self._elo = _CsvTable(os.path.join(self.directory, "elo.csv"), ELO_COLUMNS)
    self._lineage = _CsvTable(
        os.path.join(self.directory, "lineage.csv"),
        LINEAGE_COLUMNS + self._hparam_names + self._weight_names)
    self._tensorboard = tensorboard
    self._tb: Optional[loggers.Logger] = None  # Made at first use (imports TF).

  @property
  def lineage_is_new(self) -> bool:
    """True while lineage.csv has no rows (a fresh run, not a resume)."""
    return not self._lineage.read()

  def write_elo(self, minutes: float, elo_table: elo.EloTable,
                extra: Optional[Mapping[int, Mapping[str, Any]]] = None):
    """Appends one row per agent (plus its `extra[agent]` columns)."""
    rows = []
    for agent in range(elo_table.num_agents):
      row = {"minutes": round(float(minutes), 4), "agent": agent,
             "elo": elo_table.rating(agent),  # Unrounded: sums stay exact.
             "matches": elo_table.matches(agent)}
      row.update((extra or {}).get(agent, {}))
      rows.append(row)
    self._elo.append(rows)
    if self._tensorboard:
      if self._tb is None:
        self._tb = loggers.TensorBoardLogger(self.directory, "seconds")
      scalars = {f"elo/agent_{row['agent']}": row["elo"] for row in rows}
      self._tb.write({"seconds": int(round(float(minutes) * 60)), **scalars})

  def write_lineage(self, minutes: float, decision: Decision,
                    learner_steps: int):
    """Appends the agent's settings after `decision` to lineage.csv."""
    row = {"minutes": round(float(minutes), 4), "agent": decision.agent,
           "learner_steps": int(learner_steps),
           "copied_from": ("" if decision.copied_from is None else
                           decision.copied_from),
           "win_probability": ("" if decision.win_probability is None else
                               round(float(decision.win_probability), 6))}
    for name in self._hparam_names:
      row[name] = decision.hyperparameters.get(name, "")
    weights = decision.internal_reward_weights
    for i, name in enumerate(self._weight_names):
      row[name] = "" if weights is None else weights[i]
    self._lineage.append([row])

  def plot(self) -> List[str]:
    """Redraws the PNGs from the CSV files; returns the paths written."""
    elo_rows = _parse(self._elo.read(), ("elo",))
    lineage = _parse(self._lineage.read(),
                     self._hparam_names + self._weight_names)
    end = max([minutes for _, minutes, _ in elo_rows + lineage] or [0.0])
    written = []
    if elo_rows:
      written.append(self._figure("elo.png", elo_rows, ["elo"], end,
                                  steps=False))
    for filename, names in (("internal_rewards.png", self._weight_names),
                            ("hyperparameters.png", self._hparam_names)):
      if lineage and names:
        written.append(self._figure(filename, lineage, list(names), end,
                                    steps=True))
    return written

  def close(self):
    if self._tb is not None:
      self._tb.close()
      self._tb = None

  def _figure(self, filename: str, rows: List[_Row],
              columns: List[str], end: float, steps: bool) -> str:
    """One subplot per column, one curve per agent, against minutes."""
    from matplotlib.figure import Figure  # Lazy: only plotting needs it.
    fig = Figure(figsize=(7, 2.6 * len(columns) + 0.6))
    axes = fig.subplots(len(columns), 1, squeeze=False)[:, 0]
    agents = sorted({agent for agent, _, _ in rows})
    for ax, column in zip(axes, columns):
      positive = True
      for agent in agents:
        points = [(minutes, values[column]) for a, minutes, values in rows
                  if a == agent and column in values]
        if not points:
          continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        positive &= min(ys) > 0
        if steps:  # A setting holds until its next change: draw steps to now.
          ax.step(xs + [end], ys + ys[-1:], where="post",
                  label=f"agent {agent}")
        else:
          ax.plot(xs, ys, marker=".", label=f"agent {agent}")
      if steps and positive and ax.lines:
        ax.set_yscale("log")  # Evolved values change by factors.
      ax.set_title(column)
      ax.set_xlabel("minutes")
      ax.grid(alpha=0.3)
      if ax.lines:
        ax.legend(fontsize="small")
    fig.tight_layout()
    path = os.path.join(self.directory, filename)
    fig.savefig(path + ".tmp.png")
    os.replace(path + ".tmp.png", path)  # Viewers never see half a file.
    return path


def _parse(rows: List[Dict[str, str]], columns: Sequence[str]) -> List[_Row]:
  """(agent, minutes, {column: value}) of the rows, skipping empty cells and
  malformed rows (e.g. one being appended while the plot reads the file)."""
  out = []
  for row in rows:
    try:
      agent, minutes = int(row["agent"]), float(row["minutes"])
    except (KeyError, TypeError, ValueError):
      continue
    values = {}
    for column in columns:
      try:
        values[column] = float(row.get(column))
      except (TypeError, ValueError):
        pass  # An empty cell: no value there.
    out.append((agent, minutes, values))
  return out
