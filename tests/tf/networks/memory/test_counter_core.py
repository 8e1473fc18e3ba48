"""Tests for CounterCore: a looping step counter."""

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.memory import CounterCore, CounterState


def test_counter_period_one_hot_and_flag():
  core = CounterCore(period=3)
  state = core.initial_state(2)
  for t in range(7):
    out, state = core(tf.zeros([2, 5]), state)
    expected = np.zeros([2, 4], np.float32)
    expected[:, t % 3] = 1.0
    expected[:, 3] = float(t % 3 == 0)
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(state.step.numpy(), [(t + 1) % 3] * 2)
  # initial_state resets the count.
  out, _ = core(tf.zeros([2, 5]), core.initial_state(2))
  np.testing.assert_array_equal(out.numpy()[:, :4], [[1, 0, 0, 1]] * 2)


def test_counter_sincos_concat_inputs_in_dynamic_unroll():
  core = CounterCore(period=4, sincos=True, concat_inputs=True)
  inputs = tf.random.normal([6, 3, 2], seed=0)  # [T, B, D] flat inputs
  outputs, state = snt.dynamic_unroll(core, inputs, core.initial_state(3))
  assert outputs.shape == [6, 3, 2 + 4 + 1 + 2]
  out = outputs.numpy()
  np.testing.assert_array_equal(out[..., :2], inputs.numpy())
  steps = np.arange(6) % 4
  np.testing.assert_array_equal(out[:, 0, 2:6], np.eye(4)[steps])
  np.testing.assert_array_equal(out[:, 0, 6], (steps == 0).astype(np.float32))
  np.testing.assert_allclose(out[:, 0, 7], np.sin(2 * np.pi * steps / 4),
                             atol=1e-6)
  np.testing.assert_allclose(out[:, 0, 8], np.cos(2 * np.pi * steps / 4),
                             atol=1e-6)
  np.testing.assert_array_equal(state.step.numpy(), [6 % 4] * 3)


def test_counter_per_batch_entry_state():
  core = CounterCore(period=5)
  out, state = core(tf.zeros([3, 1]), CounterState(tf.constant([0, 2, 4])))
  np.testing.assert_array_equal(np.argmax(out.numpy()[:, :5], -1), [0, 2, 4])
  np.testing.assert_array_equal(state.step.numpy(), [1, 3, 0])


def test_counter_passes_input_gradient_and_has_no_variables():
  core = CounterCore(period=2, concat_inputs=True)
  x = tf.Variable(tf.ones([2, 3]))
  with tf.GradientTape() as tape:
    out, _ = core(x, core.initial_state(2))
    loss = tf.reduce_sum(out)
  np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), np.ones([2, 3]))
  assert core.trainable_variables == ()


@pytest.mark.parametrize("period", [0, -2, 2.0, True, None])
def test_counter_bad_period(period):
  with pytest.raises(ValueError, match="period"):
    CounterCore(period)


def test_counter_bad_inputs():
  core = CounterCore(3, concat_inputs=True)
  with pytest.raises(ValueError, match="prev_state.step"):
    core(tf.zeros([2, 1]), CounterState(tf.zeros([2])))
  with pytest.raises(ValueError, match="inputs"):
    core(tf.zeros([3, 1]), core.initial_state(2))
  with pytest.raises(ValueError, match="concat_inputs"):
    core(tf.zeros([2, 1, 1]), core.initial_state(2))
