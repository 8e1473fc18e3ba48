"""Steps N dm_env environments together and batches their timesteps.

An actor runs its network on a batch of environments (batched inference is
far cheaper per step than batch 1), so the environments are stepped together
and their timesteps stacked along a new leading axis:

  step_type [N] int32, reward [N, *reward_shape] float32,
  discount [N, *discount_shape] float32, observation: the observation nest
  with every leaf stacked to [N, ...] (an OAR stays an OAR).

An environment whose previous timestep was LAST is reset on the next `step`:
its row is then a FIRST timestep (reward 0, discount 1) and its action is
ignored. The environments are stepped one after another in the caller's
thread; `ftw.envs.process_vector_env.ProcessVectorEnv` steps groups of them
in worker processes, with the same batches.
"""

from typing import Callable, Sequence, Union

import dm_env
import numpy as np
import tree

EnvOrFactory = Union[dm_env.Environment, Callable[[], dm_env.Environment]]


class VectorEnv:
  """N dm_env environments stepped in lockstep, with automatic resets.

  `observation_spec()`, `action_spec()`, `reward_spec()` and
  `discount_spec()` are the specs of ONE environment (all N must share them);
  batched values carry an extra leading axis of size `num_envs`.
  """

  def __init__(self, envs: Sequence[EnvOrFactory]):
    """Builds the vector.

    Args:
      envs: dm_env environments, or callables that each return one.
    """
    if isinstance(envs, dm_env.Environment) or not isinstance(
        envs, Sequence) or not envs:
      raise ValueError(f"envs must be a non-empty sequence of dm_env "
                       f"environments or factories, got {envs!r}.")
    built = []
    for i, env in enumerate(envs):
      if not isinstance(env, dm_env.Environment):
        if not callable(env):
          raise ValueError(f"envs[{i}] must be a dm_env.Environment or a "
                           f"callable returning one, got {env!r}.")
        env = env()
        if not isinstance(env, dm_env.Environment):
          raise ValueError(f"envs[{i}]() must return a dm_env.Environment, "
                           f"got {env!r}.")
      built.append(env)
    self._envs = built
    self._action_spec = built[0].action_spec()
    self._action_shape = tuple(self._action_spec.shape)
    self._zero_reward = np.zeros(built[0].reward_spec().shape, np.float32)
    self._one_discount = np.ones(built[0].discount_spec().shape, np.float32)
    # True where the environment must be reset before its next transition.
    self._needs_reset = [True] * len(built)

  @property
  def num_envs(self) -> int:
    return len(self._envs)

  @property
  def envs(self) -> Sequence[dm_env.Environment]:
    return tuple(self._envs)

  def _batch(self, timesteps: Sequence[dm_env.TimeStep]) -> dm_env.TimeStep:
    rewards, discounts = [], []
    for i, ts in enumerate(timesteps):
      self._needs_reset[i] = ts.last()
      if ts.first():
        rewards.append(self._zero_reward)
        discounts.append(self._one_discount)
      else:
        rewards.append(ts.reward)
        discounts.append(ts.discount)
    return dm_env.TimeStep(
        step_type=np.array([ts.step_type for ts in timesteps], np.int32),
        reward=np.array(rewards, np.float32),
        discount=np.array(discounts, np.float32),
        observation=self._stack([ts.observation for ts in timesteps]))

  @staticmethod
  def _stack(observations):
    # Flatten each nest once (tree's C code) and stack leaf by leaf; cheaper
    # than tree.map_structure, which re-checks every structure.
    leaves = zip(*[tree.flatten(obs) for obs in observations])
    return tree.unflatten_as(observations[0],
                             [np.stack(leaf) for leaf in leaves])

  def reset(self) -> dm_env.TimeStep:
    """Resets every environment; returns the batch of FIRST timesteps."""
    return self._batch([env.reset() for env in self._envs])

  def step(self, actions) -> dm_env.TimeStep:
    """Steps every environment with its action (resets those that ended).

    Args:
      actions: [num_envs, *action_shape] integer or float array.

    Returns:
      The batched timestep.
    """
    actions = np.asarray(actions)
    expected = (len(self._envs),) + self._action_shape
    if actions.shape != expected:
      raise ValueError(f"actions must have shape {expected} (num_envs, "
                       f"*action_shape), got {actions.shape}.")
    timesteps = []
    for i, env in enumerate(self._envs):
      if self._needs_reset[i]:
        timesteps.append(env.reset())
      else:
        timesteps.append(env.step(actions[i]))
    return self._batch(timesteps)

  def observation_spec(self):
    return self._envs[0].observation_spec()

  def action_spec(self):
    return self._action_spec

  def reward_spec(self):
    return self._envs[0].reward_spec()

  def discount_spec(self):
    return self._envs[0].discount_spec()

  def close(self) -> None:
    for env in self._envs:
      env.close()

  def __enter__(self) -> "VectorEnv":
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()
