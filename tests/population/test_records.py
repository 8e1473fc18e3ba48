"""Population logs: CSV columns and rows, resume-safe headers, plots, TB."""

import csv
import os

from ftw.population import elo
from ftw.population.pbt import Decision
from ftw.population.records import PopulationRecords

HPARAMS = ("learning_rate", "rpth_period")
WEIGHTS = ("w_flag_pickup", "w_tag")


def _read(path):
  with open(path, newline="") as f:
    return list(csv.reader(f))


def _table():
  table = elo.EloTable(2)
  table.update((0, 0), (1, 1), 1)  # Teams 2000 v 2000: +16 per slot.
  return table


def _records(tmp_path, tensorboard=False):
  return PopulationRecords(str(tmp_path), HPARAMS, WEIGHTS, tensorboard)


def _decision(agent=0, copied_from=1):
  return Decision(agent, copied_from, 0.25, {"learning_rate": 4e-4,
                                             "rpth_period": 6}, (1.5, -0.5),
                  ("learning_rate",), 1)


def test_elo_rows_have_fixed_columns_then_the_extras(tmp_path):
  records = _records(tmp_path)
  records.write_elo(1.5, _table(), {0: {"wins": 1, "learner_steps": 40},
                                    1: {"wins": 0, "learner_steps": 30}})
  rows = _read(tmp_path / "population" / "elo.csv")
  assert rows == [["minutes", "agent", "elo", "matches", "wins",
                   "learner_steps"],
                  ["1.5", "0", "1032.0", "1", "1", "40"],
                  ["1.5", "1", "968.0", "1", "0", "30"]]


def test_headers_are_written_once_across_a_resume(tmp_path):
  _records(tmp_path).write_elo(1.0, _table())
  _records(tmp_path).write_lineage(1.0, _decision(), 10)
  resumed = _records(tmp_path)
  resumed.write_elo(2.0, _table())
  resumed.write_lineage(2.0, _decision(agent=1, copied_from=0), 20)
  elo_rows = _read(tmp_path / "population" / "elo.csv")
  assert [r[0] for r in elo_rows] == ["minutes", "1.0", "1.0", "2.0", "2.0"]
  lineage = _read(tmp_path / "population" / "lineage.csv")
  assert [r[:4] for r in lineage] == [
      ["minutes", "agent", "learner_steps", "copied_from"],
      ["1.0", "0", "10", "1"], ["2.0", "1", "20", "0"]]
  assert not resumed.lineage_is_new


def test_lineage_columns_are_the_settings_after_the_decision(tmp_path):
  records = _records(tmp_path)
  assert records.lineage_is_new
  records.write_lineage(0.0, Decision(2, None, None, {"learning_rate": 1e-3,
                                                      "rpth_period": 10},
                                      None), 0)
  records.write_lineage(3.25, _decision(), 500)
  assert _read(tmp_path / "population" / "lineage.csv") == [
      ["minutes", "agent", "learner_steps", "copied_from", "win_probability",
       "learning_rate", "rpth_period", "w_flag_pickup", "w_tag"],
      ["0.0", "2", "0", "", "", "0.001", "10", "", ""],
      ["3.25", "0", "500", "1", "0.25", "0.0004", "6", "1.5", "-0.5"]]


def test_new_extra_columns_rewrite_the_file_once(tmp_path):
  records = _records(tmp_path)
  records.write_elo(1.0, _table())
  records.write_elo(2.0, _table(), {1: {"wins": 3}})
  rows = _read(tmp_path / "population" / "elo.csv")
  assert rows[0] == ["minutes", "agent", "elo", "matches", "wins"]
  assert [r[4] for r in rows[1:]] == ["", "", "", "3"]


def test_plot_writes_non_empty_pngs(tmp_path):
  records = _records(tmp_path)
  assert records.plot() == []  # Nothing logged yet: nothing drawn.
  for minutes in (0.0, 1.0, 2.0):
    records.write_elo(minutes, _table())
  records.write_lineage(0.0, _decision(copied_from=None), 0)
  records.write_lineage(1.5, _decision(), 100)
  written = records.plot()
  folder = tmp_path / "population"
  assert sorted(os.path.basename(p) for p in written) == [
      "elo.png", "hyperparameters.png", "internal_rewards.png"]
  for name in ("elo.png", "hyperparameters.png", "internal_rewards.png"):
    data = (folder / name).read_bytes()
    assert len(data) > 1000 and data.startswith(b"\x89PNG")
  assert not any(n.endswith(".tmp.png") for n in os.listdir(folder))


def test_tensorboard_scalars_per_agent(tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  records = _records(tmp_path, tensorboard=True)
  records.write_elo(0.5, _table())
  records.close()
  folder = tmp_path / "population"
  tags = {}
  for name in os.listdir(folder):
    if name.startswith("events.out.tfevents"):
      for event in tf.compat.v1.train.summary_iterator(str(folder / name)):
        for value in event.summary.value:
          tags[value.tag] = (event.step, float(tf.make_ndarray(value.tensor)))
  assert tags["elo/agent_0"] == (30, 1032.0)  # Step: whole seconds.
  assert tags["elo/agent_1"] == (30, 968.0)
