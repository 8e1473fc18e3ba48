"""Unrolling an RNN core through time without AutoGraph.

`dynamic_unroll(core, input_sequence, initial_state)` has the contract of
`snt.dynamic_unroll` (time-major `[T, B, ...]` nests in, `[T, B, ...]`
outputs and the state after the last step out) and is built from
`tf.while_loop` and `tf.TensorArray` directly.

Why not `snt.dynamic_unroll`: Sonnet writes its loop as a Python `for` over
`tf.range` and runs it through AutoGraph, which then converts the source of
every function the core calls (DNC addressing, RPTH, LSTMs, ...) while
tracing. Measured on the FTW learner (RPTH + DNC, this repository's
`tf.function` steps with `autograph=False`): most of its first-step time
was that source conversion. The loop below converts nothing, so callers may
use `tf.function(..., autograph=False)`. Sonnet runs the first step outside
its loop to learn the output structure; traced, that puts the core and its
gradient into the graph twice (on the FTW learner, a third of its step's
top-level ops), so here the structure comes from a forward-only trace in a
scratch graph and all T steps run in the loop.
"""

from typing import Any, Tuple

import tensorflow as tf


def dynamic_unroll(core, input_sequence: Any, initial_state: Any,
                   parallel_iterations: int = 1) -> Tuple[Any, Any]:
  """Applies `core` to each time step of `input_sequence`.

  Args:
    core: a callable `(inputs, prev_state) -> (outputs, state)`, e.g. an
      `snt.RNNCore`.
    input_sequence: a nest of tensors `[T, B, ...]` (T >= 1, the same T in
      every leaf).
    initial_state: the core's state before the first step (batch size B).
    parallel_iterations: passed to `tf.while_loop`.

  Returns:
    (outputs, final_state): `outputs` a nest of `[T, B, ...]` tensors with
    the structure of the core's output, `final_state` the state after step
    T - 1.

  Raises:
    ValueError: `input_sequence` has no tensors, a leaf has rank 0, or the
      leaves disagree on T (when known while tracing).
  """
  flat_inputs = [tf.convert_to_tensor(x) for x in tf.nest.flatten(
      input_sequence)]
  if not flat_inputs:
    raise ValueError("input_sequence has no tensors to unroll over")
  if any(x.shape.rank == 0 for x in flat_inputs):
    raise ValueError("input_sequence leaves must be time-major [T, B, ...]; "
                     f"got shapes {[x.shape for x in flat_inputs]}")
  lengths = {x.shape[0] for x in flat_inputs} - {None}
  if len(lengths) > 1:
    raise ValueError("input_sequence leaves disagree on T (axis 0): "
                     f"{[x.shape for x in flat_inputs]}")
  if lengths == {0}:
    raise ValueError("input_sequence has T = 0 time steps")
  num_steps = lengths.pop() if lengths else tf.shape(flat_inputs[0])[0]

  input_arrays = [
      tf.TensorArray(x.dtype, size=num_steps,
                     element_shape=x.shape[1:]).unstack(x)
      for x in flat_inputs]

  def inputs_at(t):
    return tf.nest.pack_sequence_as(input_sequence,
                                    [a.read(t) for a in input_arrays])

  if tf.executing_eagerly():
    # Eagerly nothing is traced: run step 0 here, as Sonnet does.
    first_outputs, state = core(inputs_at(0), initial_state)
    output_spec = tf.nest.map_structure(tf.TensorSpec.from_tensor,
                                        first_outputs)
    start = 1
  else:
    # While tracing, a step 0 outside the loop would put a second copy of
    # the core (and of its gradient) into the caller's graph; the output
    # structure comes from a forward-only trace in a scratch graph instead,
    # and every step runs in the loop.
    output_spec = _output_spec(core, inputs_at(0), initial_state)
    state = initial_state
    start = 0
  output_arrays = [
      tf.TensorArray(spec.dtype, size=num_steps, element_shape=spec.shape)
      for spec in tf.nest.flatten(output_spec)]
  if start:
    output_arrays = [a.write(0, o) for a, o in zip(
        output_arrays, tf.nest.flatten(first_outputs))]

  def body(t, state, arrays):
    outputs, state = core(inputs_at(t), state)
    arrays = [a.write(t, o) for a, o in zip(arrays, tf.nest.flatten(outputs))]
    return t + 1, state, arrays

  _, final_state, output_arrays = tf.while_loop(
      lambda t, *_: t < num_steps, body,
      (tf.constant(start), state, output_arrays),
      parallel_iterations=parallel_iterations,
      maximum_iterations=num_steps)
  outputs = tf.nest.pack_sequence_as(
      output_spec, [a.stack() for a in output_arrays])
  return outputs, final_state


def _output_spec(core, inputs: Any, state: Any) -> Any:
  """The nest of `tf.TensorSpec`s of one step's outputs, from a trace of
  `core` in a graph of its own (creating its variables if it has none)."""
  step = tf.function(lambda x, s: core(x, s)[0], autograph=False)
  specs = tf.nest.map_structure(
      lambda x: tf.TensorSpec.from_tensor(tf.convert_to_tensor(x)),
      (inputs, state))
  return tf.nest.map_structure(
      lambda o: tf.TensorSpec.from_tensor(o),
      step.get_concrete_function(*specs).structured_outputs)
