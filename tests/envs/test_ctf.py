"""Tests for ftw.envs.ctf on Melting Pot's real Capture the Flag substrate.

The scripted tests play 2v2 (red 0 and 2, blue 1 and 3) with every player
idle but the one scripted. Spawns vary from run to run even with a seed (see
ftw.envs.ctf), so paths are planned from the players' tracked positions on
the substrate's own ASCII map; the flags sit at (11, 2) (red) and (11, 20)
(blue).
"""

import collections

import dm_env
from meltingpot.configs.substrates import paintball__capture_the_flag as mp_config
import numpy as np
import pytest

from ftw.envs import ctf
from ftw.envs import ctf_events

RED_FLAG, BLUE_FLAG = (11, 2), (11, 20)
STEPS = ((0, -1), (1, 0), (0, 1), (-1, 0))  # N, E, S, W as (dx, dy).
# Multi-discrete move choice for (direction - facing) % 4: the moves are
# egocentric (forward, step right, backward, step left).
MOVES = (1, 2, 3, 4)
DISCRETE = {name: i for i, (name, _) in enumerate(ctf.DISCRETE_ACTIONS)}
MOVE_TO_DISCRETE = {1: DISCRETE["forward"], 2: DISCRETE["step_right"],
                    3: DISCRETE["backward"], 4: DISCRETE["step_left"]}
COLUMN = {name: i for i, name in enumerate(ctf_events.EVENT_NAMES)}


def _path(start, goal, blocked):
  """Shortest path of cells from start (excluded) to goal on the map."""
  rows = mp_config.ASCII_MAP.strip("\n").split("\n")
  previous = {start: None}
  queue = collections.deque([start])
  while queue:
    cell = queue.popleft()
    if cell == goal:
      break
    for dx, dy in STEPS:
      nxt = (cell[0] + dx, cell[1] + dy)
      # Ground, spawn points and flags; not walls, destructible or not.
      if (nxt not in previous and nxt not in blocked
          and rows[nxt[1]][nxt[0]] in "PQ,FG"):
        previous[nxt] = cell
        queue.append(nxt)
  cells = [goal]
  while previous[cells[-1]] != start:
    cells.append(previous[cells[-1]])
  return cells[::-1]


def _noop(env):
  return np.zeros((env.num_players, 3) if env.action_mode == "multi_discrete"
                  else env.num_players, np.int32)


def _act(env, player, move=0, turn=0, fire=0):
  """All players idle but `player`, given as multi-discrete choices."""
  action = _noop(env)
  if env.action_mode == "multi_discrete":
    action[player] = (move, turn, fire)
  elif move:
    action[player] = MOVE_TO_DISCRETE[move]
  elif turn:
    action[player] = DISCRETE[("turn_left", "turn_right")[turn - 1]]
  elif fire:
    action[player] = DISCRETE[("zap", "long_zap")[fire - 1]]
  return action


def _walk(env, player, goal):
  """Walks `player` to `goal` around the others; returns the timesteps."""
  positions = [tuple(p) for p in env.positions()]
  blocked = set(positions[:player] + positions[player + 1:])
  timesteps = []
  for cell in _path(positions[player], goal, blocked):
    x, y = env.positions()[player]
    direction = STEPS.index((cell[0] - x, cell[1] - y))
    facing = env.orientations()[player]
    timesteps.append(env.step(_act(env, player,
                                   move=MOVES[(direction - facing) % 4])))
    assert tuple(env.positions()[player]) == cell
  return timesteps


def _face(env, player, direction):
  """Turns `player` right until it faces `direction` (0 N, 1 E, 2 S, 3 W)."""
  while env.orientations()[player] != direction:
    env.step(_act(env, player, turn=2))


def _expect(events, **cells):
  """Asserts events equal the {'p<i>': [names]} given, zero elsewhere."""
  expected = np.zeros_like(events)
  for key, names in cells.items():
    for name in names:
      expected[int(key[1:]), COLUMN[name]] += 1
  np.testing.assert_array_equal(events, expected)


def test_shapes_dtypes_specs_and_teams():
  env = ctf.CaptureTheFlag(num_players=4, seed=1)
  assert env.teams.tolist() == [0, 1, 0, 1]
  assert env.num_actions == 9 and ctf.num_actions("multi_discrete") == [5, 3, 3]
  assert env.action_spec().num_values == 9
  timestep = env.reset()
  assert timestep.first()
  for _ in range(30):
    obs = timestep.observation
    assert obs.rgb.shape == (4, 84, 84, 3) and obs.rgb.dtype == np.uint8
    assert obs.events.shape == (4, ctf_events.NUM_EVENTS)
    for i in range(4):
      tree_specs = env.observation_spec()
      tree_specs.rgb.validate(obs.rgb[i])
      tree_specs.events.validate(obs.events[i])
      env.reward_spec().validate(timestep.reward[i])
      env.discount_spec().validate(timestep.discount[i])
    timestep = env.step(np.random.randint(0, 9, 4))
  env.close()
  small = ctf.CaptureTheFlag(num_players=2, seed=0, image_size=88)
  assert small.reset().observation.rgb.shape == (2, 88, 88, 3)
  small.close()


def test_discrete_actions_are_the_substrates():
  config = mp_config.get_config()
  assert [a for _, a in ctf.DISCRETE_ACTIONS] == [dict(a) for a in
                                                   config.action_set]


def test_multi_discrete_table_and_spec():
  table = ctf.multi_discrete_action_table()
  assert len(table) == 45
  for m, (_, move) in enumerate(ctf.ACTION_GROUPS[0][2]):
    for t, (_, turn) in enumerate(ctf.ACTION_GROUPS[1][2]):
      for f, (_, fire) in enumerate(ctf.ACTION_GROUPS[2][2]):
        assert table[m * 9 + t * 3 + f] == dict(move=move, turn=turn,
                                                fireZap=fire)
  assert table[0] == dict(move=0, turn=0, fireZap=0)
  # [forward, left, long zap] and [step left, right, none], by hand.
  assert table[1 * 9 + 1 * 3 + 2] == dict(move=1, turn=-1, fireZap=2)
  assert table[4 * 9 + 2 * 3 + 0] == dict(move=4, turn=1, fireZap=0)
  for _, action in ctf.DISCRETE_ACTIONS:  # Every discrete action is in it.
    assert action in table
  env = ctf.CaptureTheFlag(num_players=2, seed=0,
                           action_mode="multi_discrete")
  spec = env.action_spec()
  assert spec.shape == (3,) and spec.dtype == np.int32
  assert spec.maximum.tolist() == [4, 2, 2] and env.num_actions == [5, 3, 3]
  env.close()


@pytest.mark.parametrize("action_mode", ["discrete", "multi_discrete"])
def test_scripted_pickup_and_capture(action_mode):
  env = ctf.CaptureTheFlag(num_players=4, seed=0, action_mode=action_mode,
                           episode_length=150, track_positions=True)
  env.reset()
  walk = _walk(env, 0, BLUE_FLAG)
  for timestep in walk[:-1]:
    _expect(timestep.observation.events)
  # Picked up on entering the flag's cell: "I picked up" for red 0 only.
  _expect(walk[-1].observation.events, p0=["flag_pickup"],
          p2=["teammate_pickup"], p1=["opponent_pickup"],
          p3=["opponent_pickup"])
  # Carried home onto the red flag: a capture, +1 red / -1 blue.
  timestep = _walk(env, 0, RED_FLAG)[-1]
  _expect(timestep.observation.events, p0=["flag_capture", "team_capture"],
          p2=["team_capture"], p1=["opponent_capture"],
          p3=["opponent_capture"])
  np.testing.assert_array_equal(timestep.reward, [1, -1, 1, -1])
  assert env.outcome().team_scores.tolist() == [1, 0]
  while not timestep.last():
    timestep = env.step(_noop(env))
  np.testing.assert_array_equal(timestep.discount, 0)
  outcome = env.outcome()
  assert outcome.team_scores.tolist() == [1, 0]
  assert outcome.results.tolist() == [ctf_events.WIN, ctf_events.LOSS] * 2
  assert outcome.event_counts[0, COLUMN["flag_pickup"]] == 1
  assert outcome.event_counts[:, COLUMN["team_capture"]].tolist() == [1, 0,
                                                                      1, 0]
  assert env.step(_noop(env)).first()  # A new episode, a fresh outcome.
  assert env.outcome().team_scores.tolist() == [0, 0]
  env.close()


def test_tagging_the_carrier_and_returning_the_flag():
  env = ctf.CaptureTheFlag(num_players=4, seed=0, track_positions=True,
                           action_mode="multi_discrete")
  env.reset()
  _walk(env, 0, BLUE_FLAG)
  _walk(env, 0, (11, 19))  # Red 0 steps out of the blue base with the flag.
  # Blue 1 goes two cells east of it, faces west, and fires long zaps
  # (range 6) until red 0 is tagged out (two hits at full health).
  _walk(env, 1, (13, 19))
  _face(env, 1, 3)
  for _ in range(12):
    events = env.step(_act(env, 1, fire=2)).observation.events
    if events.any():
      break
  _expect(events, p1=["tag_opponent", "tag_flag_carrier"],
          p0=["tagged", "tagged_with_flag"])
  # The flag dropped where red 0 was: blue 1 touches it and returns it.
  env.step(_act(env, 1, move=1))
  events = env.step(_act(env, 1, move=1)).observation.events
  _expect(events, p1=["flag_return"], p3=["teammate_return"],
          p0=["opponent_return"], p2=["opponent_return"])
  counts = env.outcome().event_counts
  assert counts[1, COLUMN["tag_opponent"]] == 1
  assert counts[0, COLUMN["tagged"]] == 1
  env.close()


def test_positions_need_tracking():
  env = ctf.CaptureTheFlag(num_players=2, seed=0)
  env.reset()
  with pytest.raises(RuntimeError, match="track_positions=True"):
    env.positions()
  env.close()


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_players=3), "num_players must be even"),
    (dict(num_players=0), r"num_players must be an int in \[2, 16\]"),
    (dict(num_players=18), r"num_players must be an int in \[2, 16\]"),
    (dict(num_players=True), "num_players"),
    (dict(seed=-1), "seed must be an int"),
    (dict(seed=1.5), "seed must be an int"),
    (dict(action_mode="continuous"), "action_mode must be one of"),
    (dict(image_size=0), r"image_size must be an int in \[1, 88\]"),
    (dict(image_size=89), "image_size"),
    (dict(episode_length=0), "episode_length must be an int >= 1"),
    (dict(track_positions=1), "track_positions must be a bool"),
])
def test_bad_arguments(kwargs, message):
  with pytest.raises(ValueError, match=message):
    ctf.CaptureTheFlag(**kwargs)


def test_bad_actions():
  env = ctf.CaptureTheFlag(num_players=2, seed=0)
  env.reset()
  for action in ([0, 9], [0], [-1, 0], np.zeros(2, np.float32), [[0], [0]]):
    with pytest.raises(ValueError, match=r"action must have shape \(2,\)"):
      env.step(action)
  env.close()
  env = ctf.CaptureTheFlag(num_players=2, seed=0,
                           action_mode="multi_discrete")
  env.reset()
  for action in ([0, 0], [[0, 0, 3], [0, 0, 0]], [[5, 0, 0], [0, 0, 0]]):
    with pytest.raises(ValueError, match=r"action must have shape \(2, 3\)"):
      env.step(action)
  assert env.step([[4, 2, 2], [0, 0, 0]]).mid()
  env.close()


def test_event_tracker_on_lua_payloads():
  """Payloads as the Lua sends them: 1-based indices as float64 arrays."""
  tracker = ctf_events.EventTracker([0, 1, 0, 1])
  idx = lambda i: np.array(float(i))
  frame = [
      ("AvatarStarted", [b"str", b"success"]),
      ("zap", [b"dict", b"source", idx(2), b"target", idx(1)]),
      ("zap", [b"dict", b"source", idx(3), b"target", idx(4)]),
      ("zapped_flag_carrier", [b"dict", b"player_index", idx(3)]),
      ("flag_captured", [b"dict", b"player_index", idx(2), b"team", b"blue"]),
  ]
  _expect(tracker.step(frame),
          p1=["tag_opponent", "flag_capture", "team_capture"],
          p0=["tagged", "opponent_capture"],
          p2=["tag_opponent", "tag_flag_carrier", "opponent_capture"],
          p3=["tagged", "tagged_with_flag", "team_capture"])
  assert tracker.outcome().results.tolist() == [-1, 1, -1, 1]
  tracker.step([("flag_captured", [b"dict", b"player_index", idx(1),
                                   b"team", b"red"])])
  outcome = tracker.outcome()
  assert outcome.team_scores.tolist() == [1, 1]
  assert outcome.results.tolist() == [ctf_events.DRAW] * 4
  assert outcome.event_counts[:, COLUMN["team_capture"]].tolist() == [1, 1,
                                                                      1, 1]
  tracker.reset()
  assert tracker.outcome().team_scores.tolist() == [0, 0]
  assert not tracker.outcome().event_counts.any()
  with pytest.raises(ValueError, match="teams must be"):
    ctf_events.EventTracker([0, 2])


def test_make_environment_knows_ctf():
  from ftw import envs  # pylint: disable=g-import-not-at-top
  envs.check_environment_name("ctf")
  env = envs.make_environment("ctf", seed=0, num_players=2)
  assert isinstance(env, ctf.CaptureTheFlag) and env.num_players == 2
  assert isinstance(env.reset(), dm_env.TimeStep)
  env.close()
