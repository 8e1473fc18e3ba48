"""A differentiable stack memory and a stack-augmented RNN.

Joulin & Mikolov 2015, "Inferring Algorithmic Patterns with Stack-Augmented
Recurrent Nets" (https://arxiv.org/abs/1503.01007), in the form of AgentNet's
`StackAugmentation`: the stack is a `[B, depth, item_size]` tensor whose row 0
is the top; each step it becomes a mixture of its pushed, popped and unchanged
versions, weighted by the push / pop / no-op probabilities.
"""

from typing import Callable, NamedTuple, Tuple, Union

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.argument_checks import check_positive_int

# Column order of the controls, as in AgentNet: PUSH_OP, POP_OP, NO_OP.
PUSH, POP, NO_OP = 0, 1, 2
NUM_CONTROLS = 3


class StackState(NamedTuple):
  """State of `StackAugmentation`.

  Attributes:
    stack: `[B, depth, item_size]`; `stack[:, 0]` is the top, empty rows are 0.
  """
  stack: tf.Tensor


class StackRNNState(NamedTuple):
  """State of `StackRNN`: the controller's state and the stack `[B, depth, D]`."""
  controller: Union[tf.Tensor, snt.LSTMState]
  stack: tf.Tensor


def update_stack(stack: tf.Tensor, controls: tf.Tensor,
                 value: tf.Tensor) -> tf.Tensor:
  """One soft stack step.

  new = p_push * [value, stack[:-1]] + p_pop * [stack[1:], 0] + p_noop * stack.
  What falls off the bottom on a push is lost; a pop fills the bottom with 0.

  Args:
    stack: `[B, depth, D]`, row 0 is the top.
    controls: `[B, 3]` probabilities of (push, pop, no-op), summing to 1.
    value: `[B, D]` the item a push puts on top.

  Returns:
    The new stack, `[B, depth, D]`.
  """
  controls = controls[:, :, tf.newaxis, tf.newaxis]  # [B, 3, 1, 1]
  value = value[:, tf.newaxis]
  pushed = tf.concat([value, stack[:, :-1]], axis=1)
  popped = tf.concat([stack[:, 1:], tf.zeros_like(stack[:, :1])], axis=1)
  return (controls[:, PUSH] * pushed + controls[:, POP] * popped +
          controls[:, NO_OP] * stack)


@snt.allow_empty_variables
class StackAugmentation(snt.RNNCore):
  """A differentiable stack as an RNN core; it has no variables.

  `__call__((controls [B, 3], value [B, D]), StackState)` returns the new top
  `[B, D]` and the new state.
  """

  def __init__(self, stack_depth: int, item_size: int,
               controls_are_logits: bool = False,
               name: str = "stack_augmentation"):
    """Initializes the stack.

    Args:
      stack_depth: number of items the stack holds.
      item_size: size D of one item.
      controls_are_logits: if True, the controls are logits and get a softmax;
        otherwise they must already be probabilities summing to 1.
      name: module name.

    Raises:
      ValueError: if a size is not an int >= 1.
    """
    super().__init__(name=name)
    check_positive_int("stack_depth", stack_depth)
    check_positive_int("item_size", item_size)
    self._depth = stack_depth
    self._item_size = item_size
    self._controls_are_logits = controls_are_logits

  @property
  def stack_depth(self) -> int:
    return self._depth

  @property
  def item_size(self) -> int:
    return self._item_size

  def initial_state(self, batch_size: int, **unused_kwargs) -> StackState:
    return StackState(tf.zeros([batch_size, self._depth, self._item_size]))

  def __call__(self, inputs: Tuple[tf.Tensor, tf.Tensor],
               prev_state: StackState) -> Tuple[tf.Tensor, StackState]:
    if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
      raise ValueError("inputs must be a pair (controls [B, 3], value [B, "
                       f"{self._item_size}]), got {type(inputs).__name__}.")
    controls, value = (tf.convert_to_tensor(x) for x in inputs)
    if controls.shape.rank != 2 or controls.shape[-1] != NUM_CONTROLS:
      raise ValueError("controls must have shape [B, 3] (push, pop, no-op), "
                       f"got {controls.shape}.")
    if value.shape.rank != 2 or value.shape[-1] != self._item_size:
      raise ValueError(f"value must have shape [B, {self._item_size}], "
                       f"got {value.shape}.")
    stack = prev_state.stack
    expected = [None, self._depth, self._item_size]
    if not stack.shape.is_compatible_with(expected):
      raise ValueError(f"prev_state.stack must have shape [B, {self._depth}, "
                       f"{self._item_size}], got {stack.shape}.")
    if self._controls_are_logits:
      controls = tf.nn.softmax(controls, axis=-1)
    new_stack = update_stack(stack, controls, value)
    return new_stack[:, 0], StackState(new_stack)


class StackRNN(snt.RNNCore):
  """A recurrent controller with a differentiable stack (Joulin & Mikolov).

  Each step the controller reads its input `[B, D_in]` and the top
  `read_depth` items of the previous stack; from its output `h` a linear
  layer gives the push / pop / no-op probabilities (softmax) and another the
  value to push. Setting the attribute `discretize_controls = True` replaces
  the probabilities by a one-hot of the most likely action (for evaluation;
  read when the call is traced, and it blocks the controls' gradient). The
  core's output is `concat(h, new top)`, of size
  `hidden_size + item_size`, so it can stand in for any flat-input core.
  """

  def __init__(self, hidden_size: int, stack_depth: int, item_size: int,
               read_depth: int = 1, controller: str = "rnn",
               push_activation: Callable[[tf.Tensor], tf.Tensor] = tf.tanh,
               discretize_controls: bool = False,
               name: str = "stack_rnn"):
    """Initializes the stack RNN.

    Args:
      hidden_size: controller size.
      stack_depth: number of items the stack holds.
      item_size: size of one stack item.
      read_depth: how many top items the controller reads (1..stack_depth).
      controller: "rnn" (tanh, as in the paper) or "lstm".
      push_activation: applied to the pushed value.
      discretize_controls: initial value of the `discretize_controls`
        attribute (see the class docstring).
      name: module name.

    Raises:
      ValueError: on a non-positive size, read_depth > stack_depth or an
        unknown controller.
    """
    super().__init__(name=name)
    check_positive_int("hidden_size", hidden_size)
    check_positive_int("read_depth", read_depth)
    self._stack = StackAugmentation(stack_depth, item_size)
    if read_depth > stack_depth:
      raise ValueError(f"read_depth must be <= stack_depth={stack_depth}, "
                       f"got {read_depth}.")
    if controller == "rnn":
      self._controller = snt.VanillaRNN(hidden_size, name="controller")
    elif controller == "lstm":
      self._controller = snt.LSTM(hidden_size, name="controller")
    else:
      raise ValueError(f"controller must be 'rnn' or 'lstm', got {controller!r}.")
    self._hidden_size = hidden_size
    self._item_size = item_size
    self._read_depth = read_depth
    self._controls = snt.Linear(NUM_CONTROLS, name="controls")
    self._push_value = snt.Linear(item_size, name="push_value")
    self._push_activation = push_activation
    self.discretize_controls = discretize_controls

  @property
  def output_size(self) -> int:
    return self._hidden_size + self._item_size

  def initial_state(self, batch_size: int, **unused_kwargs) -> StackRNNState:
    return StackRNNState(
        controller=self._controller.initial_state(batch_size),
        stack=self._stack.initial_state(batch_size).stack)

  def __call__(self, inputs: tf.Tensor,
               prev_state: StackRNNState) -> Tuple[tf.Tensor, StackRNNState]:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 2:
      raise ValueError(f"inputs must have shape [B, D], got {inputs.shape}.")
    read = tf.reshape(prev_state.stack[:, :self._read_depth],
                      [-1, self._read_depth * self._item_size])
    hidden, controller_state = self._controller(
        tf.concat([inputs, read], axis=-1), prev_state.controller)
    controls = tf.nn.softmax(self._controls(hidden), axis=-1)
    if self.discretize_controls:
      # Joulin & Mikolov round the actions at test time: the most likely one.
      controls = tf.one_hot(tf.argmax(controls, axis=-1), NUM_CONTROLS,
                            dtype=controls.dtype)
    value = self._push_activation(self._push_value(hidden))
    top, stack_state = self._stack((controls, value),
                                   StackState(prev_state.stack))
    output = tf.concat([hidden, top], axis=-1)
    return output, StackRNNState(controller_state, stack_state.stack)
