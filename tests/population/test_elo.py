"""Team Elo: the formula, hand-computed updates, conservation, bad inputs."""

import json

import numpy as np
import pytest

from ftw.population import elo


def test_win_probability_at_hand_computed_points():
  assert elo.win_probability(1000, 1000) == 0.5
  assert elo.win_probability(1400, 1000) == pytest.approx(10 / 11)
  assert elo.win_probability(1000, 1400) == pytest.approx(1 / 11)
  # 1 / (1 + 10 ** -0.5) = 1 / 1.316227766
  assert elo.win_probability(1200, 1000) == pytest.approx(0.7597469266)
  # A scale of 200 makes a 200-point lead worth 10:1.
  assert elo.win_probability(1200, 1000, scale=200) == pytest.approx(10 / 11)


def test_team_rating_is_the_sum_and_teams_use_the_same_formula():
  assert elo.team_rating([1000, 1100]) == 2100.0
  # Teams 2100 vs 2000: 1 / (1 + 10 ** -0.25) = 1 / 1.562341325.
  assert elo.win_probability(elo.team_rating([1000, 1100]),
                             elo.team_rating([1000, 1000])) == pytest.approx(
                                 0.6400649998)


def test_three_sequential_2v2_updates_match_hand_computed_ratings():
  table = elo.EloTable(4, initial=1000.0, k=32.0)
  # 1: teams 2000 v 2000, p = 0.5, A wins: delta = 32 * 0.5 = 16.
  assert table.update((0, 1), (2, 3), 1) == pytest.approx(16.0)
  np.testing.assert_allclose(table.ratings(), [1016, 1016, 984, 984])
  # 2: teams (1016 + 984) v (1016 + 984), p = 0.5, A loses: delta = -16.
  assert table.update((0, 2), (1, 3), 0) == pytest.approx(-16.0)
  np.testing.assert_allclose(table.ratings(), [1000, 1032, 968, 1000])
  # 3: teams (1032 + 1000) v (1000 + 1000), p = 1 / (1 + 10 ** -0.08)
  # = 0.5459219228, draw: delta = 32 * (0.5 - p) = -1.4695015290; agent 0
  # fills both of team B's slots, so it gains 2 * 1.4695015290.
  assert table.update((1, 3), (0, 0), 0.5) == pytest.approx(-1.4695015290)
  np.testing.assert_allclose(
      table.ratings(), [1002.9390030580, 1030.5304984710, 968.0,
                        998.5304984710], rtol=0, atol=1e-8)
  assert [table.matches(i) for i in range(4)] == [3, 3, 2, 3]
  assert table.games == 3


def test_symmetry_swapping_teams_and_score_gives_the_same_ratings():
  first, second = elo.EloTable(4), elo.EloTable(4)
  for table in (first, second):
    table.update((0, 1), (2, 3), 1)  # Different ratings before the test.
  first.update((0, 2), (1, 3), 1)
  second.update((1, 3), (0, 2), 0)
  np.testing.assert_allclose(first.ratings(), second.ratings())
  assert first.win_probability(0, 1) == pytest.approx(
      1 - first.win_probability(1, 0))


def test_equal_team_sizes_conserve_the_total_rating():
  table = elo.EloTable(5, initial=1200.0)
  rng = np.random.default_rng(0)
  for _ in range(50):
    team_a, team_b = rng.integers(5, size=(2, 2))
    table.update(list(team_a), list(team_b), float(rng.choice([0, 0.5, 1])))
  assert table.ratings().sum() == pytest.approx(5 * 1200.0)
  assert not np.allclose(table.ratings(), 1200.0)


def test_unequal_team_sizes_change_the_total_by_the_size_difference():
  table = elo.EloTable(3)
  delta = table.update((0, 1), (2,), 1)
  # Team A (2000) beats team B (1000): p = 1 / (1 + 10 ** -2.5) = 0.996848.
  assert delta == pytest.approx(32 * (1 - 1 / (1 + 10 ** -2.5)))
  assert table.ratings().sum() == pytest.approx(3000 + delta)


def test_state_round_trips_through_json():
  table = elo.EloTable(3, initial=900.0, k=16.0, scale=300.0)
  table.update((0,), (1,), 1)
  restored = elo.EloTable.from_state(json.loads(json.dumps(table.state())))
  np.testing.assert_array_equal(restored.ratings(), table.ratings())
  assert [restored.matches(i) for i in range(3)] == [1, 1, 0]
  assert restored.update((0,), (2,), 0) == table.update((0,), (2,), 0)


@pytest.mark.parametrize("team_a, team_b, score, match", [
    ((), (1,), 1, "team_a"),
    ((0,), [], 1, "team_b"),
    ((0, 4), (1,), 1, r"team_a\[1\]"),
    ((0,), (-1,), 1, r"team_b\[0\]"),
    ((0,), (1.0,), 1, r"team_b\[0\]"),
    ("01", (1,), 1, "team_a"),
    ((0,), (1,), 0.7, "score_a"),
    ((0,), (1,), True, "score_a"),
    ((0,), (1,), "1", "score_a"),
])
def test_bad_update_inputs_raise_naming_the_argument(team_a, team_b, score,
                                                     match):
  table = elo.EloTable(4)
  with pytest.raises(ValueError, match=match):
    table.update(team_a, team_b, score)
  np.testing.assert_array_equal(table.ratings(), 1000.0)  # Nothing changed.


def test_bad_table_arguments_raise():
  with pytest.raises(ValueError, match="num_agents"):
    elo.EloTable(0)
  with pytest.raises(ValueError, match="k must"):
    elo.EloTable(2, k=0)
  with pytest.raises(ValueError, match="scale"):
    elo.EloTable(2, scale=float("inf"))
  with pytest.raises(ValueError, match="agent"):
    elo.EloTable(2).rating(2)
