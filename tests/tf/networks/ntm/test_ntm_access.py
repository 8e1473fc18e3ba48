"""Tests for the NTM addressing stages and NTMAccess, against numpy."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401  (quiet TensorFlow first)
from ftw.tf.networks.ntm import NTMAccess, NTMState, addressing
from ftw.tf.networks.ntm.access import erase_and_add


def _softmax(x, axis=-1):
  e = np.exp(x - x.max(axis=axis, keepdims=True))
  return e / e.sum(axis=axis, keepdims=True)


def _softplus(x):
  return np.log1p(np.exp(x))


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _np_address(memory, prev, keys, beta, gate, shifts, gamma):
  """Independent numpy NTM addressing with explicit loops for the shift."""
  b, h, n = prev.shape
  cos = np.einsum("bhw,bnw->bhn", keys, memory)
  cos /= np.linalg.norm(keys, axis=-1)[..., None] * np.linalg.norm(memory, axis=-1)[:, None]
  wc = _softmax(beta[..., None] * cos)
  wg = gate[..., None] * wc + (1 - gate[..., None]) * prev
  r = (shifts.shape[-1] - 1) // 2
  wt = np.zeros_like(wg)
  for i in range(n):
    for j in range(n):
      offset = (i - j) % n  # weight moves from slot j to slot i by this offset
      for k, o in enumerate(range(-r, r + 1)):
        if o % n == offset:
          wt[:, :, i] += wg[:, :, j] * shifts[:, :, k]
  ws = wt ** gamma[..., None]
  return ws / ws.sum(-1, keepdims=True)


def test_circular_shift_of_one_hot_matches_numpy_roll():
  n = 7
  weights = np.zeros([2, 1, n], np.float32)
  weights[0, 0, 0] = 1.0   # wraps backwards from slot 0
  weights[1, 0, 6] = 1.0   # wraps forwards from the last slot
  shifts = np.array([[[0.2, 0.3, 0.5]], [[0.1, 0.0, 0.9]]], np.float32)  # -1, 0, +1
  got = addressing.circular_shift(tf.constant(weights), tf.constant(shifts)).numpy()
  want = np.zeros_like(weights)
  for b in range(2):
    for k, offset in enumerate([-1, 0, 1]):
      want[b, 0] += shifts[b, 0, k] * np.roll(weights[b, 0], offset)
  np.testing.assert_allclose(got, want, atol=1e-6)
  # Concretely: +1 moves slot 6 to slot 0, -1 moves slot 0 to slot 6.
  assert got[1, 0, 0] == pytest.approx(0.9)
  assert got[0, 0, 6] == pytest.approx(0.2)


def test_sharpen_matches_numpy_and_gamma_one_is_identity():
  rng = np.random.default_rng(0)
  weights = _softmax(rng.normal(size=[3, 2, 5])).astype(np.float32)
  gamma = np.array([[1.0, 2.5], [3.0, 1.0], [7.0, 1.5]], np.float32)
  got = addressing.sharpen(tf.constant(weights), tf.constant(gamma)).numpy()
  want = weights ** gamma[..., None]
  want /= want.sum(-1, keepdims=True)
  np.testing.assert_allclose(got, want, atol=1e-5)
  np.testing.assert_allclose(got[0, 0], weights[0, 0], atol=1e-5)
  # Sharpening makes the largest weight larger.
  assert got[2, 0].max() > weights[2, 0].max()


def test_sharpen_with_large_gamma_on_flat_weights_stays_finite():
  flat = tf.fill([1, 2, 16], 1.0 / 16)
  got = addressing.sharpen(flat, tf.constant([[100.0, 1.0]])).numpy()
  np.testing.assert_allclose(got, np.full([1, 2, 16], 1.0 / 16), atol=1e-6)
  peaked = tf.constant([[[0.3, 0.4, 0.3]]])
  got = addressing.sharpen(peaked, tf.constant([[200.0]])).numpy()
  np.testing.assert_allclose(got, [[[0.0, 1.0, 0.0]]], atol=1e-6)


def test_content_and_interpolation_match_numpy():
  rng = np.random.default_rng(1)
  memory = rng.normal(size=[2, 6, 4]).astype(np.float32)
  keys = rng.normal(size=[2, 3, 4]).astype(np.float32)
  beta = rng.uniform(0, 5, size=[2, 3]).astype(np.float32)
  got = addressing.content_weights(tf.constant(memory), tf.constant(keys),
                                   tf.constant(beta)).numpy()
  cos = np.einsum("bhw,bnw->bhn", keys, memory)
  cos /= np.linalg.norm(keys, axis=-1)[..., None] * np.linalg.norm(memory, axis=-1)[:, None]
  np.testing.assert_allclose(got, _softmax(beta[..., None] * cos), atol=1e-5)
  prev = _softmax(rng.normal(size=[2, 3, 6])).astype(np.float32)
  gate = np.array([[0.0, 1.0, 0.3], [0.5, 0.0, 1.0]], np.float32)
  mixed = addressing.interpolate(tf.constant(got), tf.constant(prev), tf.constant(gate))
  np.testing.assert_allclose(mixed[0, 0], prev[0, 0], atol=1e-6)
  np.testing.assert_allclose(mixed[0, 1], got[0, 1], atol=1e-6)
  np.testing.assert_allclose(mixed[0, 2], 0.3 * got[0, 2] + 0.7 * prev[0, 2], atol=1e-6)


def test_zero_memory_and_zero_key_give_uniform_content_and_no_nan():
  memory = tf.zeros([1, 4, 3])
  keys = tf.zeros([1, 1, 3])
  w = addressing.content_weights(memory, keys, tf.constant([[10.0]]))
  np.testing.assert_allclose(w.numpy(), np.full([1, 1, 4], 0.25), atol=1e-6)


def test_erase_and_add_matches_numpy():
  rng = np.random.default_rng(2)
  memory = rng.normal(size=[2, 5, 3]).astype(np.float32)
  weights = _softmax(rng.normal(size=[2, 2, 5])).astype(np.float32)
  erase = rng.uniform(size=[2, 2, 3]).astype(np.float32)
  add = rng.normal(size=[2, 2, 3]).astype(np.float32)
  got = erase_and_add(*map(tf.constant, (memory, weights, erase, add))).numpy()
  want = memory.copy()
  for b in range(2):
    for i in range(5):
      for h in range(2):
        want[b, i] *= 1 - weights[b, h, i] * erase[b, h]
      for h in range(2):
        want[b, i] += weights[b, h, i] * add[b, h]
  np.testing.assert_allclose(got, want, atol=1e-5)


def test_one_step_write_then_read_matches_numpy():
  n, w, d = 6, 4, 5
  access = NTMAccess(memory_size=n, word_size=w, num_reads=2, num_writes=1)
  rng = np.random.default_rng(3)
  inputs = rng.normal(size=[2, d]).astype(np.float32)
  memory = rng.normal(size=[2, n, w]).astype(np.float32)
  prev = NTMState(memory=tf.constant(memory),
                  read_weights=tf.constant(_softmax(rng.normal(size=[2, 2, n])), tf.float32),
                  write_weights=tf.constant(_softmax(rng.normal(size=[2, 1, n])), tf.float32))
  read_words, state = access(tf.constant(inputs), prev)

  def params(linear, heads):
    p = inputs @ linear.w.numpy() + linear.b.numpy()
    p = p.reshape([2, heads, -1])
    addr = (p[..., :w], _softplus(p[..., w]), _sigmoid(p[..., w + 1]),
            _softmax(p[..., w + 3:w + 6]), 1 + _softplus(p[..., w + 2]))
    return addr, p[..., w + 6:]

  (wk, wb, wg, ws, wgam), rest = params(access._write_params, 1)
  write_w = _np_address(memory, prev.write_weights.numpy(), wk, wb, wg, ws, wgam)
  erase, add = _sigmoid(rest[..., :w]), rest[..., w:]
  new_memory = memory * (1 - write_w[0:, 0, :, None] * erase[:, 0, None, :])
  new_memory += write_w[:, 0, :, None] * add[:, 0, None, :]
  (rk, rb, rg, rs, rgam), _ = params(access._read_params, 2)
  read_w = _np_address(new_memory, prev.read_weights.numpy(), rk, rb, rg, rs, rgam)

  np.testing.assert_allclose(state.write_weights.numpy(), write_w, atol=1e-4)
  np.testing.assert_allclose(state.memory.numpy(), new_memory, atol=1e-4)
  np.testing.assert_allclose(state.read_weights.numpy(), read_w, atol=1e-4)
  np.testing.assert_allclose(read_words.numpy(), read_w @ new_memory, atol=1e-4)


def test_weights_are_distributions_over_steps_and_shapes():
  access = NTMAccess(memory_size=8, word_size=5, num_reads=3, num_writes=2)
  assert access.output_size == tf.TensorShape([3, 5])
  state = access.initial_state(4)
  assert state.memory.shape == (4, 8, 5)
  assert state.read_weights.shape == (4, 3, 8)
  assert state.write_weights.shape == (4, 2, 8)
  np.testing.assert_array_equal(state.read_weights.numpy()[:, :, 0], 1.0)
  for _ in range(5):
    read_words, state = access(tf.random.normal([4, 7], stddev=3.0), state)
    assert read_words.shape == (4, 3, 5)
    for weights in (state.read_weights, state.write_weights):
      assert np.all(weights.numpy() >= 0)
      np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(state.memory.numpy()))


def test_gradients_reach_every_variable_and_are_finite_from_zero_memory():
  access = NTMAccess(memory_size=6, word_size=4, num_reads=2, num_writes=2)
  inputs = tf.random.normal([3, 4, 5], seed=0)  # [T, B, D]
  state = access.initial_state(4)
  state = state._replace(memory=tf.zeros_like(state.memory))
  with tf.GradientTape() as tape:
    loss = 0.0
    for t in range(3):
      read_words, state = access(inputs[t], state)
      loss += tf.reduce_sum(tf.square(read_words - 1.0))
  variables = access.trainable_variables
  assert len(variables) == 4  # w and b of read and write parameter layers
  grads = tape.gradient(loss, variables)
  for v, g in zip(variables, grads):
    assert g is not None, v.name
    assert np.all(np.isfinite(g.numpy())), v.name
    assert np.any(g.numpy() != 0), v.name


@pytest.mark.parametrize("kwargs, match", [
    (dict(memory_size=0), "memory_size"),
    (dict(word_size=-1), "word_size"),
    (dict(num_reads=0), "num_reads"),
    (dict(memory_size=2, shift_range=1), "shift_range"),
])
def test_bad_constructor_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    NTMAccess(**kwargs)


def test_bad_input_rank_raises():
  access = NTMAccess(memory_size=4, word_size=3)
  with pytest.raises(ValueError, match="inputs"):
    access(tf.zeros([2, 3, 4]), access.initial_state(2))
