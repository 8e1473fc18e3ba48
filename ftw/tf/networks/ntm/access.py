"""Neural Turing Machine memory access (Graves et al. 2014) as a Sonnet core.

`NTMAccess` has the call interface of the DNC's `MemoryAccess`, so
`DNCWrapper` can drive either: `__call__(inputs [B, D], prev_state)` returns
`(read_words [B, num_reads, word_size], NTMState)`.

Each step, per head, the controller output is mapped linearly to a key
(W), a key strength beta = softplus (>= 0), an interpolation gate g =
sigmoid, a shift distribution = softmax over 2 * shift_range + 1 offsets and
a sharpening exponent gamma = 1 + softplus (>= 1); write heads also emit an
erase vector e = sigmoid (W) and an add vector a (W). The write heads address
and write first, then the read heads address and read the written memory:

  M <- M * prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T
  r_h = w_h^T M
"""

from typing import NamedTuple

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.ntm import addressing


class NTMState(NamedTuple):
  """State of `NTMAccess`.

  memory: [B, memory_size, word_size].
  read_weights: [B, num_reads, memory_size], each row sums to 1.
  write_weights: [B, num_writes, memory_size], each row sums to 1.
  """
  memory: tf.Tensor
  read_weights: tf.Tensor
  write_weights: tf.Tensor


def _check_size(name: str, value, minimum: int = 1):
  if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
    raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")


def erase_and_add(memory: tf.Tensor, weights: tf.Tensor, erase: tf.Tensor,
                  add: tf.Tensor) -> tf.Tensor:
  """NTM write: M * prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T.

  Args:
    memory: [B, N, W].
    weights: [B, H, N] write weightings.
    erase: [B, H, W] in [0, 1].
    add: [B, H, W].

  Returns:
    The written memory, [B, N, W].
  """
  keep = 1.0 - weights[..., tf.newaxis] * erase[:, :, tf.newaxis, :]  # [B, H, N, W]
  memory = memory * tf.reduce_prod(keep, axis=1)
  return memory + tf.matmul(weights, add, transpose_a=True)


class NTMAccess(snt.RNNCore):
  """NTM memory with content + location addressing, read and write heads."""

  def __init__(self, memory_size: int = 128, word_size: int = 20,
               num_reads: int = 1, num_writes: int = 1, shift_range: int = 1,
               name: str = "ntm_access"):
    """Creates the access module (its variables are made on first call).

    Args:
      memory_size: number of memory slots N.
      word_size: width W of each slot.
      num_reads: number of read heads.
      num_writes: number of write heads.
      shift_range: largest shift offset; offsets -shift_range .. shift_range.
        2 * shift_range + 1 must not exceed memory_size.
      name: module name.

    Raises:
      ValueError: on a non-positive size or a shift range too large.
    """
    super().__init__(name=name)
    _check_size("memory_size", memory_size)
    _check_size("word_size", word_size)
    _check_size("num_reads", num_reads)
    _check_size("num_writes", num_writes)
    _check_size("shift_range", shift_range, minimum=0)
    if 2 * shift_range + 1 > memory_size:
      raise ValueError(f"shift_range must satisfy 2 * shift_range + 1 <= memory_size"
                       f" ({memory_size}), got {shift_range}.")
    self._memory_size = memory_size
    self._word_size = word_size
    self._num_reads = num_reads
    self._num_writes = num_writes
    self._num_shifts = 2 * shift_range + 1
    # key, strength, gate, shifts, gamma (+ erase, add for write heads).
    address_size = word_size + 3 + self._num_shifts
    self._read_params = snt.Linear(num_reads * address_size, name="read_params")
    self._write_params = snt.Linear(num_writes * (address_size + 2 * word_size),
                                    name="write_params")

  @property
  def output_size(self) -> tf.TensorShape:
    return tf.TensorShape([self._num_reads, self._word_size])

  @property
  def state_size(self) -> NTMState:
    return NTMState(
        memory=tf.TensorShape([self._memory_size, self._word_size]),
        read_weights=tf.TensorShape([self._num_reads, self._memory_size]),
        write_weights=tf.TensorShape([self._num_writes, self._memory_size]))

  @property
  def memory_size(self) -> int:
    return self._memory_size

  @property
  def word_size(self) -> int:
    return self._word_size

  @property
  def num_reads(self) -> int:
    return self._num_reads

  @property
  def num_writes(self) -> int:
    return self._num_writes

  def initial_state(self, batch_size: int, **unused_kwargs) -> NTMState:
    """Zero memory; every head starts focused on slot 0.

    Starting one-hot (rather than uniform) lets a head walk the slots in order
    by shifting from the start, which is how the NTM solves copy.
    """
    def focused(num_heads):
      one_hot = tf.one_hot(0, self._memory_size, dtype=tf.float32)
      return tf.tile(one_hot[tf.newaxis, tf.newaxis], [batch_size, num_heads, 1])

    return NTMState(
        memory=tf.zeros([batch_size, self._memory_size, self._word_size]),
        read_weights=focused(self._num_reads),
        write_weights=focused(self._num_writes))

  def _address_params(self, params: tf.Tensor, num_heads: int):
    """Splits [B, heads * size] into per-head addressing parameters."""
    params = tf.reshape(params, [-1, num_heads, params.shape[-1] // num_heads])
    w, s = self._word_size, self._num_shifts
    keys = params[..., :w]
    strengths = tf.nn.softplus(params[..., w])
    gate = tf.sigmoid(params[..., w + 1])
    gamma = 1.0 + tf.nn.softplus(params[..., w + 2])
    shifts = tf.nn.softmax(params[..., w + 3:w + 3 + s], axis=-1)
    rest = params[..., w + 3 + s:]
    return (keys, strengths, gate, shifts, gamma), rest

  def __call__(self, inputs: tf.Tensor, prev_state: NTMState):
    """One step: write, then read.

    Args:
      inputs: [B, D] controller output.
      prev_state: `NTMState` of the previous step.

    Returns:
      (read_words [B, num_reads, word_size], next `NTMState`).
    """
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 2:
      raise ValueError(f"inputs must have rank 2 ([B, D]), got shape {inputs.shape}.")
    memory = prev_state.memory

    write_address, write_rest = self._address_params(
        self._write_params(inputs), self._num_writes)
    write_weights = addressing.address(memory, prev_state.write_weights, *write_address)
    erase = tf.sigmoid(write_rest[..., :self._word_size])  # [B, Hw, W]
    add = write_rest[..., self._word_size:]                 # [B, Hw, W]
    memory = erase_and_add(memory, write_weights, erase, add)

    read_address, _ = self._address_params(self._read_params(inputs), self._num_reads)
    read_weights = addressing.address(memory, prev_state.read_weights, *read_address)
    read_words = tf.matmul(read_weights, memory)
    return read_words, NTMState(memory=memory, read_weights=read_weights,
                                write_weights=write_weights)
