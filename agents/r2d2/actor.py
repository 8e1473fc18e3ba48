"""R2D2Actor: acts in N environments with a recurrent Q-network.

One network call per vector step picks every row's action with an action
resolver (`ftw.tf.resolvers`): epsilon-greedy with one epsilon per row
(Ape-X's, or a decaying schedule) or Boltzmann. The recurrent state of a row
is reset when its timestep is FIRST; the state each action was chosen with
goes to the adder, which stores it once per sequence (its first step).
"""

from typing import Callable, Optional

import dm_env
import numpy as np
import tensorflow as tf
import tree

from ftw import core
from ftw import variable_utils
from ftw.replay import layout
from ftw.tf import resolvers


def reset_rows(first: tf.Tensor, initial, state):
  """Replaces the state rows of environments that start a new episode."""
  def select(init, current):
    mask = tf.reshape(first, [-1] + [1] * (current.shape.rank - 1))
    return tf.where(mask, init, current)
  return tree.map_structure(select, initial, state)


class R2D2Actor(core.Actor):
  """Batched recurrent epsilon-greedy (or Boltzmann) actor.

  Args:
    network: a `RecurrentQNetwork`.
    num_envs: N rows.
    epsilons: [N] per-row epsilons, or a callable of the actor's vector steps
      returning a scalar or [N] epsilons (a schedule).
    temperature: if given, Boltzmann sampling with it instead of epsilons.
    adder: writes (action, timestep, core state) to replay; None for
      evaluation.
    variable_client: pulls the learner's weights.
  """

  def __init__(self, network, num_envs: int,
               epsilons=0.0, temperature: Optional[float] = None, adder=None,
               variable_client: Optional[variable_utils.VariableClient] = None):
    if num_envs <= 0:
      raise ValueError(f"num_envs must be > 0, got {num_envs}")
    self._network = network
    self._num_envs = num_envs
    self._adder = adder
    self._client = variable_client
    self._schedule: Optional[Callable[[int], np.ndarray]] = (
        epsilons if callable(epsilons) else None)
    self._epsilons = tf.Variable(
        np.broadcast_to(np.asarray(0.0 if callable(epsilons) else epsilons,
                                   np.float32), [num_envs]),
        trainable=False, dtype=tf.float32)
    self._temperature = temperature
    self._steps = 0
    self._state = network.initial_state(num_envs)
    self._first = tf.ones([num_envs], tf.bool)
    self._last_state = None
    self._policy = tf.function(self._policy_step, autograph=False)

  @property
  def epsilons(self) -> np.ndarray:
    return self._epsilons.numpy()

  def _policy_step(self, observation, state, first):
    state = reset_rows(first, self._network.initial_state(self._num_envs),
                       state)
    q_values, new_state = self._network(observation, state)
    if self._temperature is not None:
      actions = resolvers.boltzmann(q_values, self._temperature)
    else:
      actions = resolvers.epsilon_greedy(q_values, self._epsilons)
    return actions, state, new_state

  def select_action(self, observation) -> np.ndarray:
    if self._schedule is not None:
      self._epsilons.assign(np.broadcast_to(
          np.asarray(self._schedule(self._steps * self._num_envs), np.float32),
          [self._num_envs]))
    actions, self._last_state, self._state = self._policy(
        observation, self._state, self._first)
    self._steps += 1
    return actions.numpy()

  def observe_first(self, timestep: dm_env.TimeStep):
    self._first = tf.ones([self._num_envs], tf.bool)
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: np.ndarray, next_timestep: dm_env.TimeStep):
    self._first = tf.constant(
        np.asarray(next_timestep.step_type) == int(dm_env.StepType.FIRST))
    if self._adder is not None:
      # Only the core state: R2D2 needs no behaviour logits.
      self._adder.add(action, next_timestep,
                      {layout.CORE_STATE_KEY: self._last_state})

  def update(self, wait: bool = False):
    if self._client is not None:
      self._client.update(wait)
