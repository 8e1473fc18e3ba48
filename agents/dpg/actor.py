"""DPGActor: a deterministic policy with Gaussian exploration, N rows at once.

a = clip(mu(s) + sigma * N(0, I), -1, 1), scaled to the action bounds; the
evaluator's actor (`greedy`) plays mu(s). Transitions go to the adder with
no extras (the policy is feed-forward: no state to store).
"""

from typing import Optional

import dm_env
import numpy as np
import tensorflow as tf

from ftw import core
from ftw import variable_utils


class DPGActor(core.Actor):
  """Acts with `networks.policy` in `num_envs` environments."""

  def __init__(self, networks, num_envs: int, greedy: bool = False,
               adder=None,
               variable_client: Optional[variable_utils.VariableClient] = None,
               seed: Optional[int] = None):
    if num_envs <= 0:
      raise ValueError(f"num_envs must be > 0, got {num_envs}")
    self._networks = networks
    self._num_envs = num_envs
    self._greedy = greedy
    self._adder = adder
    self._client = variable_client
    self._generator = (tf.random.Generator.from_seed(seed) if seed is not None
                       else tf.random.Generator.from_non_deterministic_state())
    self._policy = tf.function(self._policy_step, autograph=False)

  def _policy_step(self, observation):
    params = self._networks.policy(observation)
    actions = params.loc
    if not self._greedy:
      noise = self._generator.normal(tf.shape(actions))
      actions = tf.clip_by_value(actions + params.scale * noise, -1.0, 1.0)
    return self._networks.to_env(actions)

  def select_action(self, observation) -> np.ndarray:
    return self._policy(observation).numpy()

  def observe_first(self, timestep: dm_env.TimeStep):
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: np.ndarray, next_timestep: dm_env.TimeStep):
    if self._adder is not None:
      self._adder.add(action, next_timestep)

  def update(self, wait: bool = False):
    if self._client is not None:
      self._client.update(wait)
