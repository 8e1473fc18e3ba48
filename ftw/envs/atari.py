"""Atari 2600 games through gymnasium + ale-py, preprocessed as in FTW/UNREAL.

Preprocessing (Mnih et al. 2015; Jaderberg et al. 2017, 2019):
- frame skip: each agent action repeats for `frame_skip` emulator frames and
  the rewards of those frames are summed;
- max-pooling: the observation is the pixel-wise max of the last two frames
  of the skip (Atari sprites flicker between frames);
- resize: the pooled 210x160 frame is area-averaged (PIL's BOX filter) to
  `image_size x image_size`, RGB, uint8; with `grayscale=True` the emulator's
  own luminance (`getScreenGrayscale`, a third of RGB's bytes to copy) is
  max-pooled and resized instead, shape [image_size, image_size, 1];
- no-op starts: each episode begins with a uniform number in [1, noop_max]
  of raw no-op frames (0 disables them);
- sticky actions: with `sticky_actions=True` the emulator repeats the
  previous action with probability 0.25 on each frame (Machado et al. 2018);
- frame stacking: with `frame_stack=k > 1` the observation is the last k
  preprocessed frames concatenated along channels ([S, S, k * C], oldest
  first); an episode's first observation repeats its first frame k times, so
  a stack never mixes episodes (Mnih et al. 2015 stack 4 grayscale frames);
- reward clipping: the step's summed reward becomes its sign;
- step limit: after `max_episode_steps` agent steps the episode is truncated
  (StepType.LAST, discount 1); a game over is a termination (discount 0).

gymnasium builds and seeds the ALE game (`gym.make("ALE/<game>-v5",
frameskip=1)` then `reset(seed=...)`); the frame loop then drives the ALE
interface directly (act, game_over, getScreenRGB into preallocated buffers),
which skips the per-frame observation copy and wrapper layers of
`gym.Env.step` (measured: ~30 us per ALE act against ~80 us per gym step).
"""

from typing import NamedTuple, Optional

import dm_env
from dm_env import specs
import gymnasium as gym
import numpy as np
from PIL import Image

STICKY_ACTION_PROBABILITY = 0.25


def resize_frame(frame: np.ndarray, image_size: int,
                 grayscale: bool = False) -> np.ndarray:
  """Area-resizes a [H, W, 3] uint8 frame to [S, S, 3] (or [S, S, 1] gray)."""
  image = Image.fromarray(frame)
  if grayscale:
    image = image.convert("L")  # ITU-R 601-2 luma.
  out = np.array(image.resize((image_size, image_size), Image.BOX))
  return out[..., None] if grayscale else out


def _check_int(value, name: str, minimum: int) -> int:
  if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
      or value < minimum):
    raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
  return int(value)


class GameSpecs(NamedTuple):
  """The specs of one preprocessed game (`AtariEnv`, a row of
  `ftw.envs.atari_vector.AleVectorEnv`)."""
  pixels: specs.BoundedArray
  action: specs.DiscreteArray
  reward: specs.Array
  discount: specs.BoundedArray


def game_specs(image_size: int, channels: int, num_actions: int,
               clip_rewards: bool) -> GameSpecs:
  """Pixels [S, S, channels] uint8, minimal-set actions, the reward (in
  [-1, 1] when clipped) and the discount."""
  reward = (specs.BoundedArray((), np.float32, -1.0, 1.0, name="reward")
            if clip_rewards else specs.Array((), np.float32, name="reward"))
  return GameSpecs(
      pixels=specs.BoundedArray((image_size, image_size, channels), np.uint8,
                                0, 255, name="pixels"),
      action=specs.DiscreteArray(num_actions, dtype=np.int32, name="action"),
      reward=reward,
      discount=specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount"))


class AtariEnv(dm_env.Environment):
  """A preprocessed Atari game as a dm_env.Environment; see `make_atari`."""

  def __init__(self, gym_env: gym.Env, seed: Optional[int], frame_skip: int,
               noop_max: int, clip_rewards: bool, max_episode_steps: int,
               image_size: int, grayscale: bool, frame_stack: int = 1):
    self._gym_env = gym_env
    self._ale = gym_env.unwrapped.ale
    self._action_set = self._ale.getMinimalActionSet()
    self._seed = seed
    self._rng = np.random.default_rng(seed)  # Draws the no-op counts.
    self._frame_skip = frame_skip
    self._noop_max = noop_max
    self._clip_rewards = clip_rewards
    self._max_episode_steps = max_episode_steps
    self._image_size = image_size
    self._grayscale = grayscale
    self._frame_stack = frame_stack
    channels = 1 if grayscale else 3
    # Newest frame last; the stack is a ring of whole frames along channels.
    self._stack = np.zeros((image_size, image_size, frame_stack * channels),
                           np.uint8)
    height, width = self._ale.getScreenDims()
    # The last two frames of a skip, max-pooled into the observation.
    self._frames = np.zeros((2, height, width) + (() if grayscale else (3,)),
                            np.uint8)
    self._grab = (self._ale.getScreenGrayscale if grayscale else
                  self._ale.getScreenRGB)
    self._episode_steps = 0
    self._reset_next_step = True

  @property
  def gym_env(self) -> gym.Env:
    """The gymnasium environment (its `.unwrapped.ale` is the emulator)."""
    return self._gym_env

  @property
  def ale(self):
    return self._ale

  def _observation(self, num_frames: int, first: bool = False) -> np.ndarray:
    if num_frames >= 2:
      pooled = np.maximum(self._frames[0], self._frames[1])
    else:
      pooled = self._frames[1]
    if self._grayscale:
      frame = np.asarray(Image.fromarray(pooled).resize(
          (self._image_size, self._image_size), Image.BOX))[..., None]
    else:
      frame = resize_frame(pooled, self._image_size)
    if self._frame_stack == 1:
      return frame
    channels = frame.shape[-1]
    if first:
      self._stack[:] = np.tile(frame, (1, 1, self._frame_stack))
    else:
      self._stack[..., :-channels] = self._stack[..., channels:]
      self._stack[..., -channels:] = frame
    return self._stack.copy()

  def reset(self) -> dm_env.TimeStep:
    seed, self._seed = self._seed, None
    self._gym_env.reset(seed=seed)
    noops = int(self._rng.integers(1, self._noop_max + 1)) if self._noop_max else 0
    noop = self._action_set[0]  # NOOP leads every minimal action set.
    for _ in range(noops):
      self._ale.act(noop)
      if self._ale.game_over():
        self._ale.reset_game()
    self._grab(self._frames[1])
    self._episode_steps = 0
    self._reset_next_step = False
    return dm_env.TimeStep(dm_env.StepType.FIRST, None, None,
                           self._observation(1, first=True))

  def step(self, action) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    try:
      index = int(action.__index__())
    except (AttributeError, TypeError):
      index = None
    if index is None or not 0 <= index < len(self._action_set):
      raise ValueError(f"action must be an integer in [0, "
                       f"{len(self._action_set)}), got {action!r}.")
    ale_action = self._action_set[index]
    reward = 0.0
    num_frames = 0
    for i in range(self._frame_skip):
      reward += self._ale.act(ale_action)
      if i >= self._frame_skip - 2:
        self._grab(self._frames[i - self._frame_skip + 2])
        num_frames += 1
      if self._ale.game_over():  # Game over or the ALE's own frame limit.
        if i < self._frame_skip - 1:  # Ended early: observe the last frame.
          self._grab(self._frames[1])
          num_frames = 1
        break
    self._episode_steps += 1
    if self._clip_rewards:
      reward = np.sign(reward)
    reward = np.float32(reward)
    observation = self._observation(num_frames)
    terminated = self._ale.game_over(with_truncation=False)
    truncated = (self._ale.game_truncated()
                 or self._episode_steps >= self._max_episode_steps)
    if terminated or truncated:
      self._reset_next_step = True
      discount = np.float32(0.0 if terminated else 1.0)
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, discount,
                             observation)
    return dm_env.TimeStep(dm_env.StepType.MID, reward, np.float32(1.0),
                           observation)

  def _specs(self) -> "GameSpecs":
    return game_specs(self._image_size, (1 if self._grayscale else 3) *
                      self._frame_stack, len(self._action_set),
                      self._clip_rewards)

  def observation_spec(self) -> specs.BoundedArray:
    return self._specs().pixels

  def action_spec(self) -> specs.DiscreteArray:
    return self._specs().action

  def reward_spec(self) -> specs.Array:
    return self._specs().reward

  def discount_spec(self) -> specs.BoundedArray:
    return self._specs().discount

  def close(self) -> None:
    self._gym_env.close()


def make_atari(game: str = "Pong",
               seed: Optional[int] = None,
               frame_skip: int = 4,
               noop_max: int = 30,
               sticky_actions: bool = False,
               clip_rewards: bool = True,
               max_episode_steps: int = 27000,
               image_size: int = 84,
               grayscale: bool = False,
               frame_stack: int = 1) -> AtariEnv:
  """Makes a preprocessed Atari game with the dm_env API.

  Args:
    game: ALE game name as in gymnasium's "ALE/<game>-v5", e.g. "Pong".
    seed: seeds the emulator (and sticky actions) and the no-op counts; the
      same seed and actions give the same episodes.
    frame_skip: emulator frames per agent step, >= 1.
    noop_max: most raw no-op frames at an episode's start, >= 0 (0: none).
    sticky_actions: repeat the previous action with probability 0.25.
    clip_rewards: replace each step's reward by its sign.
    max_episode_steps: agent steps before truncation, >= 1 (27000 agent steps
      at frame_skip 4 is 30 minutes of play).
    image_size: side of the square observation, >= 1.
    grayscale: observe luminance [S, S, 1] instead of RGB [S, S, 3].
    frame_stack: k >= 1 newest frames concatenated along channels
      ([S, S, k] gray or [S, S, 3k] RGB, oldest first).

  Returns:
    An AtariEnv (a dm_env.Environment) with minimal-action-set actions.

  Raises:
    ValueError: for an unknown game or an argument out of range.
  """
  frame_skip = _check_int(frame_skip, "frame_skip", 1)
  noop_max = _check_int(noop_max, "noop_max", 0)
  max_episode_steps = _check_int(max_episode_steps, "max_episode_steps", 1)
  image_size = _check_int(image_size, "image_size", 1)
  frame_stack = _check_int(frame_stack, "frame_stack", 1)
  for name, flag in (("sticky_actions", sticky_actions),
                     ("clip_rewards", clip_rewards), ("grayscale", grayscale)):
    if not isinstance(flag, (bool, np.bool_)):
      raise ValueError(f"{name} must be a bool, got {flag!r}.")
  if seed is not None:
    seed = _check_int(seed, "seed", 0)
  import ale_py  # pylint: disable=g-import-not-at-top
  gym.register_envs(ale_py)
  env_id = f"ALE/{game}-v5"
  if not isinstance(game, str) or env_id not in gym.registry:
    raise ValueError(f"game must name an ALE game such as 'Pong' (gymnasium id "
                     f"'ALE/<game>-v5'), got {game!r}.")
  repeat_probability = STICKY_ACTION_PROBABILITY if sticky_actions else 0.0
  gym_env = gym.make(env_id, obs_type="rgb", frameskip=1,
                     repeat_action_probability=repeat_probability,
                     full_action_space=False)
  return AtariEnv(gym_env, seed=seed, frame_skip=frame_skip, noop_max=noop_max,
                  clip_rewards=bool(clip_rewards),
                  max_episode_steps=max_episode_steps, image_size=image_size,
                  grayscale=bool(grayscale), frame_stack=frame_stack)
