"""CtfSlots: Capture the Flag arenas as an actor's rows, on the real game."""

import dm_env
import numpy as np
import pytest

from ftw import envs
from ftw.envs import ctf_events
from ftw.envs.ctf_slots import CtfSlots, game_reward
from ftw.types import OAR

E = ctf_events.NUM_EVENTS
COLUMN = {name: i for i, name in enumerate(ctf_events.EVENT_NAMES)}


def _slots(arenas=2, players=2, episode_length=3, mode="multi_discrete"):
  return envs.make_team_game_slots("ctf", arenas, seed=3,
                                   num_players=players, action_mode=mode,
                                   episode_length=episode_length)


@pytest.fixture(scope="module")
def slots():
  env = _slots()
  yield env
  env.close()


def test_rows_are_arenas_times_players_with_oar_values(slots):
  assert slots.num_envs == 4 and slots.num_arenas == 2
  np.testing.assert_array_equal(slots.teams, [0, 1, 0, 1])
  first = slots.reset()
  assert isinstance(first.observation, OAR)
  assert first.observation.observation.shape == (4, 84, 84, 3)
  assert first.observation.observation.dtype == np.uint8
  np.testing.assert_array_equal(first.observation.action, np.zeros((4, 3)))
  np.testing.assert_array_equal(first.observation.reward, np.zeros((4, E)))
  assert first.reward.shape == (4, E)
  assert (first.step_type == int(dm_env.StepType.FIRST)).all()
  spec = slots.observation_spec()
  assert spec.observation.shape == (84, 84, 3)
  assert spec.action.shape == (3,) and spec.reward.shape == (E,)
  assert slots.reward_spec().shape == (E,)
  assert slots.action_spec().shape == (3,)


def test_previous_action_and_events_follow_each_row(slots):
  slots.reset()
  actions = np.array([[1, 0, 0], [2, 1, 0], [0, 2, 1], [4, 0, 2]], np.int32)
  timestep = slots.step(actions)
  np.testing.assert_array_equal(timestep.observation.action, actions)
  # The agent's previous reward is the step's event vector.
  np.testing.assert_array_equal(timestep.observation.reward, timestep.reward)
  assert (timestep.step_type == int(dm_env.StepType.MID)).all()


def test_episodes_end_together_per_arena_then_reset_with_outcomes(slots):
  slots.reset()
  noop = np.zeros((4, 3), np.int32)
  types = [slots.step(noop).step_type for _ in range(3)]
  assert (types[-1] == int(dm_env.StepType.LAST)).all()
  outcomes = slots.pop_outcomes()
  assert sorted(a for a, _ in outcomes) == [0, 1]
  for _, outcome in outcomes:
    assert outcome.team_scores.shape == (2,)
    assert outcome.event_counts.shape == (2, E)
  assert slots.pop_outcomes() == []
  after = slots.step(noop + 1)  # Actions of a reset row are ignored.
  assert (after.step_type == int(dm_env.StepType.FIRST)).all()
  np.testing.assert_array_equal(after.observation.action, noop)
  np.testing.assert_array_equal(after.reward, np.zeros((4, E)))


def test_game_reward_is_captures_made_minus_conceded():
  events = np.zeros((3, E), np.float32)
  events[0, COLUMN["team_capture"]] = 1
  events[1, COLUMN["opponent_capture"]] = 1
  events[2, COLUMN["flag_pickup"]] = 1  # Not a point of the game.
  np.testing.assert_array_equal(game_reward(events), [1, -1, 0])
  with pytest.raises(ValueError, match=r"events must have shape \[\.\.\., 13\]"):
    game_reward(np.zeros((3, 4)))


def test_bad_actions_and_arenas_raise(slots):
  slots.reset()
  with pytest.raises(ValueError, match=r"actions must be ints of shape \(4, 3\)"):
    slots.step(np.zeros((4,), np.int32))
  with pytest.raises(ValueError, match="actions must be ints"):
    slots.step(np.zeros((4, 3), np.float32))
  with pytest.raises(ValueError, match="arenas must be a non-empty sequence"):
    CtfSlots([])
  with pytest.raises(ValueError, match=r"arenas\[0\] must be"):
    CtfSlots([lambda: "not an arena"])
  with pytest.raises(ValueError, match="num_arenas must be an int >= 1"):
    envs.make_team_game_slots("ctf", 0, seed=0)
  with pytest.raises(ValueError, match="is not a team game"):
    envs.make_team_game_slots("catch", 1, seed=0)


def test_arenas_must_match():
  a = envs.make_environment("ctf", seed=0, num_players=2, episode_length=3)
  b = envs.make_environment("ctf", seed=1, num_players=4, episode_length=3)
  with pytest.raises(ValueError, match=r"arenas\[1\] differs"):
    CtfSlots([a, b])
  a.close()
  b.close()
