"""DNCWrapper: wiring, clipping, unrolls, gradients, shared memory, errors."""

import ftw  # noqa: F401  (quiet TensorFlow first)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.dnc.access import AccessState, MemoryAccess
from ftw.tf.networks.dnc_wrapper import DNCState, DNCWrapper

B, T, D, HIDDEN, N, W, R = 2, 4, 5, 6, 5, 3, 2


@pytest.fixture(autouse=True)
def _seed():
  tf.random.set_seed(0)


def make_core(output_layer=None, clip_value=None, memory=None):
  memory = memory or MemoryAccess(N, W, num_reads=R, num_writes=1)
  return DNCWrapper(snt.LSTM(HIDDEN), memory, output_layer=output_layer,
                    clip_value=clip_value)


def inputs_sequence(scale=1.0, seed=0):
  rng = np.random.RandomState(seed)
  return tf.constant(rng.randn(T, B, D) * scale, tf.float32)


def run(core, xs, state=None):
  state = core.initial_state(B) if state is None else state
  outputs = []
  for x in xs:
    out, state = core(x, state)
    outputs.append(out)
  return tf.stack(outputs), state


def test_initial_state_structure():
  core = make_core()
  state = core.initial_state(B)
  assert isinstance(state, DNCState)
  assert isinstance(state.access_state, AccessState)
  assert isinstance(state.controller_state, snt.LSTMState)
  assert state.access_output.shape == (B, R, W)
  assert np.all(state.access_output.numpy() == 0)
  assert core.memory is not None and isinstance(core.memory, MemoryAccess)


def test_shapes_without_and_with_output_layer():
  xs = inputs_sequence()
  out, state = run(make_core(), xs)
  assert out.shape == (T, B, HIDDEN + R * W)
  assert state.access_output.shape == (B, R, W)
  assert state.controller_state.hidden.shape == (B, HIDDEN)
  out, _ = run(make_core(output_layer=snt.Linear(7)), xs)
  assert out.shape == (T, B, 7)
  out, _ = run(make_core(output_layer=lambda h: h[:, :3] * 2.0), xs)
  assert out.shape == (T, B, 3)


def test_step_wiring():
  """Controller sees [x, prev reads]; output is [h, reads of this step]."""
  core = make_core()
  x = inputs_sequence()[0]
  state = core.initial_state(B)
  out, new_state = core(x, state)
  h = new_state.controller_state.hidden
  reads = new_state.access_output
  np.testing.assert_allclose(
      out.numpy(), np.concatenate([h.numpy(), reads.numpy().reshape(B, -1)],
                                  -1))
  # Recompute by hand from the same modules.
  want_h, _ = core.lstm(tf.concat([x, tf.zeros([B, R * W])], -1),
                        state.controller_state)
  want_reads, _ = core.memory(want_h, state.access_state)
  np.testing.assert_allclose(h.numpy(), want_h.numpy(), atol=1e-6)
  np.testing.assert_allclose(reads.numpy(), want_reads.numpy(), atol=1e-6)
  # The previous read words feed the controller.
  other = state._replace(access_output=tf.ones([B, R, W]))
  out_other, _ = core(x, other)
  assert not np.allclose(out.numpy(), out_other.numpy())


def test_clipping_bounds_outputs_and_controller_state():
  clip = 0.5  # exact in float32, so `<= clip` is a fair comparison
  xs = inputs_sequence(scale=50.0)
  for layer in (None, snt.Sequential([snt.Linear(4), lambda y: 100.0 * y])):
    unclipped, state = run(make_core(output_layer=layer), xs)
    # Without clipping these inputs push outputs and LSTM state past `clip`.
    assert np.abs(unclipped.numpy()).max() > clip
    assert np.abs(state.controller_state.cell.numpy()).max() > clip
    core = make_core(output_layer=layer, clip_value=clip)
    state = core.initial_state(B)
    for x in xs:
      out, state = core(x, state)
      assert np.abs(out.numpy()).max() <= clip
      for t in tf.nest.flatten(state.controller_state):
        assert np.abs(t.numpy()).max() <= clip
    assert np.abs(out.numpy()).max() == clip  # the bound is reached


def test_static_and_dynamic_unroll_agree():
  core = make_core(output_layer=snt.Linear(4), clip_value=2.0)
  xs = inputs_sequence(seed=1)
  static_out, static_state = snt.static_unroll(core, xs, core.initial_state(B))
  dynamic_out, dynamic_state = snt.dynamic_unroll(core, xs,
                                                  core.initial_state(B))
  assert static_out.shape == (T, B, 4)
  np.testing.assert_allclose(static_out.numpy(), dynamic_out.numpy(),
                             atol=1e-5)
  for a, b in zip(tf.nest.flatten(static_state),
                  tf.nest.flatten(dynamic_state)):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_gradients_reach_every_variable():
  core = make_core(output_layer=snt.Linear(4), clip_value=10.0)
  xs = inputs_sequence(seed=2)
  probe = tf.constant(np.random.RandomState(3).randn(T, B, 4), tf.float32)
  with tf.GradientTape() as tape:
    out, _ = snt.static_unroll(core, xs, core.initial_state(B))
    loss = tf.reduce_sum(out * probe)
  variables = core.trainable_variables
  # LSTM (3) + memory interface (10 layers x 2) + output layer (2).
  assert len(variables) == 25
  for var, grad in zip(variables, tape.gradient(loss, variables)):
    assert grad is not None, var.name
    assert np.all(np.isfinite(grad.numpy())), var.name
    assert np.abs(grad.numpy()).sum() > 0, var.name


def test_two_cores_share_one_memory_module_and_state():
  memory = MemoryAccess(N, W, num_reads=R, num_writes=1)
  fast, slow = make_core(memory=memory), make_core(memory=memory)
  x = inputs_sequence()[0]
  out_fast, state_fast = fast(x, fast.initial_state(B))
  # The slow core continues from the memory the fast core wrote.
  slow_state = slow.initial_state(B)._replace(
      access_state=state_fast.access_state)
  out_slow, _ = slow(x, slow_state)
  assert out_slow.shape == out_fast.shape
  memory_vars = {id(v) for v in memory.trainable_variables}
  assert len(memory_vars) == 20
  assert memory_vars <= {id(v) for v in fast.trainable_variables}
  assert memory_vars <= {id(v) for v in slow.trainable_variables}
  # Reading the fast core's memory differs from reading an empty one.
  out_empty, _ = slow(x, slow.initial_state(B))
  assert not np.allclose(out_slow.numpy(), out_empty.numpy())


@pytest.mark.parametrize('kwargs, arg', [
    (dict(lstm=snt.Linear(3)), 'lstm'),
    (dict(lstm=None), 'lstm'),
    (dict(memory=snt.LSTM(3)), 'memory'),
    (dict(memory=None), 'memory'),
    (dict(output_layer=3), 'output_layer'),
    (dict(clip_value=0.0), 'clip_value'),
    (dict(clip_value=-1), 'clip_value'),
    (dict(clip_value='1'), 'clip_value'),
    (dict(clip_value=True), 'clip_value'),
])
def test_bad_constructor_args_raise(kwargs, arg):
  args = dict(lstm=snt.LSTM(HIDDEN), memory=MemoryAccess(N, W))
  args.update(kwargs)
  with pytest.raises(ValueError, match=arg):
    DNCWrapper(**args)


def test_bad_state_raises():
  core = make_core()
  with pytest.raises(ValueError, match='prev_state'):
    core(inputs_sequence()[0], tuple(core.initial_state(B)))


def test_wrapper_accepts_any_memory_with_the_access_interface():
  from ftw.tf.networks.ntm.access import NTMAccess  # pylint: disable=g-import-not-at-top
  wrapper = DNCWrapper(snt.LSTM(8), NTMAccess(memory_size=6, word_size=4))
  out, state = wrapper(tf.zeros([2, 3]), wrapper.initial_state(2))
  assert out.shape == (2, 8 + 4)
  assert state.access_output.shape == (2, 1, 4)
  # An LSTM has no [num_reads, word_size] output: not a memory.
  with pytest.raises(ValueError, match="memory"):
    DNCWrapper(snt.LSTM(8), snt.LSTM(4))
