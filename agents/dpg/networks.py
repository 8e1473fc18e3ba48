"""DPG's networks: a deterministic policy and a critic, for vector
observations and bounded continuous actions.

The policy is an MLP ending in ftw's `MultivariateNormalDiagLocScaleHead`
with a tanh mean and a fixed scale: the mean is the deterministic action in
[-1, 1] (what the critic and the policy gradient see) and the fixed scale is
the Gaussian exploration noise. Actions reach the environment scaled to its
bounds (`to_env`) and come back from replay normalised (`from_env`).
"""

from typing import Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.distributional import MultivariateNormalDiagLocScaleHead


def _flat_apply(module, inputs: tf.Tensor) -> tf.Tensor:
  """Applies a [N, F] module to [..., F] inputs."""
  lead = tf.shape(inputs)[:-1]
  flat = tf.reshape(inputs, [-1, inputs.shape[-1]])
  out = module(flat)
  return tf.reshape(out, tf.concat([lead, tf.shape(out)[-1:]], 0))


class DeterministicPolicy(snt.Module):
  """[..., O] observations -> LocScale params [..., A]: loc in [-1, 1]."""

  def __init__(self, action_size: int, layers: Sequence[int],
               exploration_sigma: float, name: str = "policy"):
    super().__init__(name=name)
    self._torso = snt.nets.MLP(list(layers), activate_final=True,
                               name="torso")
    self._head = MultivariateNormalDiagLocScaleHead(
        action_size, init_scale=exploration_sigma, tanh_mean=True,
        fixed_scale=True)

  def __call__(self, observations: tf.Tensor) -> LocScaleDistributionParameters:
    observations = tf.cast(observations, tf.float32)
    flat = tf.reshape(observations, [-1, observations.shape[-1]])
    params = self._head(self._torso(flat))
    lead = tf.shape(observations)[:-1]
    reshape = lambda x: tf.reshape(x, tf.concat([lead, tf.shape(x)[-1:]], 0))
    return LocScaleDistributionParameters(reshape(params.loc),
                                          reshape(params.scale))


class Critic(snt.Module):
  """Q(o, a): ([..., O], [..., A] in [-1, 1]) -> [...]."""

  def __init__(self, layers: Sequence[int], name: str = "critic"):
    super().__init__(name=name)
    self._mlp = snt.nets.MLP(list(layers) + [1], name="mlp")

  def __call__(self, observations: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    inputs = tf.concat([tf.cast(observations, tf.float32),
                        tf.cast(actions, tf.float32)], axis=-1)
    return _flat_apply(self._mlp, inputs)[..., 0]


class DPGNetworks(snt.Module):
  """The policy and the critic, and the action scaling of the environment."""

  def __init__(self, action_minimum, action_maximum,
               policy_layers: Sequence[int], critic_layers: Sequence[int],
               exploration_sigma: float, name: str = "dpg_networks"):
    super().__init__(name=name)
    low = np.asarray(action_minimum, np.float32).reshape(-1)
    high = np.asarray(action_maximum, np.float32).reshape(-1)
    if low.shape != high.shape or not np.all(np.isfinite(low)) or not np.all(
        np.isfinite(high)) or not np.all(high > low):
      raise ValueError("the action bounds must be finite with maximum > "
                       f"minimum, got {action_minimum!r}, {action_maximum!r}")
    self._low = tf.constant(low)
    self._high = tf.constant(high)
    self.action_size = int(low.size)
    self.policy = DeterministicPolicy(self.action_size, policy_layers,
                                      exploration_sigma)
    self.critic = Critic(critic_layers)

  def to_env(self, actions: tf.Tensor) -> tf.Tensor:
    """[-1, 1] actions -> the environment's [minimum, maximum]."""
    return self._low + (actions + 1.0) * 0.5 * (self._high - self._low)

  def from_env(self, actions: tf.Tensor) -> tf.Tensor:
    """The environment's actions -> [-1, 1]."""
    actions = tf.cast(actions, tf.float32)
    return 2.0 * (actions - self._low) / (self._high - self._low) - 1.0
