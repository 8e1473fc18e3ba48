"""A window of the last K inputs, as AgentNet's `WindowAugmentation`.

The window is `[B, K, *item_shape]` with the newest item at index 0, the one
before at index 1, and so on; pushing a new item drops the oldest. This is the
frame stack of DQN expressed as a recurrent core.
"""

from typing import NamedTuple, Sequence, Tuple, Union

import sonnet as snt
import tensorflow as tf


class WindowState(NamedTuple):
  """State of a window core.

  Attributes:
    window: `[B, K, *item_shape]`, `window[:, 0]` is the newest item; slots not
      yet written are 0.
    count: `[B]` int32, how many slots hold an item (0..K).
  """
  window: tf.Tensor
  count: tf.Tensor


def push_to_window(state: WindowState, item: tf.Tensor) -> WindowState:
  """Puts `item` `[B, *item_shape]` at index 0 and drops the oldest item."""
  window = tf.concat([item[:, tf.newaxis], state.window[:, :-1]], axis=1)
  size = tf.shape(state.window)[1]
  return WindowState(window, tf.minimum(state.count + 1, size))


def window_mask(state: WindowState) -> tf.Tensor:
  """`[B, K]` bool, True on the slots that hold an item."""
  size = tf.shape(state.window)[1]
  return tf.range(size)[tf.newaxis, :] < state.count[:, tf.newaxis]


def initial_window_state(batch_size: int, window_size: int,
                         item_shape: Sequence[int],
                         dtype: tf.DType = tf.float32) -> WindowState:
  """An empty window: zeros and count 0."""
  return WindowState(
      window=tf.zeros([batch_size, window_size, *item_shape], dtype=dtype),
      count=tf.zeros([batch_size], dtype=tf.int32))


def check_window_args(window_size, item_shape) -> Tuple[int, ...]:
  """Validates the window arguments; returns item_shape as a tuple."""
  if isinstance(window_size, bool) or not isinstance(window_size, int) or (
      window_size < 1):
    raise ValueError(f"window_size must be an int >= 1, got {window_size!r}.")
  if isinstance(item_shape, int) and not isinstance(item_shape, bool):
    item_shape = (item_shape,)
  try:
    item_shape = tuple(item_shape)
  except TypeError:
    raise ValueError("item_shape must be an int or a sequence of ints >= 1, "
                     f"got {item_shape!r}.") from None
  if not item_shape or any(
      isinstance(d, bool) or not isinstance(d, int) or d < 1
      for d in item_shape):
    raise ValueError("item_shape must be an int or a non-empty sequence of "
                     f"ints >= 1, got {item_shape!r}.")
  return item_shape


@snt.allow_empty_variables
class WindowCore(snt.RNNCore):
  """Keeps the last `window_size` inputs, newest first.

  `__call__(item [B, *item_shape], WindowState)` pushes the item and returns the
  new window `[B, K, *item_shape]` (or `[B, K * prod(item_shape)]` with
  `flatten_output=True`, for use as a flat core) and the new state.
  """

  def __init__(self, window_size: int, item_shape: Union[int, Sequence[int]],
               flatten_output: bool = False, dtype: tf.DType = tf.float32,
               name: str = "window_core"):
    """Initializes the window.

    Args:
      window_size: K, the number of items kept.
      item_shape: shape of one item without the batch dimension.
      flatten_output: if True, the output is the window flattened to `[B, -1]`.
      dtype: dtype of the items.
      name: module name.

    Raises:
      ValueError: if window_size or item_shape is not positive.
    """
    super().__init__(name=name)
    self._item_shape = check_window_args(window_size, item_shape)
    self._window_size = window_size
    self._flatten_output = flatten_output
    self._dtype = dtype

  @property
  def window_size(self) -> int:
    return self._window_size

  def initial_state(self, batch_size: int, **unused_kwargs) -> WindowState:
    return initial_window_state(batch_size, self._window_size,
                                self._item_shape, self._dtype)

  def __call__(self, inputs: tf.Tensor,
               prev_state: WindowState) -> Tuple[tf.Tensor, WindowState]:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.dtype != self._dtype:
      raise ValueError(f"inputs must have dtype {self._dtype.name}, got "
                       f"{inputs.dtype.name}.")
    if tuple(inputs.shape[1:]) != self._item_shape:
      dims = ", ".join(str(d) for d in self._item_shape)
      raise ValueError(f"inputs must have shape [B, {dims}] (batch, "
                       f"item_shape), got {inputs.shape}.")
    state = push_to_window(prev_state, inputs)
    output = state.window
    if self._flatten_output:
      output = tf.reshape(output, [tf.shape(output)[0], -1])
    return output, state
