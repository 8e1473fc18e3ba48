"""Tests for ftw.tf.networks.ftw_network and ftw.tf.networks.factory."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.types import OAR
from ftw.tf.networks.embedding import OAREmbedding
from ftw.tf.networks.factory import make_ftw_network
from ftw.tf.networks.ftw_network import FtwNetwork, FtwOutput
from ftw.tf.networks.recurrence import RPTHOutput
from ftw.tf.networks.vision import FtwTorso

A = 3  # Number of actions.
SMALL = dict(torso_hidden=8, hidden_size=8, num_dimensions=6,
             head_hidden_size=8, conv_filters=((4, 3, 2),),
             residual_filters=((4, 3, 1),), memory_size=5, word_size=4,
             rpth_period=2)


def _lstm_net(**kwargs):
  torso = FtwTorso(conv_filters=((4, 3, 2),), residual_filters=((4, 3, 1),),
                   hidden_size=8)
  return FtwNetwork(OAREmbedding(torso, A), snt.LSTM(8), A,
                    head_hidden_size=8, **kwargs)


def _inputs(t, b, seed=0):
  rng = np.random.RandomState(seed)
  return OAR(tf.constant(rng.randint(0, 256, [t, b, 12, 12, 3]), tf.uint8),
             tf.constant(rng.randint(0, A, [t, b]), tf.int32),
             tf.constant(rng.randn(t, b), tf.float32))


def _step(inputs, i):
  return OAR(*(x[i] for x in inputs))


def _assert_unroll_equals_stepping(net, t=4, b=2):
  inputs = _inputs(t, b)
  seed = getattr(net.core, 'reset_noise_seed', lambda s: None)
  seed(1)
  unrolled, final_state = net.unroll(inputs, net.initial_state(b))
  seed(1)
  state, steps = net.initial_state(b), []
  for i in range(t):
    output, state = net(_step(inputs, i), state)
    steps.append(output)
  stacked = tf.nest.map_structure(lambda *x: tf.stack(x), *steps)
  tf.nest.map_structure(
      lambda u, s: np.testing.assert_allclose(u, s, atol=1e-5), unrolled,
      stacked)
  tf.nest.map_structure(
      lambda u, s: np.testing.assert_allclose(u, s, atol=1e-5), final_state,
      state)
  return unrolled


def test_call_shapes_and_lstm_features():
  net = _lstm_net()
  output, state = net(_step(_inputs(1, 2), 0), net.initial_state(2))
  assert isinstance(output, FtwOutput)
  assert output.policy_logits.shape == (2, A)
  assert output.value.shape == (2,)
  assert output.features.shape == (2, 8)
  np.testing.assert_allclose(output.features, output.core_output)
  np.testing.assert_allclose(output.features, state.hidden)


def test_lstm_unroll_equals_stepping():
  unrolled = _assert_unroll_equals_stepping(_lstm_net())
  assert unrolled.policy_logits.shape == (4, 2, A)
  assert unrolled.value.shape == (4, 2)


def test_rpth_unroll_equals_stepping_and_features_are_z():
  net = make_ftw_network(A, **SMALL)
  unrolled = _assert_unroll_equals_stepping(net)
  assert isinstance(unrolled.core_output, RPTHOutput)
  assert unrolled.features.shape == (4, 2, 6)
  np.testing.assert_allclose(unrolled.features, unrolled.core_output.z)


def test_gradients_reach_every_variable_through_unroll():
  net = make_ftw_network(A, **SMALL)
  t, b = 3, 2
  inputs = _inputs(t, b)
  with tf.GradientTape() as tape:
    output, _ = net.unroll(inputs, net.initial_state(b))
    loss = (tf.reduce_sum(output.policy_logits ** 2) +
            tf.reduce_sum(output.value ** 2) +
            tf.reduce_sum(net.pixel_control_values(output.features) ** 2) +
            tf.reduce_sum(net.reward_prediction_logits(
                tf.transpose(inputs.observation, [1, 0, 2, 3, 4])) ** 2))
  variables = net.trainable_variables
  names = {v.name for v in variables}
  for part in ('ftw_torso', 'memory_access', 'slow_core', 'fast_core',
               'policy_value_head', 'pixel_control', 'reward_prediction'):
    assert any(part in n for n in names), part
  grads = tape.gradient(loss, variables)
  missing = [v.name for v, g in zip(variables, grads) if g is None]
  assert not missing


def test_select_action_in_tf_function():
  net = _lstm_net()
  inputs = _step(_inputs(1, 4), 0)
  state = net.initial_state(4)
  output, expected_state = net(inputs, state)
  greedy = tf.function(lambda i, s: net.select_action(i, s, greedy=True))
  actions, logits, new_state = greedy(inputs, state)
  assert actions.dtype == tf.int32 and actions.shape == (4,)
  np.testing.assert_allclose(logits, output.policy_logits, atol=1e-5)
  np.testing.assert_array_equal(actions, np.argmax(logits, axis=-1))
  tf.nest.map_structure(
      lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5), new_state,
      expected_state)
  sample = tf.function(net.select_action)
  tf.random.set_seed(0)
  sampled = np.concatenate([sample(inputs, state)[0].numpy()
                            for _ in range(20)])
  assert sampled.min() >= 0 and sampled.max() < A
  assert len(set(sampled.tolist())) > 1  # Sampling, not argmax.


def test_checkpoint_round_trip(tmp_path):
  inputs = _inputs(3, 2)
  net = _lstm_net()
  output, _ = net.unroll(inputs, net.initial_state(2))
  path = tf.train.Checkpoint(net=net).save(str(tmp_path / 'ckpt'))
  restored = _lstm_net()
  restored.unroll(inputs, restored.initial_state(2))  # Create variables.
  tf.train.Checkpoint(net=restored).restore(path).assert_existing_objects_matched()
  again, _ = restored.unroll(inputs, restored.initial_state(2))
  tf.nest.map_structure(np.testing.assert_array_equal, output, again)


def test_reward_prediction_shares_the_embedding_torso():
  net = _lstm_net()
  torso = net.embed.torso
  logits = net.reward_prediction_logits(
      tf.random.uniform([2, 3, 12, 12, 3]))
  assert logits.shape == (2, 3)
  torso_refs = {v.ref() for v in torso.trainable_variables}
  rp_refs = {v.ref() for v in net._reward_prediction.trainable_variables}
  assert torso_refs <= rp_refs


def test_disabled_auxiliary_heads_raise():
  net = _lstm_net(pixel_control=False, reward_prediction=False)
  with pytest.raises(ValueError, match='pixel_control=True'):
    net.pixel_control_values(tf.zeros([2, 2, 8]))
  with pytest.raises(ValueError, match='reward_prediction=True'):
    net.reward_prediction_logits(tf.zeros([2, 3, 12, 12, 3]))
  with pytest.raises(ValueError, match=r'\[T, B, F\]'):
    _lstm_net().pixel_control_values(tf.zeros([8]))


@pytest.mark.parametrize('kwargs, argname', [
    (dict(num_actions=0), 'num_actions'),
    (dict(head_hidden_size=-1), 'head_hidden_size'),
    (dict(core=snt.Linear(3)), 'core'),
    (dict(embed=None), 'embed'),
    (dict(pixel_control='yes'), 'pixel_control'),
    (dict(reward_prediction=1), 'reward_prediction'),
])
def test_bad_constructor_args(kwargs, argname):
  args = dict(embed=snt.Flatten(), core=snt.LSTM(4), num_actions=2)
  args.update(kwargs)
  with pytest.raises(ValueError, match=argname):
    FtwNetwork(**args)


def test_factory_variants_and_errors():
  lstm = make_ftw_network(A, core='lstm', **SMALL)
  assert isinstance(lstm.core, snt.LSTM)
  no_memory = make_ftw_network(A, **{**SMALL, 'memory_size': None})
  no_memory(_step(_inputs(1, 2), 0), no_memory.initial_state(2))
  assert not any('memory_access' in v.name for v in no_memory.variables)
  with pytest.raises(ValueError, match='core'):
    make_ftw_network(A, core='gru')
  with pytest.raises(ValueError, match='memory_size'):
    make_ftw_network(A, **{**SMALL, 'memory_size': 0})


def test_unroll_follows_the_seed_api():
  """`unroll(inputs, states)` unpacks as ((logits, value, (z, [(loc, scale),
  ...])), state), as ../shared/reference/ftw-networks-api.txt documents."""
  net = make_ftw_network(A, **SMALL)
  inputs = _inputs(3, 2)
  (logits, value, (z, params)), state = net.unroll(
      inputs, states=net.initial_state(2))
  assert logits.shape == (3, 2, A) and value.shape == (3, 2)
  assert z.shape == (3, 2, 6)
  for loc, scale in params:
    assert loc.shape == (3, 2, 6) and scale.shape == (3, 2, 6)
  assert isinstance(state, type(net.initial_state(2)))
  # The old keyword still works; passing none or both is an error.
  net.unroll(inputs, state=net.initial_state(2))
  with pytest.raises(ValueError, match="states"):
    net.unroll(inputs)
  with pytest.raises(ValueError, match="states"):
    net.unroll(inputs, net.initial_state(2), state=net.initial_state(2))


def test_explicit_latent_noise_makes_steps_replayable():
  net = make_ftw_network(A, **SMALL)
  assert net.latent_noise_size == 6
  t, b = 3, 2
  inputs = _inputs(t, b)
  noise = tf.random.normal([t, b, 6], seed=3)
  unrolled, _ = net.unroll(inputs, net.initial_state(b), noise=noise)
  state = net.initial_state(b)
  for i in range(t):
    step = tf.nest.map_structure(lambda x: x[i], inputs)
    output, state = net(step, state, noise=noise[i])
    np.testing.assert_allclose(output.policy_logits,
                               unrolled.policy_logits[i], atol=1e-5)
    np.testing.assert_allclose(output.core_output.z, unrolled.core_output.z[i],
                               atol=1e-5)
  posterior = unrolled.core_output.distribution_params[-1]
  np.testing.assert_allclose(unrolled.core_output.z,
                             posterior.loc + posterior.scale * noise,
                             atol=1e-5)
  lstm = _lstm_net()
  assert lstm.latent_noise_size is None
  with pytest.raises(ValueError, match="noise"):
    lstm.unroll(_inputs(t, b), lstm.initial_state(b), noise=noise)


SIZES = (5, 3, 3)  # Capture the Flag's move, turn, fire.


def _multi_inputs(t, b, seed=0):
  rng = np.random.RandomState(seed)
  actions = np.stack([rng.randint(0, n, [t, b]) for n in SIZES], -1)
  return OAR(tf.constant(rng.randint(0, 256, [t, b, 12, 12, 3]), tf.uint8),
             tf.constant(actions, tf.int32),
             tf.constant(rng.randn(t, b), tf.float32))


def test_multi_discrete_network_shapes_and_gradients():
  net = make_ftw_network(list(SIZES), **SMALL)
  assert net.num_actions == SIZES and net.action_sizes == SIZES
  assert net.multi_discrete and not make_ftw_network(A, **SMALL).multi_discrete
  t, b = 3, 2
  inputs = _multi_inputs(t, b)
  with tf.GradientTape() as tape:
    output, _ = net.unroll(inputs, net.initial_state(b))
    q = net.pixel_control_values(output.features)
    loss = (tf.reduce_sum(output.policy_logits ** 2) +
            tf.reduce_sum(output.value ** 2) + tf.reduce_sum(q ** 2) +
            tf.reduce_sum(net.reward_prediction_logits(
                tf.transpose(inputs.observation, [1, 0, 2, 3, 4])) ** 2))
  assert output.policy_logits.shape == (t, b, sum(SIZES))
  assert q.shape == (t, b, 20, 20, sum(SIZES))
  grads = tape.gradient(loss, net.trainable_variables)
  assert not [v.name for v, g in zip(net.trainable_variables, grads)
              if g is None]


def test_multi_discrete_select_action_greedy_and_sampled():
  net = make_ftw_network(list(SIZES), core='lstm', **SMALL)
  b = 64
  inputs = _step(_multi_inputs(1, b), 0)
  state = net.initial_state(b)
  greedy = tf.function(lambda i, s: net.select_action(i, s, greedy=True))
  actions, logits, _ = greedy(inputs, state)
  assert actions.dtype == tf.int32 and actions.shape == (b, len(SIZES))
  assert logits.shape == (b, sum(SIZES))
  groups = np.split(logits.numpy(), np.cumsum(SIZES)[:-1], axis=-1)
  np.testing.assert_array_equal(
      actions, np.stack([g.argmax(-1) for g in groups], -1))
  tf.random.set_seed(0)
  sampled = tf.function(net.select_action)(inputs, state)[0].numpy()
  assert sampled.shape == (b, len(SIZES))
  for g, size in enumerate(SIZES):
    assert sampled[:, g].min() >= 0 and sampled[:, g].max() < size
    assert len(set(sampled[:, g].tolist())) > 1  # Sampled, not argmax.


def test_multi_discrete_actions_must_have_one_entry_per_group():
  net = make_ftw_network(list(SIZES), core='lstm', **SMALL)
  wrong = _step(_multi_inputs(1, 2), 0)._replace(
      action=tf.zeros([2, 2], tf.int32))
  with pytest.raises(ValueError, match=r'action must have shape \[B, 3\]'):
    net.select_action(wrong, net.initial_state(2))


@pytest.mark.parametrize('num_actions', [[], [3, 0], 'abc', [2.0]])
def test_bad_multi_discrete_num_actions(num_actions):
  with pytest.raises(ValueError, match='num_actions'):
    make_ftw_network(num_actions, **SMALL)
  with pytest.raises(ValueError, match='num_actions'):
    FtwNetwork(snt.Flatten(), snt.LSTM(4), num_actions)
