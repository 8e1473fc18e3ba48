"""PopulationController: a scripted run, its logs, and resuming from state."""

import json
import threading

import numpy as np
import pytest

from ftw.population.config import PopulationConfig
from ftw.population.controller import PopulationController
from ftw.utils.loggers import read_csv

HPARAMS0 = {"learning_rate": 1e-3, "entropy_cost": 0.01, "kl_cost": 1e-3,
            "kl_prior_cost": 1e-4, "rpth_period": 10, "batch_size": 16}
WEIGHT_NAMES = ("w_pickup", "w_tag")


class _Clock:
  """Seconds that tests move by hand."""

  def __init__(self):
    self.seconds = 0.0

  def __call__(self):
    return self.seconds


def _controller(logdir=None, size=2, **overrides):
  population = PopulationConfig(population_size=size, pbt_ready=10,
                                pbt_min_matches=2, **overrides)
  return PopulationController(
      population, HPARAMS0, (1.0, -0.5), WEIGHT_NAMES, logdir,
      event_names=("pickup", "tag"), clock=_Clock(), tensorboard=False)


def test_scripted_reports_and_pbt_checks(tmp_path):
  controller = _controller(str(tmp_path), pbt_threshold=0.6)
  settings0 = controller.agent_settings(0)
  assert settings0 == ({k: v for k, v in HPARAMS0.items() if k != "batch_size"},
                       (1.0, -0.5))  # Agent 0 starts at the given values.
  hparams1, weights1 = controller.agent_settings(1)
  # Teams 2000 v 2000, A loses: delta = -16 per slot -> 968, 1032.
  controller.report((0, 0), (1, 1), 0, events=[[1, 0], [0, 1], [2, 2], [0, 0]])
  # 1936 v 2064: p = 1 / (1 + 10 ** 0.32) = 0.3236983, delta = -10.3583466.
  controller.report((0, 0), (1, 1), 0)
  summary = controller.summary()
  np.testing.assert_allclose(summary["ratings"], [947.3, 1052.7])
  assert summary["matches"] == [2, 2] and summary["wins"] == [0, 2]
  assert summary["losses"] == [2, 0] and summary["draws"] == [0, 0]
  assert controller.pbt_check(0, 5) is None  # Not ready before 10 steps.
  decision = controller.pbt_check(0, 10)
  # 947.2833 v 1052.7167: p = 1 / (1 + 10 ** (105.4334 / 400)) = 0.3527613.
  assert decision.copied_from == 1
  assert decision.win_probability == pytest.approx(0.3527613)
  hparams, weights = controller.agent_settings(0)
  assert hparams == decision.hyperparameters
  for name, value in hparams.items():
    old = hparams1[name]
    expected = ((round(old * 0.8), round(old * 1.2)) if name == "rpth_period"
                else (old * 0.8, old * 1.2))
    assert value in expected, name
  assert all(w in (old * 0.8, old * 1.2) for w, old in zip(weights, weights1))
  decision = controller.pbt_check(1, 10)
  # 1 - 0.3527613 = 0.6472387 >= 0.6: agent 1 keeps its settings (with the
  # default threshold 0.7 it would copy agent 0).
  assert decision.copied_from is None
  assert decision.win_probability == pytest.approx(0.6472387)
  assert controller.agent_settings(1) == (hparams1, weights1)  # Unchanged.
  summary = controller.summary()
  assert summary["exploits"] == [1, 0] and summary["checks"] == [1, 1]
  assert summary["learner_steps"] == [10, 10]

  lineage = read_csv(tmp_path / "population" / "lineage.csv")
  assert [(r["agent"], r["copied_from"], r["learner_steps"])
          for r in lineage] == [("0", "", "0"), ("1", "", "0"),
                                ("0", "1", "10")]
  assert float(lineage[2]["w_tag"]) == weights[1]
  assert float(lineage[1]["learning_rate"]) == hparams1["learning_rate"]


def test_log_is_rate_limited_and_writes_extras(tmp_path):
  controller = _controller(str(tmp_path))
  controller.report((0, 0), (1, 1), 0, events=[[1, 0], [0, 1], [2, 2], [0, 0]])
  assert controller.log(0.0)
  assert not controller.log(0.1)  # 6 s < log_every_seconds = 30.
  assert controller.log(0.6)  # 36 s.
  assert controller.log(0.61, force=True)
  rows = read_csv(tmp_path / "population" / "elo.csv")
  assert [r["minutes"] for r in rows] == ["0.0", "0.0", "0.6", "0.6", "0.61",
                                          "0.61"]
  # Agent 0's slots saw (1, 0) and (0, 1): means 0.5, 0.5; agent 1's 1, 1.
  assert (rows[0]["event_pickup"], rows[0]["event_tag"]) == ("0.5", "0.5")
  assert (rows[1]["event_pickup"], rows[1]["losses"]) == ("1.0", "0")
  assert rows[0]["elo"] == "968.0" and rows[0]["losses"] == "1"
  for name in ("elo.png", "hyperparameters.png", "internal_rewards.png"):
    assert (tmp_path / "population" / name).stat().st_size > 0


def _drive(controller, start):
  """A repeatable stretch of matches, reports and checks."""
  decisions = []
  for step in range(start, start + 12):
    for team_a, team_b in controller.matches(2):
      score = 1.0 if sum(team_a) > sum(team_b) else 0.5 if sum(team_a) == sum(
          team_b) else 0.0
      controller.report(team_a, team_b, score)
    decisions.append(controller.pbt_check(step % 4, 10 * step))
  return decisions


def test_state_round_trip_gives_identical_subsequent_decisions(tmp_path):
  first = _controller(str(tmp_path / "a"), size=4)
  _drive(first, 0)
  state = json.loads(json.dumps(first.state()))
  restored = PopulationController.restore(state, str(tmp_path / "a"),
                                          clock=_Clock(), tensorboard=False)
  assert restored.summary() == first.summary()
  expected, got = _drive(first, 12), _drive(restored, 12)
  assert any(d is not None and d.copied_from is not None for d in expected)
  assert got == expected
  assert restored.state()["rng"] == first.state()["rng"]
  for agent in range(4):
    assert restored.agent_settings(agent) == first.agent_settings(agent)
  # Resuming into the same logdir adds no second set of starting rows.
  lineage = read_csv(tmp_path / "a" / "population" / "lineage.csv")
  assert sum(r["copied_from"] == "" for r in lineage) == 4


def test_concurrent_reports_are_all_counted():
  controller = _controller(size=4)

  def play():
    for team_a, team_b in controller.matches(100):
      controller.report(team_a, team_b, 1)

  threads = [threading.Thread(target=play) for _ in range(4)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  state = controller.state()
  assert state["elo"]["games"] == 400
  assert sum(state["elo"]["ratings"]) == pytest.approx(4000.0)


def test_bad_calls_raise_and_change_nothing():
  controller = _controller()
  with pytest.raises(ValueError, match="events"):
    controller.report((0,), (1,), 1, events=[[1, 0]])
  with pytest.raises(ValueError, match="event_names"):
    controller.report((0,), (1,), 1, events=[[1, 0, 0], [0, 0, 0]])
  with pytest.raises(ValueError, match="score_a"):
    controller.report((0,), (1,), 2)
  with pytest.raises(ValueError, match="agent"):
    controller.agent_settings(2)
  with pytest.raises(ValueError, match="learner_steps"):
    controller.pbt_check(0, -1)
  assert controller.summary()["matches"] == [0, 0]
