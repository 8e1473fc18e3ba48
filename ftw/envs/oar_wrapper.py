"""Adds the previous action and reward to every observation (FTW/UNREAL).

The FTW agent conditions its recurrent core on the last action and reward, so
the environment hands them out with the observation:
`OAR(observation, action=previous action, reward=previous reward)`. At the
first step of an episode both are zero.
"""

from typing import Optional, Union

import dm_env
from dm_env import specs
import numpy as np

from ftw.types import OAR


class OARWrapper(dm_env.Environment):
  """Wraps a dm_env.Environment so its observations are `ftw.types.OAR`.

  The previous action is int32 with the action spec's shape (a scalar for a
  DiscreteArray, [G] for G action groups); the previous reward is float32 with
  the reward spec's shape. Both are zero at a FIRST timestep, including the
  FIRST that an environment returns when stepped after a LAST.
  """

  def __init__(self, environment: dm_env.Environment,
               action_spec: Optional[Union[int, specs.Array]] = None):
    """Wraps `environment`.

    Args:
      environment: the dm_env environment to wrap.
      action_spec: the spec of the previous action: None uses the wrapped
        environment's action spec; an int N means N discrete actions.
    """
    if isinstance(action_spec, (int, np.integer)) and not isinstance(
        action_spec, bool):
      if action_spec < 1:
        raise ValueError(f"action_spec as a number of actions must be >= 1, "
                         f"got {action_spec}.")
      action_spec = specs.DiscreteArray(int(action_spec), dtype=np.int32)
    elif action_spec is None:
      action_spec = environment.action_spec()
    if not isinstance(action_spec, specs.Array) or not np.issubdtype(
        action_spec.dtype, np.integer):
      raise ValueError(f"action_spec must be None, an int or an integer "
                       f"dm_env spec, got {action_spec!r}.")
    self._environment = environment
    self._action_shape = tuple(action_spec.shape)
    if isinstance(action_spec, specs.DiscreteArray):
      self._previous_action_spec = specs.DiscreteArray(
          action_spec.num_values, dtype=np.int32, name="previous_action")
    elif isinstance(action_spec, specs.BoundedArray):
      self._previous_action_spec = specs.BoundedArray(
          action_spec.shape, np.int32, action_spec.minimum,
          action_spec.maximum, name="previous_action")
    else:
      self._previous_action_spec = specs.Array(action_spec.shape, np.int32,
                                               name="previous_action")
    self._reward_shape = tuple(environment.reward_spec().shape)
    self._zero_action = np.zeros(self._action_shape, np.int32)
    self._zero_reward = np.zeros(self._reward_shape, np.float32)

  @property
  def environment(self) -> dm_env.Environment:
    """The wrapped environment."""
    return self._environment

  def _wrap(self, timestep: dm_env.TimeStep, action, reward) -> dm_env.TimeStep:
    return timestep._replace(
        observation=OAR(timestep.observation, action, reward))

  def _first(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    return self._wrap(timestep, self._zero_action.copy(),
                      self._zero_reward.copy())

  def reset(self) -> dm_env.TimeStep:
    return self._first(self._environment.reset())

  def step(self, action) -> dm_env.TimeStep:
    previous_action = np.asarray(action)
    if (not np.issubdtype(previous_action.dtype, np.integer)
        or previous_action.shape != self._action_shape):
      raise ValueError(f"action must be integer with shape "
                       f"{self._action_shape}, got {action!r}.")
    timestep = self._environment.step(action)
    if timestep.first():
      return self._first(timestep)
    reward = np.asarray(timestep.reward, np.float32).reshape(self._reward_shape)
    return self._wrap(timestep, previous_action.astype(np.int32), reward)

  def observation_spec(self) -> OAR:
    return OAR(
        observation=self._environment.observation_spec(),
        action=self._previous_action_spec,
        reward=specs.Array(self._reward_shape, np.float32,
                           name="previous_reward"))

  def action_spec(self):
    return self._environment.action_spec()

  def reward_spec(self):
    return self._environment.reward_spec()

  def discount_spec(self):
    return self._environment.discount_spec()

  def close(self) -> None:
    self._environment.close()


def make_oar_environment(name: str, seed: int,
                         kwargs: Optional[dict] = None) -> OARWrapper:
  """`ftw.envs.make_environment(name, seed, **kwargs)` in an OARWrapper:
  one environment as the recurrent agents (FTW, R2D2) observe it."""
  from ftw import envs  # pylint: disable=g-import-not-at-top
  return OARWrapper(envs.make_environment(name, seed=seed, **(kwargs or {})))
