"""Matchmaking picks co-players of similar skill; slots get their agents."""

import collections

import numpy as np
import pytest

from ftw.population import elo
from ftw.population import matchmaking


def _table(ratings):
  return elo.EloTable.from_state({
      "initial": 1000.0, "k": 32.0, "scale": 400.0, "ratings": list(ratings),
      "matches": [0] * len(ratings), "games": 0})


# Ratings 1000, 1000, 1200, 1600 and sigma 1/6 (2 sigma^2 = 1/18):
# focal 0: p_0j = 0.5, 0.5, 1/(1+10**0.5) = 0.2402531, 1/(1+10**1.5) =
# 0.0306534; w = exp(-18 (p - 0.5)^2) = 1, 1, 0.2968785, 0.0189652.
FOCAL_0 = [0.4318081, 0.4318081, 0.1281945, 0.0081893]
# focal 3: p_3j = 0.9693466, 0.9693466, 1/(1+10**-1) = 0.9090909, 0.5;
# w = 0.0189652, 0.0189652, exp(-18 * 0.4090909^2) = 0.0491737, 1.
FOCAL_3 = [0.0174456, 0.0174456, 0.0452337, 0.9198752]


def test_co_player_probabilities_follow_the_gaussian_over_win_probability():
  maker = matchmaking.Matchmaker(_table([1000, 1000, 1200, 1600]))
  np.testing.assert_allclose(maker.co_player_probabilities(0), FOCAL_0,
                             atol=1e-6)
  np.testing.assert_allclose(maker.co_player_probabilities(3), FOCAL_3,
                             atol=1e-6)


def test_sampled_co_players_match_the_formula():
  maker = matchmaking.Matchmaker(_table([1000, 1000, 1200, 1600]),
                                 players_per_team=2, sigma=1 / 6,
                                 rng=np.random.default_rng(7))
  focal_counts = collections.Counter()
  co_players = {0: collections.Counter(), 3: collections.Counter()}
  for team_a, team_b in maker.matches(20000):
    assert len(team_a) == 2 and len(team_b) == 2
    focal = team_a[0]
    focal_counts[focal] += 1
    if focal in co_players:
      co_players[focal].update(team_a[1:] + team_b)
  for agent in range(4):  # The focal agent is uniform.
    assert focal_counts[agent] / 20000 == pytest.approx(0.25, abs=0.015)
  for focal, expected in ((0, FOCAL_0), (3, FOCAL_3)):
    total = sum(co_players[focal].values())
    measured = [co_players[focal][j] / total for j in range(4)]
    np.testing.assert_allclose(measured, expected, atol=0.015)
  # Agents far from agent 0's skill are picked less.
  assert co_players[0][1] > co_players[0][2] > co_players[0][3]


def test_equal_ratings_give_uniform_co_players():
  maker = matchmaking.Matchmaker(_table([1000] * 5))
  np.testing.assert_allclose(maker.co_player_probabilities(2), [0.2] * 5)


def test_same_seed_same_matches_and_ratings_are_read_live():
  table = _table([1000, 1000, 1000])
  first = matchmaking.Matchmaker(table, 1, rng=np.random.default_rng(3))
  second = matchmaking.Matchmaker(table, 1, rng=np.random.default_rng(3))
  assert first.matches(30) == second.matches(30)
  table.update((0,), (1,), 1)
  assert first.co_player_probabilities(0)[1] < 1 / 3


def test_slot_assignment_fills_each_teams_slots_in_order():
  match = ((4, 7), (1, 2))
  np.testing.assert_array_equal(
      matchmaking.slot_assignment(match, [0, 1, 0, 1]), [4, 1, 7, 2])
  np.testing.assert_array_equal(
      matchmaking.slot_assignment(match, np.array([0, 0, 1, 1])), [4, 7, 1, 2])
  np.testing.assert_array_equal(
      matchmaking.slot_assignment(match, [1, 0, 0, 1]), [1, 4, 7, 2])


@pytest.mark.parametrize("match, teams, error", [
    (((0, 1), (2, 3)), [0, 0, 0, 1], "team 0"),
    (((0, 1), (2, 3)), [0, 1, 2, 1], "0s and 1s"),
    (((0, 1),), [0, 1], "team_a, team_b"),
])
def test_slot_assignment_rejects_mismatched_teams(match, teams, error):
  with pytest.raises(ValueError, match=error):
    matchmaking.slot_assignment(match, teams)


def test_bad_matchmaker_arguments_raise():
  table = _table([1000, 1000])
  with pytest.raises(ValueError, match="players_per_team"):
    matchmaking.Matchmaker(table, players_per_team=0)
  with pytest.raises(ValueError, match="sigma"):
    matchmaking.Matchmaker(table, sigma=0.0)
  with pytest.raises(ValueError, match="elo_table"):
    matchmaking.Matchmaker([1000, 1000])
  with pytest.raises(ValueError, match="agent"):
    matchmaking.Matchmaker(table).co_player_probabilities(2)
