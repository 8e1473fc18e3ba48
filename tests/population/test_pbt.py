"""PBT: who copies whom, readiness, the match guard, explore's exact values."""

import collections
import json
import math

import numpy as np
import pytest

from ftw.population import elo
from ftw.population import pbt
from ftw.population.config import PopulationConfig

HPARAMS = {0: {"learning_rate": 1e-3, "rpth_period": 10, "batch_size": 32},
           1: {"learning_rate": 4e-4, "rpth_period": 5, "batch_size": 16}}
WEIGHTS = {0: (0.1, 0.1, 0.1), 1: (1.0, -2.0, 0.5)}


def _table(ratings, matches):
  return elo.EloTable.from_state({
      "initial": 1000.0, "k": 32.0, "scale": 400.0, "ratings": list(ratings),
      "matches": list(matches), "games": 0})


def _pbt(ratings, matches=None, seed=0, **overrides):
  config = PopulationConfig(population_size=len(ratings), pbt_ready=100,
                            pbt_min_matches=5,
                            evolve=("learning_rate", "rpth_period"))
  config = config.replace(**overrides)
  table = _table(ratings, matches or [10] * len(ratings))
  return pbt.PBT(config, table, np.random.default_rng(seed))


def test_the_weaker_of_two_agents_copies_the_stronger():
  rule = _pbt([1000, 1300])
  decision = rule.decide(0, 100, HPARAMS, WEIGHTS)
  # P(0 beats 1) = 1 / (1 + 10 ** 0.75) = 0.1509796 < 0.7.
  assert decision.copied_from == 1 and decision.compared_with == 1
  assert decision.win_probability == pytest.approx(0.1509796)
  decision = rule.decide(1, 100, HPARAMS, WEIGHTS)
  assert decision.copied_from is None and decision.compared_with == 0
  assert decision.win_probability == pytest.approx(0.8490204)
  assert decision.hyperparameters == HPARAMS[1] and decision.perturbed == ()
  assert decision.internal_reward_weights == WEIGHTS[1]
  assert [rule.num_exploits(i) for i in (0, 1)] == [1, 0]
  assert [rule.num_checks(i) for i in (0, 1)] == [1, 1]


def test_threshold_decides_against_a_randomly_chosen_other_agent():
  # Agent 2 (1300) beats 1000 with p = 0.849 and 1100 with 0.760 (both
  # >= 0.7): it copies only agent 3 (1600, p = 0.151).
  rule = _pbt([1000, 1100, 1300, 1600], pbt_ready=0)
  hparams = {i: {"learning_rate": 1.0, "rpth_period": 4} for i in range(4)}
  weights = {i: None for i in range(4)}
  compared = collections.Counter()
  for step in range(600):
    decision = rule.decide(2, step, hparams, weights)
    compared[decision.compared_with] += 1
    expected = 3 if decision.compared_with == 3 else None
    assert decision.copied_from == expected
  assert set(compared) == {0, 1, 3}  # Never itself, uniform over the others.
  for j in (0, 1, 3):
    assert compared[j] / 600 == pytest.approx(1 / 3, abs=0.06)
  assert all(rule.decide(3, 0, hparams, weights).copied_from is None
             for _ in range(30))
  assert all(rule.decide(0, 0, hparams, weights).copied_from is not None
             for _ in range(30))


def test_equal_ratings_exploit_since_one_half_is_below_the_threshold():
  assert _pbt([1000, 1000]).decide(0, 100, HPARAMS, WEIGHTS).copied_from == 1
  assert _pbt([1000, 1000], pbt_threshold=0.4).decide(
      0, 100, HPARAMS, WEIGHTS).copied_from is None


def test_agents_are_left_alone_until_ready_after_the_start_and_each_exploit():
  rule = _pbt([1000, 1300], pbt_ready=1000)
  assert not rule.ready(0, 999)
  assert rule.decide(0, 999, HPARAMS, WEIGHTS) is None
  assert rule.num_checks(0) == 0
  assert rule.decide(0, 1000, HPARAMS, WEIGHTS).copied_from == 1
  assert rule.last_exploit(0) == 1000
  assert rule.decide(0, 1999, HPARAMS, WEIGHTS) is None
  assert rule.ready(0, 2000) and rule.ready(1, 1000)


def test_min_matches_guard_checks_both_agents():
  for matches in ([4, 10], [10, 4]):
    rule = _pbt([1000, 1300], matches)
    decision = rule.decide(0, 100, HPARAMS, WEIGHTS)
    assert decision.copied_from is None and decision.compared_with == 1
    assert decision.hyperparameters == HPARAMS[0]
    assert rule.num_checks(0) == 1 and rule.num_exploits(0) == 0
    assert rule.last_exploit(0) == 0
  assert _pbt([1000, 1300], [5, 5]).decide(
      0, 100, HPARAMS, WEIGHTS).copied_from == 1


def test_exploit_copies_then_perturbs_the_better_agents_settings():
  for seed in range(10):
    decision = _pbt([1000, 1300], seed=seed).decide(0, 100, HPARAMS, WEIGHTS)
    lr = decision.hyperparameters["learning_rate"]
    assert lr in (4e-4 * 0.8, 4e-4 * 1.2)  # Agent 1's, exactly perturbed.
    assert decision.hyperparameters["rpth_period"] in (4, 6)
    assert decision.hyperparameters["batch_size"] == 16  # Copied, not evolved.
    for new, old in zip(decision.internal_reward_weights, WEIGHTS[1]):
      assert new in (old * 0.8, old * 1.2)
    assert decision.internal_reward_weights[1] < 0  # Sign kept.
    assert set(decision.perturbed) == {"learning_rate", "rpth_period",
                                       "reward_0", "reward_1", "reward_2"}


def test_fixed_internal_rewards_are_neither_copied_nor_perturbed():
  decision = _pbt([1000, 1300], evolve_internal_rewards=False).decide(
      0, 100, HPARAMS, WEIGHTS)
  assert decision.copied_from == 1
  assert decision.internal_reward_weights == WEIGHTS[0]
  assert decision.hyperparameters["learning_rate"] != HPARAMS[0][
      "learning_rate"]


def test_explore_multiplies_by_exactly_one_of_the_factors():
  config = PopulationConfig()
  factors = collections.Counter()
  for seed in range(40):
    hparams, weights, perturbed = pbt.explore(
        {"learning_rate": 1e-3, "entropy_cost": 0.01}, [1.0, -2.0], config,
        np.random.default_rng(seed), weight_names=["w_a", "w_b"])
    assert hparams["learning_rate"] in (1e-3 * 0.8, 1e-3 * 1.2)
    assert hparams["entropy_cost"] in (0.01 * 0.8, 0.01 * 1.2)
    assert weights[0] in (0.8, 1.2) and weights[1] in (-1.6, -2.4)
    assert perturbed == ("learning_rate", "entropy_cost", "w_a", "w_b")
    factors[weights[0]] += 1
  assert 10 < factors[0.8] < 30  # Both factors, about equally often.


@pytest.mark.parametrize("value, factor, expected", [
    (10, 0.8, 8), (10, 1.2, 12), (3, 1.2, 4),  # 3.6 rounds to 4.
    (7, 1.2, 8),  # 8.4 rounds to 8.
    (5, 0.9, 4),  # 4.5 rounds half up to 5 (unchanged): -1.
    (2, 1.2, 3),  # 2.4 rounds to 2 (unchanged): +1.
    (2, 0.8, 1),  # 1.6 rounds to 2 (unchanged): -1.
    (1, 0.8, 1),  # Never below 1.
    (1, 1.2, 2), (1, 0.3, 1)])
def test_integer_perturbation_rounds_and_always_moves(value, factor, expected):
  assert pbt.perturb_value(value, factor, integer=True) == expected


def test_explore_rounds_integer_hyperparameters():
  config = PopulationConfig()
  seen = collections.defaultdict(set)
  for seed in range(30):
    hparams, weights, _ = pbt.explore(
        {"rpth_period": 2.0, "unroll": 7, "lr": 1.0}, None, config,
        np.random.default_rng(seed))
    assert weights is None
    for name, value in hparams.items():
      seen[name].add(value)
  assert seen["rpth_period"] == {1, 3}  # By name, even when given as float.
  assert seen["unroll"] == {6, 8}  # By type: 5.6 -> 6, 8.4 -> 8.
  assert seen["lr"] == {0.8, 1.2}
  assert all(isinstance(v, int) for v in seen["rpth_period"] | seen["unroll"])


def test_small_perturb_probability_leaves_most_values_unchanged():
  config = PopulationConfig(perturb_probability=0.05)
  changed, untouched = 0, 0
  for seed in range(400):
    hparams, weights, perturbed = pbt.explore(
        {"a": 1.0, "b": 2.0}, (3.0, 4.0, 5.0), config,
        np.random.default_rng(seed))
    changed += len(perturbed)
    if not perturbed:
      untouched += 1
      assert hparams == {"a": 1.0, "b": 2.0} and weights == (3.0, 4.0, 5.0)
  assert changed / 2000 == pytest.approx(0.05, abs=0.015)
  assert untouched / 400 == pytest.approx(0.95 ** 5, abs=0.06)  # 0.774


def test_state_round_trip_gives_identical_decisions():
  rule = _pbt([1000, 1100, 1300, 1600], pbt_ready=0)
  hparams = {i: {"learning_rate": 1.0 + i, "rpth_period": 4} for i in range(4)}
  weights = {i: (1.0, -1.0) for i in range(4)}
  for step in range(5):
    rule.decide(step % 4, step, hparams, weights)
  rng_state = json.loads(json.dumps(rule._rng.bit_generator.state))
  rng = np.random.default_rng()
  rng.bit_generator.state = rng_state
  restored = pbt.PBT.from_state(json.loads(json.dumps(rule.state())),
                                rule._config, rule._table, rng)
  for step in range(5, 25):
    assert (rule.decide(step % 4, step, hparams, weights) ==
            restored.decide(step % 4, step, hparams, weights))
  assert restored.state() == rule.state()


def test_initial_hyperparameters_spread_log_uniformly_around_agent_0():
  config = PopulationConfig(population_size=2000, initial_spread=2.0)
  values = {"learning_rate": 1e-3, "entropy_cost": 0.01, "kl_cost": 1e-3,
            "kl_prior_cost": 1e-4, "rpth_period": 10, "unused": "x"}
  agents = pbt.initial_hyperparameters(values, (1.0, -0.5), config,
                                       np.random.default_rng(0))
  assert agents[0] == ({"learning_rate": 1e-3, "entropy_cost": 0.01,
                        "kl_cost": 1e-3, "kl_prior_cost": 1e-4,
                        "rpth_period": 10}, (1.0, -0.5))
  logs = np.log([h["learning_rate"] / 1e-3 for h, _ in agents[1:]])
  assert np.all(np.abs(logs) <= math.log(2.0) + 1e-12)
  # Log-uniform on [-log 2, log 2]: mean 0, std log(2) / sqrt(3) = 0.4002.
  assert abs(logs.mean()) < 0.03 and logs.std() == pytest.approx(0.4002,
                                                                 abs=0.02)
  periods = {h["rpth_period"] for h, _ in agents}
  assert periods == set(range(5, 21))  # 10 * [1/2, 2], rounded.
  assert all(w[0] > 0 > w[1] and 0.5 <= w[0] <= 2.0 for _, w in agents)


def test_initial_spread_of_one_keeps_every_agent_at_the_given_values():
  config = PopulationConfig(population_size=3, initial_spread=1.0,
                            evolve=("learning_rate",))
  agents = pbt.initial_hyperparameters({"learning_rate": 3e-4}, None, config,
                                       np.random.default_rng(0))
  assert agents == [({"learning_rate": 3e-4}, None)] * 3
  with pytest.raises(ValueError, match="rpth_period"):
    pbt.initial_hyperparameters({"learning_rate": 3e-4}, None,
                                PopulationConfig(), np.random.default_rng(0))
