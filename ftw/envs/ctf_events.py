"""Game events of Capture the Flag as per-player vectors, and the outcome.

Melting Pot's `paintball__capture_the_flag` Lua level reports what happened
in a frame through `env.events()`, as (name, payload) pairs whose payload is
a flat list `[b'dict', key, value, key, value, ...]` with 1-based player
indices (`player_index`, `source`, `target`) and team names (`b'red'`,
`b'blue'`):

  flag_picked_up       {player_index, team}: the player took the opponents'
                       flag; `team` is the player's team.
  flag_captured        {player_index, team}: the player brought the opponents'
                       flag to its own flag at home; `team` is the player's.
  flag_returned        {player_index, team}: the player touched its team's
                       dropped flag away from home and sent it home.
  zap                  {source, target}: `source` tagged `target` out (the
                       hit that takes the last health point; the target
                       respawns 80 frames later; no friendly fire).
  zapped_flag_carrier  {player_index}: the zapper of the `zap` just before
                       tagged a flag carrier.

`EventTracker` turns each frame's events into one vector per player,
[num_players, NUM_EVENTS] float32 counts, columns in `EVENT_NAMES` order
(configs and evaluators name them `event_<name>`). `EVENTS` below says what
each column counts, from the player's point of view. They follow the game
points of the FTW paper (Jaderberg et al. 2019), with two differences: the
paper counts tags with and without the flag apart, here `tag_opponent` and
`tagged` count every tag and `tag_flag_carrier` and `tagged_with_flag` the
carrier cases again (the paper's "without" is the difference); the paper's
"teammate captured" leaves the capturer out, `team_capture` does not.
"""

from typing import NamedTuple, Sequence

import numpy as np

EVENTS = (
    ("flag_pickup", "I picked up the opponents' flag."),
    ("flag_capture", "I captured: I brought the opponents' flag to my "
                     "team's flag at its base."),
    ("flag_return", "I returned my team's dropped flag to its base."),
    ("tag_opponent", "I tagged an opponent out (carrier or not)."),
    ("tag_flag_carrier", "I tagged out the opponent carrying my team's flag "
                         "(also counted in tag_opponent)."),
    ("tagged", "I was tagged out."),
    ("tagged_with_flag", "I was tagged out while carrying the opponents' flag "
                         "(also counted in tagged)."),
    ("team_capture", "My team captured (I or a teammate; also counted with "
                     "flag_capture for the capturer)."),
    ("opponent_capture", "The opponents captured my team's flag."),
    ("teammate_pickup", "A teammate picked up the opponents' flag."),
    ("teammate_return", "A teammate returned our dropped flag."),
    ("opponent_pickup", "An opponent picked up my team's flag."),
    ("opponent_return", "An opponent returned their dropped flag."),
)
EVENT_NAMES = tuple(name for name, _ in EVENTS)
EVENT_DESCRIPTIONS = dict(EVENTS)
NUM_EVENTS = len(EVENTS)

TEAM_NAMES = ("red", "blue")  # Team 0 and team 1.
WIN, DRAW, LOSS = 1, 0, -1

_COLUMN = {name: i for i, name in enumerate(EVENT_NAMES)}
# Lua flag event -> columns of (the player, its team, the other team).
_FLAG_EVENTS = {
    lua: tuple(_COLUMN[c] for c in columns) for lua, columns in (
        ("flag_picked_up", ("flag_pickup", "teammate_pickup",
                            "opponent_pickup")),
        ("flag_returned", ("flag_return", "teammate_return",
                           "opponent_return")),
        ("flag_captured", ("flag_capture", "team_capture",
                           "opponent_capture")))}
_HANDLED = frozenset(_FLAG_EVENTS) | {"zap", "zapped_flag_carrier"}


class Outcome(NamedTuple):
  """An episode's result so far (final once the episode has ended).

  team_scores: int32 [2], captures by team 0 (red) and team 1 (blue).
  results: int32 [num_players], WIN (1), DRAW (0) or LOSS (-1) per player.
  event_counts: float32 [num_players, NUM_EVENTS], the episode's summed event
    vectors.
  """
  team_scores: np.ndarray
  results: np.ndarray
  event_counts: np.ndarray


def _payload(raw: Sequence) -> dict:
  """[b'dict', k1, v1, k2, v2, ...] -> {k1: int or str, ...}."""
  out = {}
  for key, value in zip(raw[1::2], raw[2::2]):
    if isinstance(value, bytes):
      out[key.decode()] = value.decode()
    else:
      out[key.decode()] = int(value)  # Numbers arrive as float64 arrays.
  return out


class EventTracker:
  """Per-player event vectors of each frame and the episode's outcome."""

  def __init__(self, teams: Sequence[int]):
    """Args: teams: the team (0 or 1) of each player, [num_players]."""
    self._teams = np.asarray(teams, np.int32)
    if self._teams.ndim != 1 or not np.isin(self._teams, (0, 1)).all():
      raise ValueError(f"teams must be a 1-D sequence of 0/1, got {teams!r}.")
    self._num_players = len(self._teams)
    self._team_masks = [self._teams == t for t in (0, 1)]
    self.reset()

  def reset(self) -> None:
    self._team_scores = np.zeros(2, np.int32)
    self._counts = np.zeros((self._num_players, NUM_EVENTS), np.float32)

  def step(self, events: Sequence) -> np.ndarray:
    """Vectors of one frame's `env.events()`: float32 [num_players, E].

    Also adds them to the episode's counts and the team scores.
    """
    vectors = np.zeros((self._num_players, NUM_EVENTS), np.float32)
    if not events:
      return vectors  # Most frames.
    last_zap_target = {}  # Zapper -> its latest target (maybe a carrier).
    for name, raw in events:
      if name not in _HANDLED:
        continue  # E.g. 'AvatarStarted' at the start of an episode.
      data = _payload(raw)
      if name == "zap":
        source, target = data["source"] - 1, data["target"] - 1
        vectors[source, _COLUMN["tag_opponent"]] += 1
        vectors[target, _COLUMN["tagged"]] += 1
        last_zap_target[source] = target
      elif name == "zapped_flag_carrier":
        zapper = data["player_index"] - 1
        vectors[zapper, _COLUMN["tag_flag_carrier"]] += 1
        # The Lua adds this right after the zap that tagged the carrier.
        if zapper in last_zap_target:
          vectors[last_zap_target[zapper], _COLUMN["tagged_with_flag"]] += 1
      else:
        own, team_column, opponent_column = _FLAG_EVENTS[name]
        player = data["player_index"] - 1
        team = int(self._teams[player])
        mine = self._team_masks[team]
        vectors[mine, team_column] += 1
        vectors[~mine, opponent_column] += 1
        if name == "flag_captured":
          self._team_scores[team] += 1
        else:
          vectors[player, team_column] -= 1  # Teammates' column: not me.
        vectors[player, own] += 1
    self._counts += vectors
    return vectors

  def outcome(self) -> Outcome:
    red, blue = self._team_scores
    team_result = np.array([np.sign(red - blue), np.sign(blue - red)],
                           np.int32)
    return Outcome(self._team_scores.copy(), team_result[self._teams],
                   self._counts.copy())
