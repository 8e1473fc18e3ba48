"""FtwActor: acts in N environments at once with a recurrent FtwNetwork."""

from typing import Optional

import dm_env
import numpy as np
import tensorflow as tf
import tree

from ftw import core
from ftw import variable_utils
from ftw.replay import layout
from ftw.tf import seeding


def _reset_rows(first: tf.Tensor, initial, state):
  """Replaces the state rows of environments that start a new episode."""
  def select(init, current):
    mask = tf.reshape(first, [-1] + [1] * (current.shape.rank - 1))
    return tf.where(mask, init, current)
  return tree.map_structure(select, initial, state)


class FtwActor(core.Actor):
  """Batched recurrent actor with Acme's interface.

  One call to `select_action` runs the network once for all N environments.
  The recurrent state of an environment is reset to the initial state when
  its timestep is FIRST. Each observed step is passed to the adder together
  with the behaviour policy's logits and the core state the action was chosen
  with (the learner starts its unroll from that state).

  Actions are int32 [N], or [N, G] for a network with G action groups
  (multi-discrete); the stored logits are then the groups' concatenated.
  `seed` seeds the sampling (actions, RPTH's latent noise) in the policy's
  own graph: reproducible without touching TF's process-wide seed.
  """

  def __init__(self, network, num_envs: int, adder=None,
               variable_client: Optional[variable_utils.VariableClient] = None,
               greedy: bool = False, seed: Optional[int] = None):
    if num_envs <= 0:
      raise ValueError(f"num_envs must be > 0, got {num_envs}")
    self._network = network
    self._num_envs = num_envs
    self._adder = adder
    self._client = variable_client
    self._greedy = greedy
    self._seed = seed
    self._initial_state = network.initial_state(num_envs)
    self._state = self._initial_state
    self._first = tf.ones([num_envs], tf.bool)
    self._last_logits = None
    self._last_state = None
    self._last_noise = None
    # A core that samples a latent (RPTH) gets its noise from the actor, so
    # the noise can be stored and the learner can replay the same z.
    self._noise_size = getattr(network, "latent_noise_size", None)
    # The batch size is read from the inputs, so `restart` with another
    # number of rows reuses the trace (relaxed to any size after two sizes).
    self._policy = tf.function(self._policy_step, reduce_retracing=True,
                               autograph=False)
    # {input dtypes and shapes: (concrete function, its captured inputs)}.
    self._concrete = {}
    # False where TensorFlow has no `_call_flat` (TF 2.15's, private): then
    # every call goes through the tf.function (found on the first call).
    self._flat_calls = True

  @property
  def num_envs(self) -> int:
    return self._num_envs

  def restart(self, num_envs: int, adder=None):
    """Acts for `num_envs` new rows from now on, writing to `adder`.

    A population actor hands each agent's actor the rows that agent plays
    in the next round of matches; every row starts from the initial state
    (the round starts with FIRST timesteps).
    """
    if num_envs <= 0:
      raise ValueError(f"num_envs must be > 0, got {num_envs}")
    self._num_envs = num_envs
    self._adder = adder
    self._initial_state = self._network.initial_state(num_envs)
    self._state = self._initial_state
    self._first = tf.ones([num_envs], tf.bool)

  def _policy_step(self, observation, state, first):
    # Sampling is seeded in this function's graph, not process-wide.
    seeding.seed_graph(self._seed)
    rows = tf.shape(first)[0]
    state = _reset_rows(first, self._network.initial_state(rows), state)
    noise = None
    if self._noise_size:
      noise = tf.random.normal([rows, self._noise_size])
    actions, logits, new_state = self._network.select_action(
        observation, state, greedy=self._greedy, noise=noise)
    return actions, logits, state, new_state, noise

  def _run_policy(self, observation, state, first):
    """`self._policy(observation, state, first)` with less Python per call.

    tf.function's call binds and checks every argument of the nest (about
    40 tensors for RPTH + DNC) against its trace each time. The traced
    concrete function is looked up once per input signature and then called
    with the flat tensors: ~1 ms less CPU per call of the full agent on 32
    Pong environments (0.80 and 1.24 ms in two runs of `bench/actor_call.py`),
    time in the actor's thread, which holds the GIL for it.
    """
    if not self._flat_calls:
      return self._policy(observation, state, first)
    flat = [tf.convert_to_tensor(x) for x in tf.nest.flatten(
        (observation, state, first))]
    key = tuple((x.dtype, tuple(x.shape)) for x in flat)
    entry = self._concrete.get(key)
    if entry is None:
      function = self._policy.get_concrete_function(observation, state, first)
      if not hasattr(function, "_call_flat"):
        self._flat_calls = False
        return self._policy(observation, state, first)
      entry = self._concrete[key] = (function._call_flat,  # pylint: disable=protected-access
                                     function.captured_inputs)
    call_flat, captured = entry
    return call_flat(flat, captured)

  def select_action(self, observation) -> np.ndarray:
    actions, logits, used_state, self._state, noise = self._run_policy(
        observation, self._state, self._first)
    self._last_logits = logits
    self._last_state = used_state
    self._last_noise = noise
    return actions.numpy()

  def observe_first(self, timestep: dm_env.TimeStep):
    self._first = tf.constant(np.ones([self._num_envs], bool))
    if self._adder is not None:
      self._adder.add_first(timestep)

  def observe(self, action: np.ndarray, next_timestep: dm_env.TimeStep):
    # The next action is chosen for these timesteps: FIRST rows reset there.
    self._first = tf.constant(
        np.asarray(next_timestep.step_type) == int(dm_env.StepType.FIRST))
    if self._adder is not None:
      # The state stays a TF nest: the adder converts it only for the rows
      # whose next step starts a sequence (the only steps that store it).
      others = {}
      if self._last_noise is not None:
        others[layout.NOISE_KEY] = self._last_noise.numpy()
      extras = layout.actor_extras(self._last_logits.numpy(),
                                   self._last_state, **others)
      self._adder.add(action, next_timestep, extras)

  def update(self, wait: bool = False):
    if self._client is not None:
      self._client.update(wait)
