"""N Atari games stepped by ale-py's C++ vector environment, as a VectorEnv.

`ftw.envs.vector_env.VectorEnv` over N `ftw.envs.atari.AtariEnv`s steps the
games one after another in Python: on Pong with 32 games that is most of an
actor's time (emulation, then per-game max-pooling, resizing and stacking in
Python). ale-py's `AtariVectorEnv` runs the emulators, max-pooling,
grayscale and resizing in C++ threads, with the GIL released. This class
wraps it into the batches `VectorEnv(OARWrapper(AtariEnv))` produces:

  step_type [N] int32, reward [N] float32, discount [N] float32,
  observation OAR(pixels [N, S, S, k * C] uint8 (oldest frame first),
                  previous action [N] int32, previous reward [N] float32).

Same preprocessing as `make_atari` (frame skip with max-pooling of the last
two frames, up to `noop_max` no-op frames at a reset, sticky actions,
clipped rewards, k stacked frames whose first observation repeats the
episode's first frame, minimal action set), with two differences: frames are
area-resized by ALE's C++ (OpenCV's INTER_AREA) rather than PIL's BOX
filter, and the step limit counts emulator frames including the no-ops
(`max_episode_steps * frame_skip`), as ALE's own limit does.

An episode that ended (LAST) is reset by the next `step`, whose row is then a
FIRST timestep (its action ignored, reward 0, discount 1): the rule of
`VectorEnv`. A game over ends with discount 0, the step limit with 1.
"""

import re
from typing import Optional

import dm_env
from dm_env import specs
import numpy as np

from ftw import checks
from ftw.envs import atari
from ftw.types import OAR


class AleVectorEnv:
  """`num_envs` preprocessed Atari games in ale-py's threaded vector env.

  The interface of `ftw.envs.vector_env.VectorEnv`: `num_envs`, `reset()`,
  `step(actions [N])`, the specs of ONE environment, `close()`.
  """

  def __init__(self, game: str, num_envs: int, seed: Optional[int] = None,
               num_threads: int = 1, frame_skip: int = 4, noop_max: int = 30,
               sticky_actions: bool = False, clip_rewards: bool = True,
               max_episode_steps: int = 27000, image_size: int = 84,
               grayscale: bool = False, frame_stack: int = 1):
    """Builds the games; see `ftw.envs.atari.make_atari` for the arguments.

    Args:
      game: ALE game name as gymnasium spells it, e.g. "Pong".
      num_envs: number of games N, >= 1.
      seed: game i is seeded with seed + i (None: unseeded).
      num_threads: C++ threads stepping the games, >= 1.
      frame_skip: see `make_atari`; so are the arguments below.
      noop_max: see `make_atari`.
      sticky_actions: see `make_atari`.
      clip_rewards: see `make_atari`.
      max_episode_steps: see `make_atari` (counted in frames, see above).
      image_size: see `make_atari`.
      grayscale: see `make_atari`.
      frame_stack: see `make_atari`.

    Raises:
      ValueError: for an unknown game or an argument out of range.
    """
    check = checks.check_int
    self._num_envs = check("num_envs", num_envs, 1)
    num_threads = check("num_threads", num_threads, 1)
    frame_skip = check("frame_skip", frame_skip, 1)
    noop_max = check("noop_max", noop_max, 0)
    max_episode_steps = check("max_episode_steps", max_episode_steps, 1)
    self._image_size = check("image_size", image_size, 1)
    self._frame_stack = check("frame_stack", frame_stack, 1)
    for name, flag in (("sticky_actions", sticky_actions),
                       ("clip_rewards", clip_rewards),
                       ("grayscale", grayscale)):
      if not isinstance(flag, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {flag!r}.")
    self._seed = None if seed is None else check("seed", seed, 0)
    self._grayscale = bool(grayscale)
    # pylint: disable-next=g-import-not-at-top
    from ale_py import roms, vector_env
    # gymnasium's "MsPacman" is ALE's ROM "ms_pacman".
    rom = re.sub(r"(?<!^)(?=[A-Z])", "_", str(game)).lower()
    if not isinstance(game, str) or rom not in roms.get_all_rom_ids():
      raise ValueError(f"game must name an ALE game such as 'Pong', got "
                       f"{game!r}.")
    self._env = vector_env.AtariVectorEnv(
        rom, num_envs=self._num_envs, num_threads=num_threads,
        frameskip=frame_skip, noop_max=noop_max,
        repeat_action_probability=(atari.STICKY_ACTION_PROBABILITY
                                   if sticky_actions else 0.0),
        reward_clipping=bool(clip_rewards),
        max_num_frames_per_episode=max_episode_steps * frame_skip,
        img_height=self._image_size, img_width=self._image_size,
        grayscale=self._grayscale, stack_num=1, maxpool=True,
        use_fire_reset=False, episodic_life=False)
    self._num_actions = int(self._env.single_action_space.n)
    channels = 1 if self._grayscale else 3
    self._channels = channels
    self._stack = np.zeros((self._num_envs, self._image_size,
                            self._image_size, self._frame_stack * channels),
                           np.uint8)
    self._specs = atari.game_specs(self._image_size,
                                   self._frame_stack * channels,
                                   self._num_actions, bool(clip_rewards))
    self._needs_reset = np.ones(self._num_envs, bool)
    self._started = False

  @property
  def num_envs(self) -> int:
    return self._num_envs

  def _frames(self, observation: np.ndarray) -> np.ndarray:
    # ALE: [N, 1, S, S] gray or [N, 1, S, S, 3] RGB -> [N, S, S, C].
    frames = observation[:, 0]
    return frames[..., None] if self._grayscale else frames

  def _observe(self, observation: np.ndarray, first: np.ndarray) -> OAR:
    frames = self._frames(observation)
    c = self._channels
    self._stack[:, :, :, :-c] = self._stack[:, :, :, c:]
    self._stack[:, :, :, -c:] = frames
    if first.any():  # A new episode's stack repeats its first frame.
      self._stack[first] = np.tile(frames[first], (1, 1, 1, self._frame_stack))
    return self._stack.copy()

  def reset(self) -> dm_env.TimeStep:
    """Resets every game; returns the batch of FIRST timesteps."""
    seed, self._seed = self._seed, None  # Seeds the first reset only.
    self._started = True
    observation, _ = self._env.reset(seed=seed)
    first = np.ones(self._num_envs, bool)
    self._needs_reset[:] = False
    n = self._num_envs
    return dm_env.TimeStep(
        step_type=np.full(n, int(dm_env.StepType.FIRST), np.int32),
        reward=np.zeros(n, np.float32), discount=np.ones(n, np.float32),
        observation=OAR(self._observe(observation, first),
                        np.zeros(n, np.int32), np.zeros(n, np.float32)))

  def step(self, actions) -> dm_env.TimeStep:
    """Steps every game with its action (resets those that ended).

    Args:
      actions: [num_envs] integer array, each in [0, num_actions).

    Returns:
      The batched timestep.
    """
    if not self._started:
      return self.reset()
    actions = np.asarray(actions)
    if (actions.shape != (self._num_envs,)
        or not np.issubdtype(actions.dtype, np.integer)):
      raise ValueError(f"actions must be an integer array of shape "
                       f"({self._num_envs},), got {actions.dtype} "
                       f"{actions.shape}.")
    if ((actions < 0) | (actions >= self._num_actions)).any():
      raise ValueError(f"actions must be in [0, {self._num_actions}), got "
                       f"{actions!r}.")
    observation, reward, terminated, truncated, _ = self._env.step(
        actions.astype(np.int32))
    first = self._needs_reset
    last = (terminated | truncated) & ~first
    self._needs_reset = last  # A new array: `first` keeps this step's rows.
    step_type = np.where(first, int(dm_env.StepType.FIRST),
                         np.where(last, int(dm_env.StepType.LAST),
                                  int(dm_env.StepType.MID))).astype(np.int32)
    reward = np.where(first, 0.0, reward).astype(np.float32)
    discount = np.where(terminated & ~first, 0.0, 1.0).astype(np.float32)
    previous_action = np.where(first, 0, actions).astype(np.int32)
    return dm_env.TimeStep(
        step_type=step_type, reward=reward, discount=discount,
        observation=OAR(self._observe(observation, first), previous_action,
                        reward.copy()))

  def observation_spec(self) -> OAR:
    return OAR(
        observation=self._specs.pixels,
        action=specs.DiscreteArray(self._num_actions, dtype=np.int32,
                                   name="previous_action"),
        reward=specs.Array((), np.float32, name="previous_reward"))

  def action_spec(self) -> specs.DiscreteArray:
    return self._specs.action

  def reward_spec(self) -> specs.Array:
    return self._specs.reward

  def discount_spec(self) -> specs.BoundedArray:
    return self._specs.discount

  def close(self) -> None:
    self._env.close()

  def __enter__(self) -> "AleVectorEnv":
    return self

  def __exit__(self, *unused_exc) -> None:
    self.close()
