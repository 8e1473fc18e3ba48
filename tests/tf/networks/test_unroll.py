"""unroll.dynamic_unroll: the same outputs, final state and gradients as
snt.dynamic_unroll (its reference), eagerly and under tf.function without
AutoGraph, for nested inputs/outputs and an unknown T; bad input named."""

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks import unroll
from ftw.tf.networks.rpth import RPTH
from ftw.tf.networks.rpth import RPTHInput

T, B = 6, 3


class PairCore(snt.RNNCore):
  """Nested inputs (a, b) and outputs {'sum', 'lstm'} around an LSTM."""

  def __init__(self):
    super().__init__()
    self._lstm = snt.LSTM(5)

  def __call__(self, inputs, prev_state):
    a, b = inputs
    out, state = self._lstm(tf.concat([a, b], -1), prev_state)
    return {"lstm": out, "sum": tf.reduce_sum(a, -1) + b[:, 0]}, state

  def initial_state(self, batch_size):
    return self._lstm.initial_state(batch_size)


def _inputs(seed=0):
  rng = np.random.default_rng(seed)
  return (tf.constant(rng.normal(size=(T, B, 4)), tf.float32),
          tf.constant(rng.normal(size=(T, B, 2)), tf.float32))


def _assert_same(ours, reference):
  tf.nest.map_structure(
      lambda x, y: np.testing.assert_allclose(x.numpy(), y.numpy(),
                                              rtol=1e-5, atol=1e-6),
      ours, reference)


def test_eager_outputs_and_state_match_sonnet():
  core = PairCore()
  inputs = _inputs()
  ours = unroll.dynamic_unroll(core, inputs, core.initial_state(B))
  reference = snt.dynamic_unroll(core, inputs, core.initial_state(B))
  _assert_same(ours, reference)
  assert ours[0]["lstm"].shape == (T, B, 5) and ours[0]["sum"].shape == (T, B)


def test_without_autograph_and_with_unknown_time_matches_sonnet():
  core = PairCore()
  inputs = _inputs(1)
  spec = tf.TensorSpec([None, B, None], tf.float32)

  @tf.function(autograph=False, input_signature=[(spec, spec)])
  def ours(x):
    return unroll.dynamic_unroll(core, x, core.initial_state(B))

  reference = snt.dynamic_unroll(core, inputs, core.initial_state(B))
  _assert_same(ours(inputs), reference)
  short = tf.nest.map_structure(lambda x: x[:2], inputs)
  _assert_same(ours(short),
               snt.dynamic_unroll(core, short, core.initial_state(B)))


def test_traced_unroll_puts_the_core_in_the_graph_once():
  # Only the loop's body holds the core: a step 0 outside the loop would
  # trace it (and, under a tape, its gradient) a second time.
  core = PairCore()
  inputs = _inputs(2)

  @tf.function(autograph=False)
  def loss(x):
    with tf.GradientTape() as tape:
      outputs, _ = unroll.dynamic_unroll(core, x, core.initial_state(B))
      total = tf.reduce_sum(outputs["lstm"]) + tf.reduce_sum(outputs["sum"])
    return tape.gradient(total, core.trainable_variables)

  graph = loss.get_concrete_function(inputs).graph
  # The LSTM's matmuls (forward and gradient) live in the loops' functions.
  assert [op.type for op in graph.get_operations()].count("MatMul") == 0
  assert all(g is not None for g in loss(inputs))


def test_gradients_of_an_rpth_unroll_match_sonnet_on_every_variable():
  core = RPTH(hidden_size=8, num_dimensions=4, period=2)
  embeddings = tf.random.stateless_normal([T, B, 7], seed=[1, 2])
  noise = tf.random.stateless_normal([T, B, 4], seed=[3, 4])
  inputs = RPTHInput(embeddings, noise)
  core(RPTHInput(embeddings[0], noise[0]), core.initial_state(B))  # build

  def grads(unroll_fn):
    with tf.GradientTape() as tape:
      outputs, _ = unroll_fn(core, inputs, core.initial_state(B))
      loss = sum(tf.reduce_sum(tf.square(x))
                 for x in tf.nest.flatten(outputs))
    return tape.gradient(loss, core.trainable_variables)

  ours = tf.function(lambda: grads(unroll.dynamic_unroll), autograph=False)()
  reference = grads(snt.dynamic_unroll)
  assert len(ours) == len(core.trainable_variables) > 0
  for g, r, v in zip(ours, reference, core.trainable_variables):
    assert g is not None, v.name
    assert np.any(g.numpy() != 0), v.name
    np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-4, atol=1e-6,
                               err_msg=v.name)


def test_a_single_step_sequence():
  core = PairCore()
  inputs = tf.nest.map_structure(lambda x: x[:1], _inputs())
  outputs, state = unroll.dynamic_unroll(core, inputs, core.initial_state(B))
  step_out, step_state = core(tf.nest.map_structure(lambda x: x[0], inputs),
                              core.initial_state(B))
  _assert_same((outputs["lstm"][0], state), (step_out["lstm"], step_state))


@pytest.mark.parametrize("inputs, message", [
    ((), "no tensors"),
    (tf.constant(1.0), "time-major"),
    ((tf.zeros([3, B, 4]), tf.zeros([4, B, 2])), "disagree on T"),
    ((tf.zeros([0, B, 4]), tf.zeros([0, B, 2])), "T = 0"),
])
def test_bad_input_sequences_are_named(inputs, message):
  core = PairCore()
  with pytest.raises(ValueError, match=message):
    unroll.dynamic_unroll(core, inputs, core.initial_state(B))
