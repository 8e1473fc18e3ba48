"""Tests for WindowCore: last K inputs, newest first."""

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.memory import WindowCore, window_mask


def test_window_order_and_dropout():
  core = WindowCore(window_size=3, item_shape=2)
  state = core.initial_state(2)
  items = [(np.full([2, 2], t + 1.0) * [[1.0], [-1.0]]).astype(np.float32)
           for t in range(5)]
  for t, item in enumerate(items):
    window, state = core(tf.constant(item), state)
    expected = np.zeros([2, 3, 2], np.float32)
    for slot in range(min(t + 1, 3)):  # slot 0 newest
      expected[:, slot] = items[t - slot]
    np.testing.assert_array_equal(window.numpy(), expected)
    np.testing.assert_array_equal(state.count.numpy(), [min(t + 1, 3)] * 2)
    np.testing.assert_array_equal(
        window_mask(state).numpy(), [[s <= t for s in range(3)]] * 2)


def test_window_multi_dim_items_and_flat_output_unroll():
  core = WindowCore(window_size=2, item_shape=(2, 3), flatten_output=True)
  x = np.arange(4 * 1 * 6, dtype=np.float32).reshape([4, 1, 2, 3])
  outputs, state = snt.dynamic_unroll(core, tf.constant(x),
                                      core.initial_state(1))
  assert outputs.shape == [4, 1, 12]
  np.testing.assert_array_equal(outputs[-1, 0].numpy(),
                                np.concatenate([x[3, 0].ravel(),
                                                x[2, 0].ravel()]))
  np.testing.assert_array_equal(state.window[0, 1].numpy(), x[2, 0])


def test_window_flat_core_in_unroll_passes_gradients():
  core = WindowCore(window_size=3, item_shape=4, flatten_output=True)
  x = tf.Variable(tf.random.normal([5, 2, 4], seed=0))
  with tf.GradientTape() as tape:
    outputs, _ = snt.dynamic_unroll(core, x, core.initial_state(2))
    loss = tf.reduce_sum(outputs)
  assert outputs.shape == [5, 2, 12]
  # Each input is in the output of its own step and the next two: 3 times,
  # except the last two inputs (2 and 1 times).
  expected = np.array([3, 3, 3, 2, 1], np.float32)[:, None, None]
  np.testing.assert_array_equal(tape.gradient(loss, x).numpy(),
                                np.broadcast_to(expected, [5, 2, 4]))


@pytest.mark.parametrize("kwargs, match", [
    (dict(window_size=0, item_shape=2), "window_size"),
    (dict(window_size=2.5, item_shape=2), "window_size"),
    (dict(window_size=2, item_shape=0), "item_shape"),
    (dict(window_size=2, item_shape=()), "item_shape"),
    (dict(window_size=2, item_shape="ab"), "item_shape")])
def test_window_bad_args(kwargs, match):
  with pytest.raises(ValueError, match=match):
    WindowCore(**kwargs)


def test_window_bad_input_shape():
  core = WindowCore(2, 3)
  with pytest.raises(ValueError, match="inputs must have shape"):
    core(tf.zeros([1, 4]), core.initial_state(1))
  with pytest.raises(ValueError, match="dtype float32"):
    core(tf.zeros([1, 3], tf.float64), core.initial_state(1))
