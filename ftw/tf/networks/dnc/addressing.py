"""DNC addressing: content lookup, temporal links and free-space allocation.

The three addressing mechanisms of the Differentiable Neural Computer
(Graves et al. 2016, "Hybrid computing using a neural network with dynamic
external memory", Methods section), with the shapes and call signatures of
deepmind/dnc, written for Sonnet 2 / TensorFlow 2.

Shape letters: B batch, N memory size (slots), W word size, H heads,
R read heads, num_writes write heads.
"""

import collections
from typing import Callable

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.argument_checks import check_positive_int

# Keeps square roots, divisions and the cumulative product away from zero.
EPSILON = 1e-6
# Usages closer than this are sorted by slot index (see Freeness._allocation).
SORT_RESOLUTION = 1e-5

TemporalLinkageState = collections.namedtuple(
    'TemporalLinkageState', ('link', 'precedence_weights'))


def as_tensor(x) -> tf.Tensor:
  """Array-likes (numpy arrays, lists) as float32 tensors; tensors unchanged."""
  if isinstance(x, (tf.Tensor, tf.Variable)):
    return x
  x = tf.convert_to_tensor(x)
  return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def check_rank(x, rank: int, name: str, shape: str) -> tf.Tensor:
  """`as_tensor(x)`; a ValueError naming `name` if its rank is not `rank`."""
  x = as_tensor(x)
  if x.shape.rank is not None and x.shape.rank != rank:
    raise ValueError(f'{name} must have shape {shape}, got {x.shape}.')
  return x


def product(x: tf.Tensor, axis: int) -> tf.Tensor:
  """tf.reduce_prod over a small axis (the heads), as explicit products.

  Same values; the gradient is one multiply per factor instead of
  reduce_prod's transposes and two cumprods, which made up a tenth of the
  learner's recurrent unroll on Pong (bench/dnc.py).
  """
  size = x.shape[axis]
  if size is None or size > 8:
    return tf.reduce_prod(x, axis=axis)
  factors = tf.unstack(x, axis=axis)
  result = factors[0]
  for factor in factors[1:]:
    result = result * factor
  return result


def softmax(x: tf.Tensor) -> tf.Tensor:
  """Softmax over the last axis from elementwise ops.

  Same values as tf.nn.softmax; on the DNC's small [B, H, N] tensors the
  oneDNN softmax kernel costs several times these few ops (bench/dnc.py).
  """
  e = tf.exp(x - tf.stop_gradient(tf.reduce_max(x, axis=-1, keepdims=True)))
  return e / tf.reduce_sum(e, axis=-1, keepdims=True)


def _row_norms(x: tf.Tensor) -> tf.Tensor:
  """Norms over the last axis, [B, M, W] -> [B, M, 1], smooth at zero."""
  return tf.sqrt(tf.reduce_sum(x * x, axis=-1, keepdims=True) + EPSILON)


class CosineWeights(snt.Module):
  """Content addressing C(M, k, beta): softmax of sharpened cosine similarity.

  weights[b, h, n] = softmax_n(strength_op(strengths[b, h]) *
                               cos(keys[b, h], memory[b, n]))
  """

  def __init__(self, num_heads: int, word_size: int,
               strength_op: Callable[[tf.Tensor], tf.Tensor] = tf.nn.softplus,
               name: str = 'cosine_weights'):
    """Initializes the module.

    Args:
      num_heads: number of heads (keys) H.
      word_size: memory word size W.
      strength_op: maps raw strengths to positive sharpness (softplus).
      name: module name.
    """
    super().__init__(name=name)
    self._num_heads = check_positive_int('num_heads', num_heads)
    self._word_size = check_positive_int('word_size', word_size)
    if not callable(strength_op):
      raise ValueError(f'strength_op must be callable, got {strength_op!r}.')
    self._strength_op = strength_op

  def __call__(self, memory: tf.Tensor, keys: tf.Tensor,
               strengths: tf.Tensor) -> tf.Tensor:
    """Returns content weights.

    Args:
      memory: [B, N, W] memory contents.
      keys: [B, H, W] lookup keys.
      strengths: [B, H] raw key strengths (before `strength_op`).

    Returns:
      [B, H, N] weights; each row sums to one.
    """
    memory = check_rank(memory, 3, 'memory', '[B, N, W]')
    keys = check_rank(keys, 3, 'keys', '[B, H, W]')
    strengths = check_rank(strengths, 2, 'strengths', '[B, H]')
    dot = tf.matmul(keys, memory, adjoint_b=True)  # [B, H, N]
    norms = tf.matmul(_row_norms(keys), _row_norms(memory), adjoint_b=True)
    similarity = dot / (norms + EPSILON)
    sharpness = tf.expand_dims(self._strength_op(strengths), -1)
    return softmax(similarity * sharpness)


class TemporalLinkage(snt.Module):
  """Link matrix L_t recording the order of writes, one per write head.

  L_t[i, j] ~ "slot i was written right after slot j";
  p_t = (1 - sum_n w_t) p_{t-1} + w_t are the precedence weights.
  """

  def __init__(self, memory_size: int, num_writes: int,
               name: str = 'temporal_linkage'):
    super().__init__(name=name)
    self._memory_size = check_positive_int('memory_size', memory_size)
    self._num_writes = check_positive_int('num_writes', num_writes)

  def __call__(self, write_weights: tf.Tensor,
               prev_state: TemporalLinkageState) -> TemporalLinkageState:
    """Updates link and precedence weights with this step's writes.

    Args:
      write_weights: [B, num_writes, N] write weights w_t.
      prev_state: link [B, num_writes, N, N], precedence_weights
        [B, num_writes, N] from the previous step.

    Returns:
      The new `TemporalLinkageState`; the link diagonal is zero.
    """
    write_weights = check_rank(write_weights, 3, 'write_weights',
                               '[B, num_writes, N]')
    prev_link = check_rank(prev_state[0], 4, 'prev_state.link',
                           '[B, num_writes, N, N]')
    prev_precedence = check_rank(prev_state[1], 3,
                                 'prev_state.precedence_weights',
                                 '[B, num_writes, N]')
    w_i = tf.expand_dims(write_weights, 3)  # [B, num_writes, N, 1]
    w_j = tf.expand_dims(write_weights, 2)  # [B, num_writes, 1, N]
    link = ((1 - w_i - w_j) * prev_link
            + w_i * tf.expand_dims(prev_precedence, 2))
    # Self-loops carry no order information: L_t[i, i] = 0.
    link = tf.linalg.set_diag(link, tf.zeros_like(write_weights))
    write_sum = tf.reduce_sum(write_weights, axis=2, keepdims=True)
    precedence = (1 - write_sum) * prev_precedence + write_weights
    return TemporalLinkageState(link=link, precedence_weights=precedence)

  def directional_read_weights(self, link: tf.Tensor,
                               prev_read_weights: tf.Tensor,
                               forward: bool) -> tf.Tensor:
    """Moves each read head one write forward (L w) or backward (L^T w).

    Args:
      link: [B, num_writes, N, N] link matrices.
      prev_read_weights: [B, R, N] read weights of the previous step.
      forward: follow the link forward in time (True) or backward (False).

    Returns:
      [B, R, num_writes, N] weights, one per (read head, write head) pair.
    """
    link = check_rank(link, 4, 'link', '[B, num_writes, N, N]')
    prev_read_weights = check_rank(prev_read_weights, 3, 'prev_read_weights',
                                   '[B, R, N]')
    # forward: out[b, k, r, i] = sum_j L[b, k, i, j] w[b, r, j]
    # backward: out[b, k, r, i] = sum_j L[b, k, j, i] w[b, r, j]
    if link.shape[1] == 1:
      # One write head (the paper's): a batched matmul, no transposes, and
      # a cheaper gradient than the general einsum. Squeezed, not sliced:
      # a slice's gradient writes a zero-padded copy of the whole link.
      moved = tf.matmul(prev_read_weights, tf.squeeze(link, axis=1),
                        transpose_b=forward)
      return tf.expand_dims(moved, 2)
    pattern = 'bkij,brj->brki' if forward else 'bkji,brj->brki'
    return tf.einsum(pattern, link, prev_read_weights)

  @property
  def state_size(self) -> TemporalLinkageState:
    n, k = self._memory_size, self._num_writes
    return TemporalLinkageState(
        link=tf.TensorShape([k, n, n]),
        precedence_weights=tf.TensorShape([k, n]))


class Freeness(snt.Module):
  """Memory usage u_t in [0, 1]: raised by writes, lowered by freed reads."""

  def __init__(self, memory_size: int, name: str = 'freeness'):
    super().__init__(name=name)
    self._memory_size = check_positive_int('memory_size', memory_size)

  def __call__(self, write_weights: tf.Tensor, free_gate: tf.Tensor,
               read_weights: tf.Tensor, prev_usage: tf.Tensor) -> tf.Tensor:
    """Returns the new usage u_t.

    u = u_{t-1} + (1 - u_{t-1}) (1 - prod_k (1 - w_{t-1}^k)), then
    u_t = u * prod_r (1 - f_t^r w_{t-1}^{r}).

    Args:
      write_weights: [B, num_writes, N] write weights of the previous step
        (no gradient flows back through them, as in deepmind/dnc).
      free_gate: [B, R] free gates f_t in [0, 1].
      read_weights: [B, R, N] read weights of the previous step.
      prev_usage: [B, N] usage of the previous step.

    Returns:
      [B, N] usage.
    """
    write_weights = check_rank(write_weights, 3, 'write_weights',
                               '[B, num_writes, N]')
    free_gate = check_rank(free_gate, 2, 'free_gate', '[B, R]')
    read_weights = check_rank(read_weights, 3, 'read_weights', '[B, R, N]')
    prev_usage = check_rank(prev_usage, 2, 'prev_usage', '[B, N]')
    write_weights = tf.stop_gradient(write_weights)
    written = 1 - product(1 - write_weights, axis=1)
    usage = prev_usage + (1 - prev_usage) * written
    retention = product(
        1 - tf.expand_dims(free_gate, -1) * read_weights, axis=1)
    return usage * retention

  def write_allocation_weights(self, usage: tf.Tensor, write_gates: tf.Tensor,
                               num_writes: int) -> tf.Tensor:
    """Allocation weights a_t for each write head, least used slots first.

    Between heads the usage is raised as if the previous head had written
    to its allocation with strength `write_gates`, so heads pick different
    slots.

    Args:
      usage: [B, N] current usage u_t.
      write_gates: [B, num_writes] expected write strength of each head.
      num_writes: number of write heads.

    Returns:
      [B, num_writes, N] allocation weights (not scaled by the gates).
    """
    usage = check_rank(usage, 2, 'usage', '[B, N]')
    write_gates = check_rank(write_gates, 2, 'write_gates', '[B, num_writes]')
    check_positive_int('num_writes', num_writes)
    allocations = []
    for k in range(num_writes):
      allocation = self._allocation(usage)
      allocations.append(allocation)
      usage += (1 - usage) * write_gates[:, k:k + 1] * allocation
    return tf.stack(allocations, axis=1)

  def _allocation(self, usage: tf.Tensor) -> tf.Tensor:
    """a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i], phi = slots by usage.

    Usages closer than SORT_RESOLUTION count as tied and go by slot index.
    Exact ties are common (all slots are free at the zero state), and
    without this their order would follow float rounding, which differs
    between eager and graph execution. [B, N] -> [B, N].
    """
    # Usage >= EPSILON keeps the cumprod gradient (which divides by its
    # input) finite at the all-free initial state.
    usage = EPSILON + (1 - EPSILON) * usage
    sort_key = tf.round(tf.stop_gradient(usage) / SORT_RESOLUTION)
    order = tf.argsort(sort_key, axis=1, stable=True)  # ascending usage
    sorted_usage = tf.gather(usage, order, batch_dims=1)
    sorted_allocation = (1 - sorted_usage) * tf.math.cumprod(
        sorted_usage, axis=1, exclusive=True)
    # Scatter back: slot order[b, j] gets sorted_allocation[b, j].
    inverse = tf.argsort(order, axis=1, stable=True)
    return tf.gather(sorted_allocation, inverse, batch_dims=1)

  @property
  def state_size(self) -> tf.TensorShape:
    return tf.TensorShape([self._memory_size])
