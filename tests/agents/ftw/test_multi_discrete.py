"""The FTW agent end to end with a multi-discrete action space.

`SplitCatch` is Catch with its action split into two groups, like Capture the
Flag's [move, turn, fire]: `move` in {left, stay, right} and `hold` in
{no, yes} (hold keeps the paddle still whatever `move` says). Its action spec
is an integer BoundedArray of shape [2], maximum [2, 1]: the builder makes a
network with one softmax per group, actions int32 [N, 2], logits [N, 5].
"""

import dm_env
from dm_env import specs
import numpy as np
import pytest
import reverb
import tensorflow as tf

from agents.ftw import builder as builder_lib
from agents.ftw.config import FtwConfig
from ftw.envs.catch import Catch
from ftw.envs.oar_wrapper import OARWrapper
from ftw.replay import layout
from ftw.tf.losses import policy

SIZES = [3, 2]


class SplitCatch(dm_env.Environment):
  """Catch with the multi-discrete action (move, hold)."""

  def __init__(self, seed):
    self._catch = Catch(rows=6, seed=seed)

  def reset(self):
    return self._catch.reset()

  def step(self, action):
    action = np.asarray(action)
    if action.shape != (2,):
      raise ValueError(f"action must have shape [2] (move, hold), got "
                       f"{action.shape}")
    return self._catch.step(1 if action[1] else int(action[0]))

  def observation_spec(self):
    return self._catch.observation_spec()

  def action_spec(self):
    return specs.BoundedArray((2,), np.int32, minimum=0,
                              maximum=[s - 1 for s in SIZES], name="action")


class SplitCatchBuilder(builder_lib.FtwBuilder):

  def _make_single_env(self, seed):
    return OARWrapper(SplitCatch(seed))


_CONFIG = FtwConfig(
    environment="catch", num_envs=4, core="rpth", rpth_period=2,
    sequence_length=5, batch_size=4, queue_size=64, torso_hidden_size=16,
    hidden_size=8, num_dimensions=4, memory_size=4, word_size=3,
    head_hidden_size=8, conv_filters=((4, 8, 4),),
    residual_filters=((4, 3, 1),), reward_prediction_batch_size=2,
    learning_rate=1e-3)


@pytest.fixture
def setup():
  builder = SplitCatchBuilder(_CONFIG)
  server = reverb.Server(builder.make_replay_tables(), port=None)
  address = f"localhost:{server.port}"
  network = builder.make_network()
  actor = builder.make_actor(network, adder=builder.make_adder(
      reverb.Client(address)))
  env = builder.make_environment(seed=1)
  timestep = env.reset()
  actor.observe_first(timestep)
  for _ in range(30):
    action = actor.select_action(timestep.observation)
    assert action.shape == (4, 2) and action.dtype == np.int32
    assert (action >= 0).all() and (action < SIZES).all()
    timestep = env.step(action)
    actor.observe(action, timestep)
  yield builder, network, builder.make_learner(network, address), address
  server.stop()


def test_builder_signature_and_network():
  builder = SplitCatchBuilder(_CONFIG)
  assert builder.num_actions == SIZES
  signature = builder.sequence_signature()
  assert signature.action == tf.TensorSpec([5, 2], tf.int32)
  assert signature.observation.action == tf.TensorSpec([5, 2], tf.int32)
  assert signature.extras[layout.LOGITS_KEY] == tf.TensorSpec([5, 5],
                                                              tf.float32)
  network = builder.make_network()
  assert network.num_actions == tuple(SIZES)


def test_greedy_actor_takes_each_groups_argmax():
  builder = SplitCatchBuilder(_CONFIG)
  actor = builder.make_actor(builder.make_network(), greedy=True)
  env = builder.make_environment(seed=2)
  timestep = env.reset()
  actor.observe_first(timestep)
  for _ in range(3):
    action = actor.select_action(timestep.observation)
    logits = actor._last_logits.numpy()  # pylint: disable=protected-access
    np.testing.assert_array_equal(
        action, np.stack([logits[:, :3].argmax(-1), logits[:, 3:].argmax(-1)],
                         -1))
    timestep = env.step(action)
    actor.observe(action, timestep)


def test_learner_unroll_reproduces_behaviour_logits(setup):
  _, network, learner, _ = setup
  data = next(learner._iterator).data  # pylint: disable=protected-access
  data, core_state = layout.split_core_state(data)
  seq, noise = learner._unpack(data)  # pylint: disable=protected-access
  assert seq.action.shape == (5, 4, 2)
  outputs, _ = network.unroll(seq.observation, core_state, noise=noise)
  log_rho = (policy.multi_discrete_log_probs(outputs.policy_logits,
                                             seq.action, SIZES) -
             policy.multi_discrete_log_probs(seq.behaviour_logits,
                                             seq.action, SIZES)).numpy()
  real = seq.mask.numpy() > 0
  assert real.sum() >= 8
  np.testing.assert_allclose(log_rho[real], 0.0, atol=1e-4)


def test_learner_steps_train_every_variable(setup):
  builder, network, learner, address = setup
  assert builder.reward_prediction_ready(address)()
  before = [v.numpy().copy() for v in network.trainable_variables]
  results = learner.step()
  for key in ("policy_loss", "pixel_control_loss", "reward_prediction_loss",
              "kl_loss", "entropy"):
    assert np.isfinite(results[key]), key
  # The entropy sums the groups': at most ln 3 + ln 2 (both uniform).
  assert 0.5 * np.log(6) < results["entropy"] <= np.log(6) + 1e-4
  unchanged = [v.name for v, b in zip(network.trainable_variables, before)
               if np.array_equal(v.numpy(), b)]
  assert not unchanged
