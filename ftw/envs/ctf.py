"""Capture the Flag: Melting Pot's `paintball__capture_the_flag` for FTW.

Two teams, red (team 0: even players) and blue (team 1: odd players), on a
23x23 map with a flag at each base (red at the top, blue at the bottom).
Carrying the opponents' flag onto your own flag, while it is at home,
captures: +1 reward to every member of the capturing team, -1 to the other
team (Melting Pot's default, zero-sum). Beams tag opponents out (two hits at
the usual health) for 80 frames; a tagged carrier drops the flag, and the
flag's team returns it home by touching it. Episodes last `episode_length`
frames (1000 by default) and end with discount 0: the game is over, the
score is final.

`CaptureTheFlag` is a multi-agent dm_env environment. Like `VectorEnv`, its
specs are those of ONE player and its values carry a leading player axis:

  observation  CtfObservation(rgb=uint8 [P, S, S, 3], events=float32 [P, E])
               rgb: each player's egocentric 88x88 view (11x11 cells of 8
                 pixels, the player on the second row from the bottom,
                 facing up), centre-cropped to S x S (84: what FtwTorso
                 takes; the crop removes 2 pixels of the edge cells);
               events: the game events of the step (`ctf_events.EVENT_NAMES`
                 columns), aligned with the reward: zero at FIRST.
  reward       float32 [P]; zero at FIRST.
  discount     float32 [P]; one except at LAST.
  action       int [P] in [0, 9) with action_mode='discrete' (the substrate's
               action set, `DISCRETE_ACTIONS`), or int [P, 3] with
               action_mode='multi_discrete': one choice per group of
               `ACTION_GROUPS`, move (5) x turn (3) x fire (3).

`teams` gives each player's team and `outcome()` the episode's team scores,
win / draw / loss per player and summed event counts; with
`track_positions=True`, `positions()` and `orientations()` say where each
player stands (scripted tests and analyses; it costs two observations per
player and step). Melting Pot is imported when an environment is built, not
with this module.

Seeds: `seed` fixes Lab2d's random numbers, yet episodes are NOT exactly
reproducible: measured with Melting Pot 2.4.1, the same seed spawns players
in the same set of cells but assigns them differently from run to run (the
Lua iterates over tables in an address-dependent order).
"""

from typing import List, NamedTuple, Optional, Sequence, Union

import dm_env
from dm_env import specs
import numpy as np

from ftw.envs import ctf_events

SUBSTRATE = "paintball__capture_the_flag"
FRAME_SIZE = 88  # Melting Pot's per-player RGB view is 88x88x3.
MAX_PLAYERS = 16  # The map has spawn points and sprites for this many.
ACTION_MODES = ("discrete", "multi_discrete")

# The substrate's 9 actions, as (name, dmlab2d action dict): Melting Pot's
# ACTION_SET. Moves are egocentric; zap: a wide beam of length 3; long_zap: a
# thin beam of length 6, only after a frame standing still.
DISCRETE_ACTIONS = (
    ("noop", dict(move=0, turn=0, fireZap=0)),
    ("forward", dict(move=1, turn=0, fireZap=0)),
    ("backward", dict(move=3, turn=0, fireZap=0)),
    ("step_left", dict(move=4, turn=0, fireZap=0)),
    ("step_right", dict(move=2, turn=0, fireZap=0)),
    ("turn_left", dict(move=0, turn=-1, fireZap=0)),
    ("turn_right", dict(move=0, turn=1, fireZap=0)),
    ("zap", dict(move=0, turn=0, fireZap=1)),
    ("long_zap", dict(move=0, turn=0, fireZap=2)),
)
# Multi-discrete groups: (group, dmlab2d key, (choice, dmlab2d value), ...).
# Choice 0 of every group does nothing, so [0, 0, 0] is a no-op; moving,
# turning and firing in one frame happen in that order.
ACTION_GROUPS = (
    ("move", "move", (("none", 0), ("forward", 1), ("step_right", 2),
                      ("backward", 3), ("step_left", 4))),
    ("turn", "turn", (("none", 0), ("left", -1), ("right", 1))),
    ("fire", "fireZap", (("none", 0), ("zap", 1), ("long_zap", 2))),
)
MULTI_DISCRETE_SIZES = tuple(len(choices) for _, _, choices in ACTION_GROUPS)


class CtfObservation(NamedTuple):
  """rgb: uint8 [P, S, S, 3]; events: float32 [P, NUM_EVENTS]."""
  rgb: np.ndarray
  events: np.ndarray


def num_actions(action_mode: str = "discrete") -> Union[int, List[int]]:
  """9 for 'discrete', the group sizes [5, 3, 3] for 'multi_discrete'."""
  if action_mode not in ACTION_MODES:
    raise ValueError(f"action_mode must be one of {ACTION_MODES}, got "
                     f"{action_mode!r}.")
  if action_mode == "discrete":
    return len(DISCRETE_ACTIONS)
  return list(MULTI_DISCRETE_SIZES)


def multi_discrete_action_table() -> tuple:
  """The 45 dmlab2d action dicts; [m, t, f] is entry m * 9 + t * 3 + f."""
  (_, move_key, moves), (_, turn_key, turns), (_, fire_key, fires) = (
      ACTION_GROUPS)
  return tuple({move_key: m, turn_key: t, fire_key: f}
               for _, m in moves for _, t in turns for _, f in fires)


def _check_int(value, name: str, low: int, high: Optional[int] = None) -> int:
  if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
      or value < low or (high is not None and value > high)):
    bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
    raise ValueError(f"{name} must be an int {bounds}, got {value!r}.")
  return int(value)


def _build_substrate(num_players: int, seed: Optional[int],
                     episode_length: int, action_table: Sequence[dict],
                     track_positions: bool):
  """Melting Pot's `build_substrate` with a seed: (Substrate, teams [P])."""
  # pylint: disable=g-import-not-at-top
  try:
    from meltingpot import substrate as mp_substrate
    from meltingpot.utils.substrates import builder
    from meltingpot.utils.substrates import substrate as substrate_lib
    from meltingpot.utils.substrates.wrappers import discrete_action_wrapper
    from meltingpot.utils.substrates.wrappers import multiplayer_wrapper
    from meltingpot.utils.substrates.wrappers import observables_wrapper
  except ImportError as e:
    raise ImportError(
        f"Capture the Flag needs Melting Pot ({e}): `make venv` installs it; "
        "elsewhere `pip install ftw[ctf]`, then from a checkout of ftw "
        "`python tools/install_meltingpot.py`.") from e
  # pylint: enable=g-import-not-at-top
  config = mp_substrate.get_config(SUBSTRATE)
  settings = config.lab2d_settings_builder(
      roles=config.default_player_roles[:1] * num_players, config=config)
  settings["maxEpisodeLengthFrames"] = episode_length
  # Teams as the config assigned them (even red, odd blue in 2.4.1).
  teams = []
  for avatar in settings["simulation"]["gameObjects"]:
    member = [c for c in avatar["components"] if c["component"] == "TeamMember"]
    teams.append(ctf_events.TEAM_NAMES.index(member[0]["kwargs"]["team"]))
    if track_positions:  # The config's debug observations, for avatars only.
      avatar["components"].append({
          "component": "LocationObserver",
          "kwargs": {"objectIsAvatar": True, "alsoReportOrientation": True}})
  names = ["RGB"] + (["POSITION", "ORIENTATION"] if track_positions else [])
  # Melting Pot draws a seed in [1, 2**31) when given none and avoids 0.
  env = builder.builder(settings,
                        env_seed=None if seed is None else seed + 1)
  try:
    # build_substrate's stack minus the COLLECTIVE_REWARD wrapper (a sum per
    # player and step that nobody here reads); WORLD.RGB is not passed on.
    env = observables_wrapper.ObservablesWrapper(env)
    env = multiplayer_wrapper.Wrapper(env, individual_observation_names=names,
                                      global_observation_names=[])
    env = discrete_action_wrapper.Wrapper(env, action_table=action_table)
    return substrate_lib.Substrate(env), np.array(teams, np.int32)
  except Exception:
    env.close()
    raise


class CaptureTheFlag(dm_env.Environment):
  """Capture the Flag for P players (see the module docstring)."""

  def __init__(self,
               num_players: int = 8,
               seed: Optional[int] = None,
               action_mode: str = "discrete",
               image_size: int = 84,
               episode_length: int = 1000,
               track_positions: bool = False):
    """Builds the substrate.

    Args:
      num_players: an even number in [2, 16]; half per team (8: 4v4).
      seed: seeds Lab2d's random numbers (map walls, spawns), an int in
        [0, 2**31 - 2]; each episode uses the next seed. None: a random
        seed. Not exactly reproducible (see the module docstring).
      action_mode: 'discrete' (9 actions) or 'multi_discrete' ([5, 3, 3]).
      image_size: side of the centre crop of the 88x88 views, in [1, 88].
      episode_length: frames per episode, >= 1.
      track_positions: whether `positions()` and `orientations()` work.
    """
    num_players = _check_int(num_players, "num_players", 2, MAX_PLAYERS)
    if num_players % 2:
      raise ValueError(f"num_players must be even (two equal teams), got "
                       f"{num_players}.")
    if seed is not None:
      seed = _check_int(seed, "seed", 0, 2**31 - 2)
    self._sizes = np.array(num_actions(action_mode), np.int64)  # Checks it.
    self._image_size = _check_int(image_size, "image_size", 1, FRAME_SIZE)
    episode_length = _check_int(episode_length, "episode_length", 1)
    if not isinstance(track_positions, bool):
      raise ValueError(f"track_positions must be a bool, got "
                       f"{track_positions!r}.")
    self._num_players = num_players
    self._action_mode = action_mode
    multi = action_mode == "multi_discrete"
    table = (multi_discrete_action_table() if multi else
             tuple(action for _, action in DISCRETE_ACTIONS))
    self._multi = multi
    self._dims = tuple(self._sizes.reshape(-1).tolist())  # (9,) or (5, 3, 3).
    self._action_shape = (num_players,) + ((3,) if multi else ())
    self._substrate, self._teams = _build_substrate(
        num_players, seed, episode_length, table, track_positions)
    self._track_positions = track_positions
    self._poses = None  # ([P, 2] cells, [P] facings) after the last frame.
    self._tracker = ctf_events.EventTracker(self._teams)
    low = (FRAME_SIZE - self._image_size) // 2
    self._crop = slice(low, low + self._image_size)
    self._frames_shape = (num_players, self._image_size, self._image_size, 3)
    self._reset_next_step = True

  @property
  def num_players(self) -> int:
    return self._num_players

  @property
  def teams(self) -> np.ndarray:
    """int32 [P]: 0 (red) or 1 (blue) for each player."""
    return self._teams.copy()

  @property
  def action_mode(self) -> str:
    return self._action_mode

  @property
  def num_actions(self) -> Union[int, List[int]]:
    """9, or [5, 3, 3] with action_mode='multi_discrete'."""
    return num_actions(self._action_mode)

  @property
  def substrate(self):
    """The wrapped Melting Pot Substrate (its actions index our table)."""
    return self._substrate

  def outcome(self) -> ctf_events.Outcome:
    """Team scores, win/draw/loss per player and event counts so far (final
    at LAST, until the next reset)."""
    return self._tracker.outcome()

  def positions(self) -> np.ndarray:
    """int32 [P, 2]: each player's map cell (x: column, y: row; 0, 0 is the
    top-left corner; the red flag is at (11, 2), the blue one at (11, 20))."""
    return self._pose()[0].copy()

  def orientations(self) -> np.ndarray:
    """int32 [P]: where each player faces, 0 N (up), 1 E, 2 S, 3 W."""
    return self._pose()[1].copy()

  def _pose(self):
    if not self._track_positions:
      raise RuntimeError("positions() and orientations() need "
                         "CaptureTheFlag(track_positions=True).")
    if self._poses is None:
      raise RuntimeError("call reset() first.")
    return self._poses

  def _observe(self, observations) -> np.ndarray:
    """The cropped frames, uint8 [P, S, S, 3]; keeps the poses if tracked."""
    if self._track_positions:
      self._poses = (
          np.array([o["POSITION"] for o in observations], np.int32),
          np.array([o["ORIENTATION"] for o in observations], np.int32))
    # Measured: one fresh array filled row by row costs half of np.stack's
    # time, which the substrate also feels (evicted caches).
    frames = np.empty(self._frames_shape, np.uint8)
    crop = self._crop
    for i, o in enumerate(observations):
      frames[i] = o["RGB"][crop, crop]
    return frames

  def reset(self) -> dm_env.TimeStep:
    timestep = self._substrate.reset()
    self._tracker.reset()
    self._reset_next_step = False
    p = self._num_players
    observation = CtfObservation(
        self._observe(timestep.observation),
        np.zeros((p, ctf_events.NUM_EVENTS), np.float32))
    return dm_env.TimeStep(dm_env.StepType.FIRST, np.zeros(p, np.float32),
                           np.ones(p, np.float32), observation)

  def _substrate_action(self, action) -> np.ndarray:
    """int [P] indices into the substrate's action table."""
    array = np.asarray(action)
    if array.shape == self._action_shape and array.dtype.kind in "iu":
      try:
        # One C call checks each choice's range and flattens [m, t, f] to
        # the table's m * 9 + t * 3 + f.
        return np.ravel_multi_index(array.T if self._multi else (array,),
                                    self._dims)
      except (TypeError, ValueError):
        pass
    expected = (f"ints in [0, {self._sizes.tolist()}) per group (move, turn, "
                f"fire)" if self._multi else f"ints in [0, {self._sizes})")
    raise ValueError(f"action must have shape {self._action_shape} of "
                     f"{expected}, got {action!r}.")

  def step(self, action) -> dm_env.TimeStep:
    """Steps one frame; action: int [P] (discrete) or [P, 3] (groups)."""
    if self._reset_next_step:
      return self.reset()
    timestep = self._substrate.step(self._substrate_action(action))
    events = self._tracker.step(self._substrate.events())
    observation = CtfObservation(self._observe(timestep.observation), events)
    discount = np.full(self._num_players, timestep.discount, np.float32)
    self._reset_next_step = timestep.last()
    return dm_env.TimeStep(timestep.step_type,
                           np.array(timestep.reward, np.float32), discount,
                           observation)

  def observation_spec(self) -> CtfObservation:
    """Specs of ONE player's observation (values have a leading [P])."""
    s = self._image_size
    return CtfObservation(
        specs.Array((s, s, 3), np.uint8, name="rgb"),
        specs.Array((ctf_events.NUM_EVENTS,), np.float32, name="events"))

  def action_spec(self) -> Union[specs.DiscreteArray, specs.BoundedArray]:
    """ONE player's action: DiscreteArray(9) or BoundedArray [3] int32."""
    if not self._multi:
      return specs.DiscreteArray(int(self._sizes), np.int32, name="action")
    return specs.BoundedArray((len(self._sizes),), np.int32, 0,
                              self._sizes - 1, name="action")

  def reward_spec(self) -> specs.Array:
    return specs.Array((), np.float32, name="reward")

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")

  def close(self) -> None:
    self._substrate.close()
