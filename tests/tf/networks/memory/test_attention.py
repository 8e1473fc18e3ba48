"""Tests for additive / dot-product attention and WindowAttentionCore."""

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.memory import (AdditiveAttention, DotProductAttention,
                                    WindowAttentionCore, masked_softmax)


def np_masked_softmax(logits, mask):
  w = np.where(mask, np.exp(logits - logits.max(-1, keepdims=True)), 0.0)
  total = w.sum(-1, keepdims=True)
  return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


@pytest.fixture
def data():
  rng = np.random.default_rng(0)
  query = rng.normal(size=[3, 4]).astype(np.float32)
  keys = rng.normal(size=[3, 5, 4]).astype(np.float32)
  values = rng.normal(size=[3, 5, 2]).astype(np.float32)
  mask = np.array([[1, 1, 1, 1, 1], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0]], bool)
  return query, keys, values, mask


@pytest.mark.parametrize("scale", [True, False])
def test_dot_product_attention_against_numpy(data, scale):
  query, keys, values, mask = data
  attended, weights = DotProductAttention(scale=scale)(query, keys, values,
                                                       mask)
  logits = np.einsum("bd,bnd->bn", query, keys) / (2.0 if scale else 1.0)
  ref_w = np_masked_softmax(logits, mask)
  np.testing.assert_allclose(weights.numpy(), ref_w, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(attended.numpy(),
                             np.einsum("bn,bnd->bd", ref_w, values),
                             rtol=1e-5, atol=1e-6)
  w = weights.numpy()
  np.testing.assert_allclose(w[:2].sum(-1), [1.0, 1.0], rtol=1e-6)
  assert np.all(w[~mask] == 0.0)
  # The all-masked row: zero weights and a zero result, no NaN.
  np.testing.assert_array_equal(w[2], np.zeros(5))
  np.testing.assert_array_equal(attended.numpy()[2], np.zeros(2))


def test_additive_attention_against_numpy_and_gradients(data):
  query, keys, values, mask = data
  attention = AdditiveAttention(hidden_size=6)
  q, k, v = (tf.constant(x) for x in (query, keys, values))
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([q, k, v])
    attended, weights = attention(q, k, v, mask)
    loss = tf.reduce_sum(tf.square(attended[:2]))  # the all-masked row is 0
  by_name = {var.name.split("/")[-2]: var.numpy()
             for var in attention.trainable_variables}
  hidden = np.tanh((query @ by_name["w_q"])[:, None] + keys @ by_name["w_k"])
  logits = (hidden @ by_name["v"])[..., 0]
  ref_w = np_masked_softmax(logits, mask)
  np.testing.assert_allclose(weights.numpy(), ref_w, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(attended.numpy(),
                             np.einsum("bn,bnd->bd", ref_w, values),
                             rtol=1e-5, atol=1e-6)
  assert len(attention.trainable_variables) == 3
  for var, grad in zip(attention.trainable_variables,
                       tape.gradient(loss, attention.trainable_variables)):
    assert grad is not None and np.abs(grad.numpy()).sum() > 0, var.name
  for x in (q, k, v):
    assert np.all(np.isfinite(tape.gradient(loss, x).numpy()))
  # Masked keys and values get no gradient.
  assert np.all(tape.gradient(loss, v).numpy()[1][~mask[1]] == 0.0)


def test_values_default_to_keys_and_no_mask_sums_to_one(data):
  query, keys, _, _ = data
  attended, weights = DotProductAttention()(query, keys)
  np.testing.assert_allclose(weights.numpy().sum(-1), np.ones(3), rtol=1e-6)
  np.testing.assert_allclose(
      attended.numpy(), np.einsum("bn,bnd->bd", weights.numpy(), keys),
      rtol=1e-5, atol=1e-6)


def test_masked_softmax_gradient_finite_on_all_masked_row():
  logits = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
  with tf.GradientTape() as tape:
    w = masked_softmax(logits, tf.constant([[True, False], [False, False]]))
    loss = tf.reduce_sum(w * [[1.0, 2.0], [3.0, 4.0]])
  np.testing.assert_array_equal(w.numpy(), [[1.0, 0.0], [0.0, 0.0]])
  assert np.all(np.isfinite(tape.gradient(loss, logits).numpy()))


def test_dot_product_query_projection(data):
  _, keys, values, mask = data
  query = tf.ones([3, 7])
  with pytest.raises(ValueError, match="project_query"):
    DotProductAttention()(query, keys, values, mask)
  attention = DotProductAttention(project_query=True)
  attended, _ = attention(query, keys, values, mask)
  assert attended.shape == [3, 2]
  assert [v.shape for v in attention.trainable_variables] == [[7, 4]]


@pytest.mark.parametrize("shapes, match", [
    (([3], [3, 5, 4], None, None), "query"),
    (([3, 4], [3, 4], None, None), "keys"),
    (([3, 4], [3, 5, 4], [3, 6, 2], None), "values"),
    (([2, 4], [3, 5, 4], None, None), "batch"),
    (([3, 4], [3, 5, 4], None, [3, 4]), "mask")])
def test_attention_bad_shapes(shapes, match):
  args = [None if s is None else tf.zeros(s) for s in shapes]
  for attention in (DotProductAttention(), AdditiveAttention(3)):
    with pytest.raises(ValueError, match=match):
      attention(*args)


def test_additive_bad_hidden_size():
  with pytest.raises(ValueError, match="hidden_size"):
    AdditiveAttention(0)


@pytest.mark.parametrize("make_attention", [
    lambda: DotProductAttention(), lambda: AdditiveAttention(5)])
def test_window_attention_core_attends_over_past_items(make_attention):
  attention = make_attention()
  core = WindowAttentionCore(window_size=2, item_size=3, attention=attention)
  inputs = tf.random.normal([4, 2, 6], seed=3)  # [T, B, D] flat inputs
  with tf.GradientTape() as tape:
    outputs, state = snt.dynamic_unroll(core, inputs, core.initial_state(2))
    loss = tf.reduce_sum(tf.square(outputs))
  assert outputs.shape == [4, 2, core.output_size] == [4, 2, 6]
  out = outputs.numpy()
  items = out[..., :3]
  # Step 0: empty window, attends to nothing.
  np.testing.assert_array_equal(out[0, :, 3:], np.zeros([2, 3]))
  # Step 1: one past item, weight 1 on it.
  np.testing.assert_allclose(out[1, :, 3:], items[0], rtol=1e-5, atol=1e-6)
  # Step 3: window holds items 2 (newest) and 1; item 0 has dropped out.
  keys = np.stack([items[2], items[1]], axis=1)
  _, weights = attention(tf.constant(items[3]), tf.constant(keys))
  np.testing.assert_allclose(
      out[3, :, 3:], np.einsum("bn,bnd->bd", weights.numpy(), keys),
      rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(state.window.numpy(),
                             np.stack([items[3], items[2]], axis=1), rtol=1e-6)
  variables = core.trainable_variables
  assert len(variables) == 2 + len(attention.trainable_variables)
  for var, grad in zip(variables, tape.gradient(loss, variables)):
    assert grad is not None and np.abs(grad.numpy()).sum() > 0, var.name


def test_window_attention_core_bad_args():
  with pytest.raises(ValueError, match="window_size"):
    WindowAttentionCore(0, 3, DotProductAttention())
  with pytest.raises(ValueError, match="attention"):
    WindowAttentionCore(2, 3, attention="dot")
  core = WindowAttentionCore(2, 3, DotProductAttention())
  with pytest.raises(ValueError, match="inputs"):
    core(tf.zeros([2, 3, 1]), core.initial_state(2))
