"""Sequence models for the memory tasks: DNC, NTM or plain LSTM cores.

Every model maps time-major inputs [T, B, input_size] to logits
[T, B, num_outputs]. The DNC and NTM models are a `DNCWrapper` (LSTM
controller + memory access + linear output layer); the LSTM model is an LSTM
with a linear head.
"""

from typing import List, NamedTuple, Optional, Tuple

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.dnc.access import MemoryAccess
from ftw.tf.networks.dnc_wrapper import DNCWrapper
from ftw.tf.networks.ntm import NTMAccess
from ftw.tf.networks import unroll

CORES = ("dnc", "ntm", "lstm")


class MemorySizes(NamedTuple):
  """Sizes of a model: controller width and memory geometry."""
  hidden_size: int = 64
  memory_size: int = 16
  word_size: int = 16
  num_reads: int = 1
  num_writes: int = 1
  clip_value: Optional[float] = 20.0


def _wrap(lstm, memory, output_layer, clip_value, name) -> DNCWrapper:
  return DNCWrapper(lstm, memory, output_layer=output_layer,
                    clip_value=clip_value, name=name)


class LSTMWithHead(snt.RNNCore):
  """An LSTM whose output goes through a linear layer."""

  def __init__(self, hidden_size: int, num_outputs: int, name: str = "lstm_core"):
    super().__init__(name=name)
    self.lstm = snt.LSTM(hidden_size, name="lstm")
    self.head = snt.Linear(num_outputs, name="head")

  def __call__(self, inputs, prev_state):
    output, state = self.lstm(inputs, prev_state)
    return self.head(output), state

  def initial_state(self, batch_size: int, **unused_kwargs):
    return self.lstm.initial_state(batch_size)


def make_core(core: str, num_outputs: int, sizes: MemorySizes) -> snt.RNNCore:
  """Builds the recurrent core named `core` ('dnc', 'ntm' or 'lstm')."""
  if core not in CORES:
    raise ValueError(f"core must be one of {CORES}, got {core!r}.")
  if core == "lstm":
    return LSTMWithHead(sizes.hidden_size, num_outputs)
  if core == "dnc":
    memory = MemoryAccess(sizes.memory_size, sizes.word_size, sizes.num_reads,
                          sizes.num_writes)
  else:
    memory = NTMAccess(sizes.memory_size, sizes.word_size, sizes.num_reads,
                       sizes.num_writes)
  return _wrap(snt.LSTM(sizes.hidden_size, name="controller"), memory,
               snt.Linear(num_outputs, name="output"), sizes.clip_value,
               name=f"{core}_core")


class SequenceModel(snt.Module):
  """Unrolls a core over [T, B, D] inputs into [T, B, num_outputs] logits."""

  def __init__(self, core: str, num_outputs: int, sizes: MemorySizes = MemorySizes(),
               name: str = "sequence_model"):
    super().__init__(name=name)
    self.core_name = core
    self.core = make_core(core, num_outputs, sizes)

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    state = self.core.initial_state(tf.shape(inputs)[1])
    logits, _ = unroll.dynamic_unroll(self.core, inputs, state)
    return logits

  def trace(self, inputs) -> Tuple[np.ndarray, List]:
    """Eager step-by-step unroll keeping every state, for plots.

    Returns:
      (logits [T, B, num_outputs] numpy, list of T core states).
    """
    inputs = tf.convert_to_tensor(inputs, tf.float32)
    state = self.core.initial_state(inputs.shape[1])
    logits, states = [], []
    for t in range(inputs.shape[0]):
      output, state = self.core(inputs[t], state)
      logits.append(output.numpy())
      states.append(state)
    return np.stack(logits), states
