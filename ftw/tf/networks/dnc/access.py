"""DNC memory access core (Graves et al. 2016) for Sonnet 2.

`MemoryAccess` reads an interface vector from its input, updates usage,
writes (content + allocation addressing, erase then add), updates the
temporal links, then reads (content + forward/backward link addressing).
Shapes follow deepmind/dnc: B batch, N memory size, W word size,
R read heads, K write heads.
"""

import collections

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks import argument_checks
from ftw.tf.networks.dnc import addressing

AccessState = collections.namedtuple(
    'AccessState',
    ('memory', 'read_weights', 'write_weights', 'linkage', 'usage'))

# The controls read from the input each step (the paper's interface vector).
MemoryInterface = collections.namedtuple('MemoryInterface', (
    'read_keys',          # [B, R, W]
    'read_strengths',     # [B, R] raw, softplus applied in CosineWeights
    'write_keys',         # [B, K, W]
    'write_strengths',    # [B, K] raw
    'write_vectors',      # [B, K, W] v_t
    'erase_vectors',      # [B, K, W] e_t in [0, 1]
    'free_gate',          # [B, R] f_t in [0, 1]
    'allocation_gate',    # [B, K] g^a_t in [0, 1]
    'write_gate',         # [B, K] g^w_t in [0, 1]
    'read_mode',          # [B, R, 2K + 1]: backward K, forward K, content 1
))


def erase_and_write(memory: tf.Tensor, address: tf.Tensor,
                    erase_vectors: tf.Tensor, values: tf.Tensor) -> tf.Tensor:
  """M_t = M_{t-1} * prod_k (1 - w^k e^k^T) + sum_k w^k v^k^T.

  Args:
    memory: [B, N, W] memory M_{t-1}.
    address: [B, K, N] write weights.
    erase_vectors: [B, K, W] erase vectors in [0, 1].
    values: [B, K, W] write vectors.

  Returns:
    [B, N, W] memory M_t.
  """
  weighted_erase = tf.expand_dims(address, 3) * tf.expand_dims(erase_vectors, 2)
  memory = memory * addressing.product(1 - weighted_erase, axis=1)
  return memory + tf.matmul(address, values, adjoint_a=True)


class MemoryAccess(snt.RNNCore):
  """Access module of the DNC: multiple read and write heads over one memory.

  The module owns only the linear layers mapping its input to the interface
  vector; the memory lives in the state, so several controllers can share
  one module (and its weights) and pass the state between them.
  """

  def __init__(self, memory_size: int = 128, word_size: int = 20,
               num_reads: int = 1, num_writes: int = 1,
               name: str = 'memory_access'):
    """Initializes the module.

    Args:
      memory_size: number of memory slots N.
      word_size: width W of each slot.
      num_reads: number of read heads R.
      num_writes: number of write heads K (1 in the paper).
      name: module name.

    Raises:
      ValueError: if an argument is not a positive int.
    """
    super().__init__(name=name)
    check = argument_checks.check_positive_int
    self._memory_size = check('memory_size', memory_size)
    self._word_size = check('word_size', word_size)
    self._num_reads = check('num_reads', num_reads)
    self._num_writes = check('num_writes', num_writes)
    r, k, w = self._num_reads, self._num_writes, self._word_size

    self._write_content_weights = addressing.CosineWeights(
        k, w, name='write_content_weights')
    self._read_content_weights = addressing.CosineWeights(
        r, w, name='read_content_weights')
    self._linkage = addressing.TemporalLinkage(self._memory_size, k)
    self._freeness = addressing.Freeness(self._memory_size)

    # Interface layers; Sonnet creates their variables on the first call.
    with self.name_scope:
      self._layers = {
          'read_keys': snt.Linear(r * w, name='read_keys'),
          'read_strengths': snt.Linear(r, name='read_strengths'),
          'write_keys': snt.Linear(k * w, name='write_keys'),
          'write_strengths': snt.Linear(k, name='write_strengths'),
          'write_vectors': snt.Linear(k * w, name='write_vectors'),
          'erase_vectors': snt.Linear(k * w, name='erase_vectors'),
          'free_gate': snt.Linear(r, name='free_gate'),
          'allocation_gate': snt.Linear(k, name='allocation_gate'),
          'write_gate': snt.Linear(k, name='write_gate'),
          'read_mode': snt.Linear(r * (2 * k + 1), name='read_mode'),
      }

  def __call__(self, inputs: tf.Tensor,
               prev_state: AccessState) -> tuple[tf.Tensor, AccessState]:
    """Performs one step of memory access.

    Args:
      inputs: [B, D] controller output driving the memory.
      prev_state: `AccessState` of the previous step.

    Returns:
      (read_words [B, R, W], new `AccessState`).
    """
    return self.access(self.interface(inputs), prev_state)

  def interface(self, inputs: tf.Tensor) -> MemoryInterface:
    """Maps [B, D] inputs to the `MemoryInterface` controls."""
    inputs = addressing.check_rank(inputs, 2, 'inputs', '[batch, features]')
    if inputs.shape.rank != 2:
      raise ValueError(
          f'inputs must have shape [batch, features], got {inputs.shape}.')
    r, k, w = self._num_reads, self._num_writes, self._word_size

    def linear(key, shape=None, activation=None):
      out = self._layers[key](inputs)
      if activation is not None:
        out = activation(out)
      return out if shape is None else tf.reshape(out, [-1, *shape])

    return MemoryInterface(
        read_keys=linear('read_keys', [r, w]),
        read_strengths=linear('read_strengths'),
        write_keys=linear('write_keys', [k, w]),
        write_strengths=linear('write_strengths'),
        write_vectors=linear('write_vectors', [k, w]),
        erase_vectors=linear('erase_vectors', [k, w], tf.sigmoid),
        free_gate=linear('free_gate', None, tf.sigmoid),
        allocation_gate=linear('allocation_gate', None, tf.sigmoid),
        write_gate=linear('write_gate', None, tf.sigmoid),
        read_mode=addressing.softmax(linear('read_mode', [r, 2 * k + 1])))

  def access(self, interface: MemoryInterface,
             prev_state: AccessState) -> tuple[tf.Tensor, AccessState]:
    """Usage update, write, link update and read given explicit controls."""
    if not isinstance(prev_state, AccessState):
      raise ValueError(
          f'prev_state must be an AccessState, got {type(prev_state)}.')
    prev_state = tf.nest.map_structure(addressing.as_tensor, prev_state)
    interface = tf.nest.map_structure(addressing.as_tensor, interface)
    usage = self._freeness(
        write_weights=prev_state.write_weights,
        free_gate=interface.free_gate,
        read_weights=prev_state.read_weights,
        prev_usage=prev_state.usage)

    write_weights = self._write_weights(interface, prev_state.memory, usage)
    memory = erase_and_write(prev_state.memory, write_weights,
                             interface.erase_vectors, interface.write_vectors)
    linkage = self._linkage(write_weights, prev_state.linkage)

    read_weights = self._read_weights(interface, memory,
                                      prev_state.read_weights, linkage.link)
    read_words = tf.matmul(read_weights, memory)
    return read_words, AccessState(
        memory=memory, read_weights=read_weights, write_weights=write_weights,
        linkage=linkage, usage=usage)

  def _write_weights(self, interface: MemoryInterface, memory: tf.Tensor,
                     usage: tf.Tensor) -> tf.Tensor:
    """w^w = g^w (g^a a + (1 - g^a) c^w), [B, K, N]."""
    content = self._write_content_weights(
        memory, interface.write_keys, interface.write_strengths)
    allocation = self._freeness.write_allocation_weights(
        usage, interface.allocation_gate * interface.write_gate,
        self._num_writes)
    alloc_gate = tf.expand_dims(interface.allocation_gate, -1)
    write_gate = tf.expand_dims(interface.write_gate, -1)
    return write_gate * (alloc_gate * allocation + (1 - alloc_gate) * content)

  def _read_weights(self, interface: MemoryInterface, memory: tf.Tensor,
                    prev_read_weights: tf.Tensor, link: tf.Tensor) -> tf.Tensor:
    """w^r = pi_content c^r + sum_k (pi_fwd^k f^k + pi_bwd^k b^k), [B, R, N]."""
    k = self._num_writes
    content = self._read_content_weights(
        memory, interface.read_keys, interface.read_strengths)
    forward = self._linkage.directional_read_weights(
        link, prev_read_weights, forward=True)  # [B, R, K, N]
    backward = self._linkage.directional_read_weights(
        link, prev_read_weights, forward=False)
    mode = interface.read_mode
    backward_mode = tf.expand_dims(mode[:, :, :k], -1)
    forward_mode = tf.expand_dims(mode[:, :, k:2 * k], -1)
    content_mode = mode[:, :, 2 * k:]
    return (content_mode * content
            + tf.reduce_sum(forward_mode * forward, axis=2)
            + tf.reduce_sum(backward_mode * backward, axis=2))

  def initial_state(self, batch_size: int,
                    dtype: tf.DType = tf.float32) -> AccessState:
    """All-zero state: empty memory, no reads, writes, links or usage."""
    def zeros(shape):
      return tf.zeros([batch_size, *shape.as_list()], dtype=dtype)
    size = self.state_size
    return AccessState(
        memory=zeros(size.memory),
        read_weights=zeros(size.read_weights),
        write_weights=zeros(size.write_weights),
        linkage=addressing.TemporalLinkageState(
            *[zeros(s) for s in size.linkage]),
        usage=zeros(size.usage))

  @property
  def state_size(self) -> AccessState:
    n, w = self._memory_size, self._word_size
    return AccessState(
        memory=tf.TensorShape([n, w]),
        read_weights=tf.TensorShape([self._num_reads, n]),
        write_weights=tf.TensorShape([self._num_writes, n]),
        linkage=self._linkage.state_size,
        usage=self._freeness.state_size)

  @property
  def output_size(self) -> tf.TensorShape:
    return tf.TensorShape([self._num_reads, self._word_size])

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
