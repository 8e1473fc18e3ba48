"""Tests for ftw.tf.networks.auxiliary."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.types import OAR
from ftw.tf.networks.auxiliary import (PixelControl, RewardPrediction,
                                       RewardPredictionNetwork,
                                       RNNPixelControlNetwork)
from ftw.tf.networks.embedding import OAREmbedding
from ftw.tf.networks.recurrence import RPTH
from ftw.tf.networks.vision import FtwTorso


def _small_torso():
  return FtwTorso(conv_filters=((4, 3, 2),), residual_filters=((4, 3, 1),),
                  hidden_size=8)


def test_pixel_control_shape_and_dueling_mean():
  pc = PixelControl(num_actions=5)
  hidden = tf.random.normal([3, 16])
  q = pc(hidden)
  assert q.shape == (3, 20, 20, 5)
  # Rebuild V from the module's own layers: mean over actions of Q equals V.
  x = tf.reshape(tf.nn.relu(pc._linear(hidden)), [3, 9, 9, 32])
  value = tf.nn.relu(pc._value_deconv(x))
  assert value.shape == (3, 20, 20, 1)
  np.testing.assert_allclose(tf.reduce_mean(q, axis=-1), value[..., 0],
                             atol=1e-5)
  advantage = tf.nn.relu(pc._advantage_deconv(x))
  np.testing.assert_allclose(
      q - value, advantage - tf.reduce_mean(advantage, -1, keepdims=True),
      atol=1e-5)
  assert np.std(q.numpy(), axis=-1).max() > 0  # Actions are distinguished.


def _two_module_q(pc, hidden, sizes):
  """Q from PixelControl's layers called one by one (V and A apart)."""
  x = tf.reshape(tf.nn.relu(pc._linear(hidden)), [hidden.shape[0], 9, 9, 32])
  value = tf.nn.relu(pc._value_deconv(x))
  advantage = tf.nn.relu(pc._advantage_deconv(x))
  return tf.concat([value + a - tf.reduce_mean(a, -1, keepdims=True)
                    for a in tf.split(advantage, sizes, -1)], -1)


def test_pixel_control_after_its_first_call_runs_both_heads_as_one():
  # The first call builds V's and A's deconvolutions as two modules; later
  # calls run their filters side by side in one transposed convolution and
  # form Q with one product. Q-values and gradients must be the modules'.
  for sizes in ([5], [3, 2]):
    pc = PixelControl(num_actions=sizes[0] if len(sizes) == 1 else sizes)
    hidden = tf.random.normal([3, 16], seed=1)
    first = pc(hidden)
    weights = tf.random.normal(first.shape, seed=2)
    with tf.GradientTape(persistent=True) as tape:
      fused = pc(hidden)
      by_modules = _two_module_q(pc, hidden, sizes)
      loss_fused = tf.reduce_sum(fused * weights)
      loss_modules = tf.reduce_sum(by_modules * weights)
    np.testing.assert_allclose(fused, first, atol=1e-5)
    np.testing.assert_allclose(fused, by_modules, atol=1e-5)
    variables = pc.trainable_variables
    assert len(variables) == 6  # linear, value_deconv, advantage_deconv.
    for fused_grad, module_grad in zip(tape.gradient(loss_fused, variables),
                                       tape.gradient(loss_modules, variables)):
      assert np.abs(fused_grad.numpy()).sum() > 0
      np.testing.assert_allclose(fused_grad, module_grad, rtol=1e-4,
                                 atol=1e-5)


def test_pixel_control_bad_args():
  with pytest.raises(ValueError, match='num_actions'):
    PixelControl(0)
  with pytest.raises(ValueError, match='activation'):
    PixelControl(2, activation=3)
  with pytest.raises(ValueError, match=r'\[B, D\]'):
    PixelControl(2)(tf.zeros([2, 3, 4]))


def test_reward_prediction_matches_numpy():
  rp = RewardPrediction(hidden_size=6)
  x = np.random.RandomState(0).randn(4, 5).astype(np.float32)
  logits = rp(tf.constant(x))
  assert logits.shape == (4, 3)
  h = np.maximum(x @ rp._hidden.w.numpy() + rp._hidden.b.numpy(), 0.)
  np.testing.assert_allclose(
      logits, h @ rp._logits.w.numpy() + rp._logits.b.numpy(), atol=1e-5)
  with pytest.raises(ValueError, match='hidden_size'):
    RewardPrediction(hidden_size=0)


def test_reward_prediction_network_concatenates_frame_embeddings_in_order():
  torso = _small_torso()
  net = RewardPredictionNetwork(torso, hidden_size=6)
  frames = tf.random.uniform([2, 3, 12, 12, 3])
  logits = net(frames)
  assert logits.shape == (2, 3)
  stacked = tf.concat([torso(frames[:, k]) for k in range(3)], axis=-1)
  np.testing.assert_allclose(logits, net._reward_prediction(stacked),
                             atol=1e-5)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(net(frames) ** 2)
  grads = tape.gradient(loss, net.trainable_variables)
  assert len(grads) == len(torso.trainable_variables) + 4
  assert all(g is not None for g in grads)
  with pytest.raises(ValueError, match=r'\[B, k, H, W, C\]'):
    net(frames[:, 0, 0])
  with pytest.raises(ValueError, match='embed'):
    RewardPredictionNetwork(None)


def test_reward_prediction_network_from_an_observations_input():
  torso = _small_torso()
  net = RewardPredictionNetwork(torso, hidden_size=6)
  observations = tf.random.uniform([2, 12, 12, 3])
  logits = net(observations)
  assert logits.shape == (2, 3)
  np.testing.assert_allclose(logits, net._reward_prediction(torso(
      observations)), atol=1e-6)
  oar = OAR(observations, tf.zeros([2], tf.int32), tf.zeros([2]))
  np.testing.assert_allclose(net(oar), logits, atol=1e-6)


def test_rnn_pixel_control_unroll_equals_stepping_with_tensor_inputs():
  net = RNNPixelControlNetwork(_small_torso(), snt.LSTM(8), num_actions=3)
  t, b = 3, 2
  frames = tf.random.uniform([t, b, 12, 12, 3])
  q = net.unroll(frames, net.initial_state(b))
  assert q.shape == (t, b, 20, 20, 3)
  state = net.initial_state(b)
  for i in range(t):
    # __call__ gives the Q-values alone (the original library's contract).
    q_call = net(frames[i], state)
    assert isinstance(q_call, tf.Tensor)
    q_i, state = net.step(frames[i], state)
    np.testing.assert_allclose(q_call, q_i, atol=1e-6)
    np.testing.assert_allclose(q[i], q_i, atol=1e-5)


def test_rnn_pixel_control_with_oar_inputs_and_rpth_core_uses_z():
  embed = OAREmbedding(_small_torso(), 3)
  core = RPTH(2, hidden_size=8, num_dimensions=4)
  net = RNNPixelControlNetwork(embed, core, num_actions=3)
  t, b = 3, 2
  inputs = OAR(tf.random.uniform([t, b, 12, 12, 3]),
               tf.zeros([t, b], tf.int32), tf.ones([t, b]))
  core.reset_noise_seed(7)
  q = net.unroll(inputs, net.initial_state(b))
  assert q.shape == (t, b, 20, 20, 3)
  # The head saw RPTH's z [T, B, 4]: its linear layer has 4 inputs.
  assert net._pixel_control._linear.w.shape[0] == 4
  core.reset_noise_seed(7)
  state = net.initial_state(b)
  for i in range(t):
    q_i, state = net.step(OAR(*(x[i] for x in inputs)), state)
    np.testing.assert_allclose(q[i], q_i, atol=1e-5)


def test_rnn_pixel_control_bad_args():
  with pytest.raises(ValueError, match='core'):
    RNNPixelControlNetwork(_small_torso(), snt.Linear(3), 2)
  with pytest.raises(ValueError, match='num_actions'):
    RNNPixelControlNetwork(_small_torso(), snt.LSTM(3), -1)


def test_multi_discrete_pixel_control_has_a_dueling_q_per_group():
  sizes = (4, 2, 3)
  pc = PixelControl(num_actions=list(sizes))
  hidden = tf.random.normal([2, 16])
  q = pc(hidden)
  assert q.shape == (2, 20, 20, 9)
  x = tf.reshape(tf.nn.relu(pc._linear(hidden)), [2, 9, 9, 32])
  value = tf.nn.relu(pc._value_deconv(x))[..., 0]
  advantage = tf.nn.relu(pc._advantage_deconv(x))
  # Every group's Q-values average to the shared V.
  for q_g, a_g in zip(tf.split(q, sizes, -1), tf.split(advantage, sizes, -1)):
    np.testing.assert_allclose(tf.reduce_mean(q_g, -1), value, atol=1e-5)
    np.testing.assert_allclose(q_g - value[..., None],
                               a_g - tf.reduce_mean(a_g, -1, keepdims=True),
                               atol=1e-5)
  with pytest.raises(ValueError, match='num_actions'):
    PixelControl([3, 0])
