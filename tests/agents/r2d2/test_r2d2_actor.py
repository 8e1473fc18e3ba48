"""R2D2's actor: greedy actions, per-row epsilon schedules, state resets."""

import dm_env
import numpy as np
import tensorflow as tf
import tree

import ftw  # noqa: F401
from agents.r2d2.builder import R2D2Builder
from agents.r2d2.config import R2D2Config
from ftw.replay import layout

_TINY = dict(environment="catch",
             environment_kwargs={"rows": 5, "columns": 3, "image_size": 12},
             num_envs=3, conv_filters=((4, 4, 2),), torso_hidden_size=8,
             hidden_size=8, head_hidden_size=8, sequence_length=5,
             batch_size=4, min_replay_size=8, exploration="linear",
             epsilon=1.0, epsilon_final=0.0, epsilon_decay_steps=12)


class _Recorder:
  def __init__(self):
    self.extras = []

  def add_first(self, timestep):
    pass

  def add(self, action, timestep, extras=()):
    self.extras.append(extras)


def test_actor_acts_greedily_decays_epsilon_and_resets_state():
  builder = R2D2Builder(R2D2Config(**_TINY))
  env = builder.make_environment(seed=0)
  network = builder.make_network()
  greedy = builder.make_actor(network, greedy=True)
  timestep = env.reset()
  q_values, _ = network(timestep.observation, network.initial_state(3))
  np.testing.assert_array_equal(greedy.select_action(timestep.observation),
                                np.argmax(q_values.numpy(), -1))

  recorder = _Recorder()
  actor = builder.make_actor(network, adder=recorder)
  actor.observe_first(timestep)
  for step in range(3):
    action = actor.select_action(timestep.observation)
    # Linear from 1 to 0 over 12 env steps; 3 rows per vector step.
    np.testing.assert_allclose(actor.epsilons, 1.0 - 3 * step / 12)
    timestep = env.step(action)
    actor.observe(action, timestep)
  # Row 0 starts a new episode: its next state is the initial one.
  first = np.array([int(dm_env.StepType.FIRST), int(dm_env.StepType.MID),
                    int(dm_env.StepType.MID)])
  actor.observe(action, timestep._replace(step_type=first))
  actor.select_action(timestep.observation)
  actor.observe(action, timestep)
  used = recorder.extras[-1][layout.CORE_STATE_KEY]
  initial = network.initial_state(3)
  for leaf, init in zip(tree.flatten(used), tree.flatten(initial)):
    np.testing.assert_allclose(leaf.numpy()[0], init.numpy()[0])
    assert not np.allclose(leaf.numpy()[1], init.numpy()[1])


def test_boltzmann_actor_samples():
  builder = R2D2Builder(R2D2Config(**{**_TINY, "exploration": "boltzmann",
                                      "boltzmann_temperature": 1e6}))
  env = builder.make_environment(seed=0)
  actor = builder.make_actor(builder.make_network())
  tf.random.set_seed(0)
  timestep = env.reset()
  # An enormous temperature: every action about equally often.
  actions = np.concatenate([actor.select_action(timestep.observation)
                            for _ in range(200)])
  np.testing.assert_allclose(np.bincount(actions, minlength=3) / 600, 1 / 3,
                             atol=0.07)
