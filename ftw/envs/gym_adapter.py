"""Adapter from a gymnasium environment to the dm_env API.

gymnasium reports `terminated` (the MDP ended: no bootstrapping) and
`truncated` (a time limit cut the episode: bootstrap from the last
observation). dm_env expresses both as StepType.LAST, with discount 0 for a
termination and discount 1 for a truncation.

Spaces map to specs: Box -> BoundedArray, Discrete -> DiscreteArray (actions,
int32) or BoundedArray (observations, the space's dtype), MultiDiscrete and
MultiBinary -> BoundedArray, Dict -> dict of specs, Tuple -> tuple of specs.
Rewards and discounts are float32 scalars.
"""

from typing import Any, Optional

import dm_env
from dm_env import specs
import gymnasium as gym
import numpy as np


def space_to_spec(space: gym.Space, name: str = "", as_action: bool = False):
  """Returns the dm_env spec (or nest of specs) of a gymnasium space.

  Args:
    space: a Box, Discrete, MultiDiscrete, MultiBinary, Dict or Tuple space.
    name: the spec's name.
    as_action: a Discrete space starting at 0 becomes an int32 DiscreteArray
      (what agents emit) instead of a BoundedArray of the space's dtype.

  Raises:
    ValueError: for a space type with no dm_env equivalent.
  """
  if isinstance(space, gym.spaces.Box):
    return specs.BoundedArray(space.shape, space.dtype, space.low, space.high,
                              name=name)
  if isinstance(space, gym.spaces.Discrete):
    start, n = int(space.start), int(space.n)
    if as_action and start == 0:
      return specs.DiscreteArray(n, dtype=np.int32, name=name)
    return specs.BoundedArray((), space.dtype, start, start + n - 1, name=name)
  if isinstance(space, gym.spaces.MultiDiscrete):
    return specs.BoundedArray(space.shape, space.dtype, space.start,
                              space.start + space.nvec - 1, name=name)
  if isinstance(space, gym.spaces.MultiBinary):
    return specs.BoundedArray(space.shape, space.dtype, 0, 1, name=name)
  if isinstance(space, gym.spaces.Dict):
    return {key: space_to_spec(sub, key, as_action)
            for key, sub in space.spaces.items()}
  if isinstance(space, gym.spaces.Tuple):
    return tuple(space_to_spec(sub, f"{name}_{i}", as_action)
                 for i, sub in enumerate(space.spaces))
  raise ValueError(f"space must be a Box, Discrete, MultiDiscrete, MultiBinary, "
                   f"Dict or Tuple gymnasium space, got {space!r}.")


def _convert(value: Any, spec) -> Any:
  """Casts a gymnasium value to the dtype of its spec, nest by nest."""
  if isinstance(spec, dict):
    return {key: _convert(value[key], sub) for key, sub in spec.items()}
  if isinstance(spec, tuple):
    return tuple(_convert(v, sub) for v, sub in zip(value, spec))
  return np.asarray(value, dtype=spec.dtype)


class GymnasiumToDmEnv(dm_env.Environment):
  """Wraps a gymnasium.Env as a dm_env.Environment.

  The first reset passes `seed` to `env.reset(seed=...)`; later resets pass
  no seed so the episodes continue the seeded random stream (the gymnasium
  convention). Stepping after a LAST timestep (or before any reset) resets.
  """

  def __init__(self, env: gym.Env, seed: Optional[int] = None):
    if not isinstance(env, gym.Env):
      raise ValueError(f"env must be a gymnasium.Env, got {type(env)!r}.")
    self._env = env
    self._seed = seed
    self._observation_spec = space_to_spec(env.observation_space,
                                           "observation")
    self._action_spec = space_to_spec(env.action_space, "action",
                                      as_action=True)
    self._reset_next_step = True

  @property
  def gym_env(self) -> gym.Env:
    """The wrapped gymnasium environment."""
    return self._env

  def reset(self) -> dm_env.TimeStep:
    seed, self._seed = self._seed, None
    observation, _ = self._env.reset(seed=seed)
    self._reset_next_step = False
    return dm_env.TimeStep(dm_env.StepType.FIRST, None, None,
                           _convert(observation, self._observation_spec))

  def _gym_action(self, action: Any) -> Any:
    space = self._env.action_space
    if isinstance(space, gym.spaces.Discrete):
      try:
        index = int(action.__index__())
      except (AttributeError, TypeError):
        index = None
      low, n = int(space.start), int(space.n)
      if index is None or not low <= index < low + n:
        raise ValueError(f"action must be an integer in [{low}, {low + n}), "
                         f"got {action!r}.")
      return index
    action = _convert(action, self._action_spec)
    if isinstance(space, gym.spaces.Box):
      # Bounds are the environment's business (many clip); the shape is ours.
      if action.shape != space.shape:
        raise ValueError(f"action must have shape {space.shape}, got "
                         f"{action.shape}.")
    elif not space.contains(action):
      raise ValueError(f"action must lie in the action space {space}, got "
                       f"{action!r}.")
    return action

  def step(self, action: Any) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    observation, reward, terminated, truncated, _ = self._env.step(
        self._gym_action(action))
    observation = _convert(observation, self._observation_spec)
    reward = np.float32(reward)
    if terminated or truncated:
      self._reset_next_step = True
      # A termination wins over a simultaneous truncation: nothing follows.
      discount = np.float32(0.0 if terminated else 1.0)
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, discount,
                             observation)
    return dm_env.TimeStep(dm_env.StepType.MID, reward, np.float32(1.0),
                           observation)

  def observation_spec(self):
    return self._observation_spec

  def action_spec(self):
    return self._action_spec

  def reward_spec(self) -> specs.Array:
    return specs.Array((), np.float32, name="reward")

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")

  def close(self) -> None:
    self._env.close()
