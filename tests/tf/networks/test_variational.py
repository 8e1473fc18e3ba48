"""Tests for ftw.tf.networks.variational (VariationalUnit and its periodic
version)."""

import ftw  # noqa: F401  (quiets TensorFlow first)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf
import tree

from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.dnc.access import MemoryAccess
from ftw.tf.networks.dnc_wrapper import DNCState
from ftw.tf.networks.dnc_wrapper import DNCWrapper
from ftw.tf.networks.variational import PeriodicRNNState
from ftw.tf.networks.variational import PeriodicVariationalUnit
from ftw.tf.networks.variational import VariationalUnit

HIDDEN, DIMS, FEATURES = 8, 3, 5


def _memory():
  return MemoryAccess(memory_size=8, word_size=4, num_reads=1, num_writes=1)


def _flat(nest):
  return [np.asarray(x) for x in tree.flatten(nest)]


def _nests_equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(_flat(a), _flat(b)))


def test_variational_unit_lstm_shapes():
  unit = VariationalUnit(hidden_size=HIDDEN, num_dimensions=DIMS)
  state = unit.initial_state(2)
  assert isinstance(state, snt.LSTMState) and not unit.uses_memory
  output, new_state = unit(tf.random.normal([2, FEATURES]), state)
  assert isinstance(output, LocScaleDistributionParameters)
  assert output.loc.shape == (2, DIMS) and output.scale.shape == (2, DIMS)
  assert np.all(output.scale.numpy() > 0)
  assert new_state.hidden.shape == (2, HIDDEN)


@pytest.mark.parametrize('projection', [True, False])
def test_variational_unit_with_memory(projection):
  memory = _memory()
  unit = VariationalUnit(hidden_size=HIDDEN, num_dimensions=DIMS,
                         shared_memory=memory, dnc_clip_value=5.0,
                         use_dnc_linear_projection=projection)
  assert isinstance(unit.core, DNCWrapper) and unit.core.memory is memory
  state = unit.initial_state(2)
  assert isinstance(state, DNCState)
  output, new_state = unit(tf.random.normal([2, FEATURES]), state)
  assert output.loc.shape == (2, DIMS)
  assert isinstance(new_state, DNCState)
  assert new_state.access_state.memory.shape == (2, 8, 4)
  # The head sees hidden_size features with the projection, else the
  # concatenation of controller output and read words (8 + 1 * 4).
  head_w = [v for v in unit.variables if 'loc/w' in v.name][0]
  assert head_w.shape[0] == (HIDDEN if projection else HIDDEN + 4)


def _run(unit, inputs, state):
  """Steps `unit` over inputs [T, B, F]; returns outputs and states."""
  outputs, states = [], []
  for x in inputs:
    output, state = unit(x, state)
    outputs.append(output)
    states.append(state)
  return outputs, states


def test_periodic_unit_updates_every_period_steps():
  unit = PeriodicVariationalUnit(period=3, hidden_size=HIDDEN,
                                 num_dimensions=DIMS)
  state = unit.initial_state(2)
  assert isinstance(state, PeriodicRNNState)
  np.testing.assert_array_equal(state.step.numpy(), [0, 0])
  inputs = tf.random.normal([7, 2, FEATURES])
  outputs, states = _run(unit, inputs, state)
  for t in range(7):
    np.testing.assert_array_equal(states[t].step.numpy(), [t + 1, t + 1])
    assert _nests_equal(states[t].output, outputs[t])
  # Step 0 updates from the initial state; 1, 2 carry; 3 updates; ...
  assert not _nests_equal(states[0].core_state, state.core_state)
  for t, source in [(1, 0), (2, 0), (4, 3), (5, 3)]:
    assert _nests_equal(outputs[t], outputs[source])
    assert _nests_equal(states[t].core_state, states[source].core_state)
  for t, previous in [(3, 2), (6, 5)]:
    assert not np.allclose(outputs[t].loc.numpy(), outputs[previous].loc.numpy())
    assert not _nests_equal(states[t].core_state, states[previous].core_state)
  # The update at step 3 is the plain unit applied to step 2's core state.
  # (Up to float rounding: the core runs on the updating rows only, and a
  # matrix product's rounding depends on its batch size.)
  expected, _ = VariationalUnit.__call__(unit, inputs[3], states[2].core_state)
  np.testing.assert_allclose(outputs[3].loc.numpy(), expected.loc.numpy(),
                             rtol=1e-5, atol=1e-6)


def test_periodic_unit_initial_state_resets_step():
  unit = PeriodicVariationalUnit(period=2, hidden_size=HIDDEN,
                                 num_dimensions=DIMS)
  _, states = _run(unit, tf.random.normal([3, 2, FEATURES]),
                   unit.initial_state(2))
  np.testing.assert_array_equal(states[-1].step.numpy(), [3, 3])
  np.testing.assert_array_equal(unit.initial_state(2).step.numpy(), [0, 0])


def test_periodic_unit_steps_are_per_batch_element():
  unit = PeriodicVariationalUnit(period=2, hidden_size=HIDDEN,
                                 num_dimensions=DIMS)
  x = tf.random.normal([4, FEATURES])
  _, warm = unit(x, unit.initial_state(4))  # A non-initial core state.
  prev = warm._replace(step=tf.constant([0, 1, 2, 3]),
                       output=LocScaleDistributionParameters(
                           tf.random.normal([4, DIMS]),
                           tf.random.uniform([4, DIMS], 1, 2)))
  output, state = unit(x, prev)
  updated, updated_core = VariationalUnit.__call__(unit, x, prev.core_state)
  np.testing.assert_array_equal(state.step.numpy(), [1, 2, 3, 4])
  for rows, source_output, source_core in [
      ([0, 2], updated, updated_core), ([1, 3], prev.output, prev.core_state)]:
    for got, want in zip(_flat(output) + _flat(state.core_state),
                         _flat(source_output) + _flat(source_core)):
      np.testing.assert_allclose(got[rows], want[rows], rtol=1e-5, atol=1e-6)


def _whole_batch_then_select(unit, x, prev):
  """The periodic unit's step computed the plain way: the core on every row,
  then each row's result or carried value picked with tf.where."""
  new_output, new_core = VariationalUnit.__call__(unit, x, prev.core_state)
  update = tf.equal(prev.step % unit.period, 0)

  def pick(new, old):
    mask = tf.reshape(update, [-1] + [1] * (new.shape.rank - 1))
    return tf.where(mask, new, tf.cast(old, new.dtype))
  return (tree.map_structure(pick, tuple(new_output), tuple(prev.output)),
          tree.map_structure(pick, new_core, prev.core_state))


class _RowCounter:
  """Calls `core`, recording the batch size of each call (eagerly)."""

  def __init__(self, core):
    self.core = core
    self.rows = []

  def __call__(self, inputs, state):
    self.rows.append(inputs.shape[0])  # None while tracing.
    return self.core(inputs, state)


@pytest.mark.parametrize('steps', [[0, 1, 2, 3], [1, 3, 5, 7], [0, 2, 4, 6]],
                         ids=['some_rows', 'no_row', 'every_row'])
@pytest.mark.parametrize('traced', [False, True], ids=['eager', 'tf_function'])
def test_periodic_unit_runs_its_core_on_updating_rows_only(steps, traced):
  # Values and gradients (of the variables, the inputs and the carried
  # state) equal those of the whole-batch computation, with a DNC memory,
  # also when no row updates (in a graph its gradient once failed); eagerly,
  # the core is seen to run on the updating rows only (plus one).
  unit = PeriodicVariationalUnit(period=2, hidden_size=HIDDEN,
                                 num_dimensions=DIMS, shared_memory=_memory())
  x = tf.random.normal([4, FEATURES])
  _, warm = unit(x, unit.initial_state(4))  # A non-initial core state.
  prev = warm._replace(step=tf.constant(steps), output=(
      LocScaleDistributionParameters(tf.random.normal([4, DIMS]),
                                     tf.random.uniform([4, DIMS], 1, 2))))
  variables = unit.trainable_variables

  def values_and_gradients(step_fn, x, prev):
    carried = tree.flatten(prev)[:-1]  # All but the int step.
    with tf.GradientTape() as tape:
      tape.watch([x, *carried])
      values = tree.flatten(step_fn(x, prev))
      # A weight per element, so that every leaf and row counts.
      loss = sum(tf.reduce_sum(v * tf.reshape(tf.range(
          tf.size(v), dtype=v.dtype), tf.shape(v)) / 100.0) for v in values)
    return values, tape.gradient(
        loss, [*variables, x, *carried],
        unconnected_gradients=tf.UnconnectedGradients.ZERO)

  def periodic(x, prev):
    output, state = unit(x, prev)
    return tuple(output), state.core_state

  def plain(x, prev):
    return _whole_batch_then_select(unit, x, prev)

  run = (tf.function(values_and_gradients, autograph=False) if traced
         else values_and_gradients)
  want_values, want_grads = run(plain, x, prev)
  counter = _RowCounter(unit.core)
  unit._core = counter  # pylint: disable=protected-access
  got_values, got_grads = run(periodic, x, prev)
  unit._core = counter.core  # pylint: disable=protected-access
  if not traced:  # The updating rows and one padding row.
    assert counter.rows == [sum(1 for s in steps if s % 2 == 0) + 1]
  for got, want in zip(got_values + got_grads, want_values + want_grads):
    # (Dense values of IndexedSlices gradients, e.g. of gathered rows.)
    np.testing.assert_allclose(tf.convert_to_tensor(got).numpy(),
                               tf.convert_to_tensor(want).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_periodic_unit_with_variable_period_under_tf_function():
  period = tf.Variable(3, trainable=False)
  unit = PeriodicVariationalUnit(period=period, hidden_size=HIDDEN,
                                 num_dimensions=DIMS)
  step = tf.function(unit)
  x = tf.random.normal([1, FEATURES])
  _, state = step(x, unit.initial_state(1))
  state = state._replace(step=tf.constant([2]))
  out_a, _ = step(x, state)  # 2 % 3 != 0: carried.
  assert _nests_equal(out_a, state.output)
  period.assign(2)  # Population-based training changes the period.
  out_b, _ = step(x, state)  # 2 % 2 == 0: updated, without retracing.
  assert not _nests_equal(out_b, state.output)
  period.assign(0)
  with pytest.raises(tf.errors.InvalidArgumentError, match='period'):
    step(x, state)


def test_periodic_unit_dynamic_unroll_matches_static_and_gradients():
  unit = PeriodicVariationalUnit(period=2, hidden_size=HIDDEN,
                                 num_dimensions=DIMS,
                                 shared_memory=_memory())
  inputs = tf.random.normal([5, 2, FEATURES])
  state = unit.initial_state(2)
  with tf.GradientTape(persistent=True) as tape:
    static_out, _ = snt.static_unroll(unit, inputs, state)
    dynamic_out, _ = snt.dynamic_unroll(unit, inputs, state)
    losses = [tf.reduce_sum(out.loc) + tf.reduce_sum(out.scale)
              for out in (static_out, dynamic_out)]
  for a, b in zip(_flat(static_out), _flat(dynamic_out)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  for loss in losses:
    grads = tape.gradient(loss, unit.trainable_variables)
    assert len(grads) == 29  # LSTM 3, projection 2, head 4, memory 20.
    for variable, grad in zip(unit.trainable_variables, grads):
      assert grad is not None and np.any(grad.numpy() != 0), variable.name


@pytest.mark.parametrize('kwargs,argument', [
    (dict(hidden_size=0), 'hidden_size'),
    (dict(hidden_size=8.0), 'hidden_size'),
    (dict(num_dimensions=-1), 'num_dimensions'),
    (dict(shared_memory='memory'), 'shared_memory'),
    (dict(dnc_clip_value=-1.0), 'dnc_clip_value'),
    (dict(use_dnc_linear_projection='yes'), 'use_dnc_linear_projection'),
    (dict(init_scale=-0.1), 'init_scale'),
    (dict(min_scale=-1.0), 'min_scale'),
    (dict(w_init='glorot'), 'w_init'),
    (dict(name=''), 'name'),
])
def test_variational_unit_rejects_bad_arguments(kwargs, argument):
  args = dict(hidden_size=HIDDEN, num_dimensions=DIMS)
  args.update(kwargs)
  with pytest.raises(ValueError, match=argument):
    VariationalUnit(**args)
  with pytest.raises(ValueError, match=argument):
    PeriodicVariationalUnit(period=2, **args)


@pytest.mark.parametrize('period', [
    0, -3, 2.0, True, '2', None, [2],
    tf.Variable(2.0, trainable=False),
    tf.Variable([2], trainable=False),
    tf.Variable(2),  # trainable
    tf.Variable(0, trainable=False),
])
def test_periodic_unit_rejects_bad_period(period):
  with pytest.raises(ValueError, match='period'):
    PeriodicVariationalUnit(period=period, hidden_size=HIDDEN,
                            num_dimensions=DIMS)


def test_periodic_unit_rejects_wrong_state_type():
  unit = PeriodicVariationalUnit(period=2, hidden_size=HIDDEN,
                                 num_dimensions=DIMS)
  lstm_state = VariationalUnit.initial_state(unit, 1)
  with pytest.raises(ValueError, match='prev_state'):
    unit(tf.ones([1, FEATURES]), lstm_state)
