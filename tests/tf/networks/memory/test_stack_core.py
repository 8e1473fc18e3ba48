"""Tests for the differentiable stack (StackAugmentation) and StackRNN."""

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.memory import StackAugmentation, StackRNN, StackState

PUSH = [1.0, 0.0, 0.0]
POP = [0.0, 1.0, 0.0]
NOOP = [0.0, 0.0, 1.0]


def numpy_stack_step(stack, controls, value):
  """Reference: row 0 is the top; push shifts down, pop shifts up with 0."""
  pushed = np.concatenate([value[:, None], stack[:, :-1]], axis=1)
  popped = np.concatenate([stack[:, 1:], np.zeros_like(stack[:, :1])], axis=1)
  c = controls[:, :, None, None]
  return c[:, 0] * pushed + c[:, 1] * popped + c[:, 2] * stack


def run_ops(core, ops, values):
  state = core.initial_state(1)
  tops = []
  for op, value in zip(ops, values):
    top, state = core((tf.constant([op]), tf.constant([value])), state)
    tops.append(top.numpy()[0])
  return tops, state.stack.numpy()[0]


def test_push_push_pop_reads_back_first_item():
  core = StackAugmentation(stack_depth=4, item_size=2)
  a, b, junk = [1.0, 2.0], [3.0, 4.0], [9.0, 9.0]
  tops, stack = run_ops(core, [PUSH, PUSH, POP, NOOP, POP],
                        [a, b, junk, junk, junk])
  np.testing.assert_allclose(tops, [a, b, a, a, [0.0, 0.0]])
  np.testing.assert_allclose(stack, np.zeros([4, 2]))


def test_push_beyond_depth_drops_bottom_item():
  core = StackAugmentation(stack_depth=2, item_size=1)
  tops, stack = run_ops(core, [PUSH, PUSH, PUSH, POP, POP],
                        [[1.0], [2.0], [3.0], [0.0], [0.0]])
  np.testing.assert_allclose(tops, [[1.0], [2.0], [3.0], [2.0], [0.0]])


def test_soft_controls_match_numpy_reference():
  rng = np.random.default_rng(0)
  batch, depth, size, steps = 3, 5, 2, 6
  core = StackAugmentation(depth, size, controls_are_logits=True)
  state = core.initial_state(batch)
  ref = np.zeros([batch, depth, size], np.float32)
  for _ in range(steps):
    logits = rng.normal(size=[batch, 3]).astype(np.float32)
    value = rng.normal(size=[batch, size]).astype(np.float32)
    top, state = core((tf.constant(logits), tf.constant(value)), state)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ref = numpy_stack_step(ref, probs, value)
    np.testing.assert_allclose(state.stack.numpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(top.numpy(), ref[:, 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(stack_depth=0, item_size=2), dict(stack_depth=3, item_size=-1),
    dict(stack_depth=2.0, item_size=2), dict(stack_depth=True, item_size=2)])
def test_stack_bad_constructor_args(kwargs):
  with pytest.raises(ValueError, match="stack_depth|item_size"):
    StackAugmentation(**kwargs)


def test_stack_bad_inputs():
  core = StackAugmentation(3, 2)
  state = core.initial_state(2)
  good_controls, good_value = tf.ones([2, 3]) / 3, tf.ones([2, 2])
  with pytest.raises(ValueError, match="pair"):
    core(good_value, state)
  with pytest.raises(ValueError, match="controls"):
    core((tf.ones([2, 2]), good_value), state)
  with pytest.raises(ValueError, match="value"):
    core((good_controls, tf.ones([2, 3])), state)
  with pytest.raises(ValueError, match="prev_state.stack"):
    core((good_controls, good_value), StackState(tf.zeros([2, 4, 2])))


@pytest.mark.parametrize("controller", ["rnn", "lstm"])
def test_stack_rnn_dynamic_unroll_and_gradients(controller):
  core = StackRNN(hidden_size=6, stack_depth=4, item_size=3, read_depth=2,
                  controller=controller)
  inputs = tf.random.normal([5, 2, 4], seed=1)  # [T, B, D] flat inputs
  with tf.GradientTape() as tape:
    outputs, state = snt.dynamic_unroll(core, inputs, core.initial_state(2))
    loss = tf.reduce_sum(tf.square(outputs))
  assert outputs.shape == [5, 2, core.output_size] == [5, 2, 9]
  assert state.stack.shape == [2, 4, 3]
  # The output's last item_size columns are the top of the stack.
  np.testing.assert_allclose(outputs[-1, :, 6:].numpy(),
                             state.stack[:, 0].numpy(), rtol=1e-6)
  variables = core.trainable_variables
  assert len(variables) == 7  # controller w_i, w_h, b; controls w, b; push w, b
  grads = tape.gradient(loss, variables)
  for v, g in zip(variables, grads):
    assert g is not None, v.name
    assert np.abs(g.numpy()).sum() > 0, v.name


def test_stack_rnn_reads_the_stack():
  """Changing only the stack contents changes the controller's output."""
  core = StackRNN(hidden_size=4, stack_depth=3, item_size=2)
  state = core.initial_state(1)
  x = tf.ones([1, 5])
  out_empty, _ = core(x, state)
  full = state._replace(stack=tf.ones([1, 3, 2]))
  out_full, _ = core(x, full)
  assert np.abs(out_empty[:, :4].numpy() - out_full[:, :4].numpy()).max() > 1e-4


@pytest.mark.parametrize("kwargs, match", [
    (dict(read_depth=5), "read_depth"), (dict(controller="gru"), "controller"),
    (dict(hidden_size=0), "hidden_size")])
def test_stack_rnn_bad_args(kwargs, match):
  args = dict(hidden_size=4, stack_depth=3, item_size=2)
  args.update(kwargs)
  with pytest.raises(ValueError, match=match):
    StackRNN(**args)


def test_stack_rnn_discretized_controls_take_exactly_one_action():
  core = StackRNN(hidden_size=4, stack_depth=3, item_size=2)
  prev = tf.random.normal([6, 3, 2], seed=2)
  state = core.initial_state(6)._replace(stack=prev)
  x = tf.random.normal([6, 5], seed=3)
  _, soft = core(x, state)
  core.discretize_controls = True
  _, hard = core(x, state)
  prev, soft, hard = prev.numpy(), soft.stack.numpy(), hard.stack.numpy()
  popped = np.concatenate([prev[:, 1:], np.zeros_like(prev[:, :1])], axis=1)
  for b in range(6):
    was_push = np.array_equal(hard[b, 1:], prev[b, :-1])
    was_pop = np.array_equal(hard[b], popped[b])
    was_noop = np.array_equal(hard[b], prev[b])
    assert was_push or was_pop or was_noop
  # The soft stack mixes the three (the test would pass trivially otherwise).
  assert not np.array_equal(soft[0, 1:], prev[0, :-1])
  assert not np.array_equal(soft[0], popped[0])
