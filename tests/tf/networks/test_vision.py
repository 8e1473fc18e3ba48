"""Tests for ftw.tf.networks.vision."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import warnings

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.vision import FtwTorso


def test_default_torso_84x84_uint8_to_hidden():
  torso = FtwTorso()
  frames = tf.cast(tf.random.uniform([2, 84, 84, 3], maxval=256,
                                     dtype=tf.int32), tf.uint8)
  out = torso(frames)
  assert out.shape == (2, 256)
  assert out.dtype == tf.float32
  # Convs 32x8x8 s4 and 64x4x4 s2 (VALID) leave 9x9x64 for the linear layer.
  assert torso._linear.w.shape == (9 * 9 * 64, 256)


def test_uint8_is_scaled_to_unit_interval():
  torso = FtwTorso(conv_filters=((4, 3, 2),), residual_filters=(),
                   hidden_size=8)
  pixels = np.random.RandomState(0).randint(0, 256, [2, 9, 9, 3])
  from_uint8 = torso(tf.constant(pixels, tf.uint8))
  from_float = torso(tf.constant(pixels / 255., tf.float32))
  np.testing.assert_allclose(from_uint8, from_float, atol=1e-6)


def test_matches_hand_built_forward_pass():
  """conv -> relu -> x + conv(relu(x)) -> relu -> flatten -> linear."""
  torso = FtwTorso(conv_filters=((4, 3, 2),), residual_filters=((4, 3, 1),),
                   hidden_size=5)
  x = tf.random.normal([3, 9, 9, 2])
  out = torso(x)
  conv, block = torso._convs[0], torso._residual_blocks[0]
  h = tf.nn.relu(
      tf.nn.conv2d(x, conv.w, strides=2, padding='VALID') + conv.b)  # 4x4x4
  r = tf.nn.conv2d(tf.nn.relu(h), block._conv.w, strides=1,
                   padding='SAME') + block._conv.b
  h = tf.nn.relu(h + r)
  expected = tf.reshape(h, [3, -1]) @ torso._linear.w + torso._linear.b
  np.testing.assert_allclose(out, expected, atol=1e-5)
  assert block._projection is None  # Same shape: identity skip.


def test_residual_projection_when_shape_changes():
  torso = FtwTorso(conv_filters=((4, 3, 1),), residual_filters=((6, 3, 2),),
                   hidden_size=7)
  out = torso(tf.random.normal([2, 8, 8, 3]))
  assert out.shape == (2, 7)
  assert torso._residual_blocks[0]._projection is not None


def test_activate_last():
  x = tf.random.normal([16, 9, 9, 3])
  config = dict(conv_filters=((4, 3, 2),), residual_filters=(), hidden_size=32)
  assert np.min(FtwTorso(**config)(x)) < 0
  assert np.min(FtwTorso(activate_last=True, **config)(x)) >= 0


def test_gradients_reach_every_variable():
  torso = FtwTorso(conv_filters=((4, 3, 2),), residual_filters=((4, 3, 1),
                                                                 (6, 3, 1)),
                   hidden_size=5)
  x = tf.random.normal([2, 9, 9, 3])
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(torso(x) ** 2)
  variables = torso.trainable_variables
  assert len(variables) == 10  # 3 convs + 1 projection + linear, w and b.
  grads = tape.gradient(loss, variables)
  for v, g in zip(variables, grads):
    assert g is not None and np.any(g.numpy() != 0), v.name


@pytest.mark.parametrize('kwargs, argname', [
    (dict(conv_filters=((32, 8),)), 'conv_filters'),
    (dict(conv_filters=((32, 8, 0),)), 'conv_filters'),
    (dict(conv_filters=()), 'conv_filters'),
    (dict(conv_filters='abc'), 'conv_filters'),
    (dict(residual_filters=((64, 3.0, 1),)), 'residual_filters'),
    (dict(residual_filters=(64, 3, 1)), 'residual_filters'),
    (dict(hidden_size=0), 'hidden_size'),
    (dict(activate_last=1), 'activate_last'),
    (dict(activation='relu'), 'activation'),
    (dict(compute_dtype='float16'), 'compute_dtype'),
    (dict(compute_dtype=tf.float64), 'compute_dtype'),
])
def test_bad_constructor_args(kwargs, argname):
  with pytest.raises(ValueError, match=argname):
    FtwTorso(**kwargs)


def test_bad_inputs():
  torso = FtwTorso(conv_filters=((4, 3, 2),), residual_filters=(),
                   hidden_size=4)
  with pytest.raises(ValueError, match=r'\[B, H, W, C\]'):
    torso(tf.zeros([9, 9, 3]))
  with pytest.raises(ValueError, match='uint8 or float'):
    torso(tf.zeros([1, 9, 9, 3], tf.int32))


def _bf16_and_fp32_torsos():
  """Two torsos (bfloat16, float32 convolutions) sharing the same weights."""
  config = dict(conv_filters=((8, 4, 2),), residual_filters=((8, 3, 1),
                                                             (12, 3, 1)),
                hidden_size=16)
  fast = FtwTorso(compute_dtype='bfloat16', **config)
  exact = FtwTorso(**config)
  x = tf.random.stateless_uniform([4, 18, 18, 3], seed=(1, 2))
  fast(x), exact(x)
  for a, b in zip(fast.variables, exact.variables):
    b.assign(a)
  return fast, exact, x


def test_bfloat16_torso_keeps_float32_variables_and_output():
  fast, exact, x = _bf16_and_fp32_torsos()
  assert fast.compute_dtype == tf.bfloat16
  # Same variables, names and dtypes as the float32 torso (checkpoints of
  # either load into the other).
  assert [(v.name, v.dtype, v.shape) for v in fast.variables] == [
      (v.name, v.dtype, v.shape) for v in exact.variables]
  assert all(v.dtype == tf.float32 for v in fast.variables)
  out, expected = fast(x), exact(x)
  assert out.dtype == tf.float32 and out.shape == (4, 16)
  # bfloat16 keeps 8 bits of mantissa: close to float32, but not equal.
  scale = np.abs(expected.numpy()).max()
  assert 0 < np.abs(out.numpy() - expected.numpy()).max() < 0.03 * scale


def test_bfloat16_torso_gradients_reach_every_variable_in_float32():
  fast, exact, x = _bf16_and_fp32_torsos()
  grads = []
  for torso in (fast, exact):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(torso(x) ** 2)
    grads.append(tape.gradient(loss, torso.trainable_variables))
  assert len(grads[0]) == 10  # 3 convs + 1 projection + linear, w and b.
  for v, g, g32 in zip(fast.trainable_variables, *grads):
    assert g.dtype == tf.float32 and np.any(g.numpy() != 0), v.name
    cosine = np.sum(g * g32) / (np.linalg.norm(g) * np.linalg.norm(g32))
    assert cosine > 0.99, v.name


def test_bfloat16_residual_block_accepts_float32_inputs():
  from ftw.tf.networks.vision import ResidualBlock  # pylint: disable=g-import-not-at-top
  block = ResidualBlock(3, 3, 1, tf.nn.relu, compute_dtype='bfloat16')
  out = block(tf.random.normal([2, 5, 5, 3]))
  assert out.dtype == tf.bfloat16 and out.shape == (2, 5, 5, 3)
  assert block._conv.w.dtype == tf.float32


def test_bfloat16_on_a_cpu_without_bfloat16_units_warns(monkeypatch):
  from ftw.tf.networks import vision  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(vision, 'cpu_has_fast_bfloat16', lambda: False)
  with pytest.warns(UserWarning, match='slower than float32'):
    FtwTorso(compute_dtype='bfloat16')
  monkeypatch.setattr(vision, 'cpu_has_fast_bfloat16', lambda: True)
  with warnings.catch_warnings():
    warnings.simplefilter('error')
    FtwTorso(compute_dtype='bfloat16')


def test_fast_compute_dtype_is_bfloat16_only_on_a_cpu_with_bfloat16_units(
    monkeypatch):
  from ftw.tf.networks import vision  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(vision, 'cpu_has_fast_bfloat16', lambda: False)
  assert vision.fast_compute_dtype() == 'float32'
  monkeypatch.setattr(vision, 'cpu_has_fast_bfloat16', lambda: True)
  assert vision.fast_compute_dtype() == 'bfloat16'


def test_bfloat16_linear_is_a_bfloat16_product_with_a_float32_bias():
  from ftw.tf.networks.vision import Linear  # pylint: disable=g-import-not-at-top
  x = tf.random.stateless_normal([5, 40], seed=(3, 4), dtype=tf.bfloat16)
  fast = Linear(7, compute_dtype='bfloat16', name='linear')
  exact = snt.Linear(7, name='linear')
  out = fast(x)
  exact(tf.cast(x, tf.float32))
  # Sonnet's variables (names, float32), so checkpoints load either way.
  assert [(v.name, v.dtype, v.shape) for v in fast.variables] == [
      (v.name, v.dtype, v.shape) for v in exact.variables]
  fast.b.assign(tf.fill([7], 1e-3))  # Lost if added in bfloat16 to ~1.
  assert fast(x).dtype == tf.float32
  rounded_w = tf.cast(tf.cast(fast.w, tf.bfloat16), tf.float64).numpy()
  product = tf.cast(x, tf.float64).numpy() @ rounded_w
  # The product is rounded once to bfloat16 (8 bits), then the bias added.
  rounded = tf.cast(tf.cast(product, tf.bfloat16), tf.float64).numpy()
  np.testing.assert_allclose(fast(x).numpy(), rounded + 1e-3, rtol=1e-6,
                             atol=1e-9)
  assert np.abs(out.numpy() - product).max() > 0  # Not a float32 product.
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(fast(x) ** 2)
  grads = tape.gradient(loss, [fast.w, fast.b])
  assert [g.dtype for g in grads] == [tf.float32, tf.float32]
  np.testing.assert_allclose(grads[1].numpy(), 2 * fast(x).numpy().sum(0),
                             rtol=1e-5)


def test_float32_linear_equals_sonnet_linear():
  from ftw.tf.networks.vision import Linear  # pylint: disable=g-import-not-at-top
  x = tf.random.stateless_normal([3, 6], seed=(5, 6))
  ours, theirs = Linear(4), snt.Linear(4)
  ours(x), theirs(x)
  for a, b in zip(ours.variables, theirs.variables):
    b.assign(a)
  np.testing.assert_array_equal(ours(x).numpy(), theirs(x).numpy())

