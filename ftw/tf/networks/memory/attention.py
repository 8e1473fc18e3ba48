"""Attention over a sequence, and a core attending over its own past inputs.

As AgentNet's `AttentionLayer` (Bahdanau et al. 2015, additive:
`v^T tanh(W_q q + W_k k)`) and `DotAttentionLayer` (Luong et al. 2015,
`q . k`, optionally scaled by `1/sqrt(D)` as in Vaswani et al. 2017). Both
take `query [B, Dq]`, `keys [B, N, Dk]`, optional `values [B, N, Dv]` (default:
the keys) and an optional `mask [B, N]`, and return `(attended [B, Dv],
weights [B, N])`. Masked positions get weight exactly 0; a row with every
position masked gets all-zero weights and a zero result, never NaN.
"""

from typing import Optional, Tuple

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.memory import window as window_lib

# Logit for masked positions: exp(this - max) underflows to 0 in float32.
_MASKED_LOGIT = -1e9


def masked_softmax(logits: tf.Tensor,
                   mask: Optional[tf.Tensor] = None) -> tf.Tensor:
  """Softmax over the last axis of `logits` `[B, N]`, 0 where `mask` is False."""
  if mask is None:
    return tf.nn.softmax(logits, axis=-1)
  mask = tf.cast(mask, tf.bool)
  weights = tf.nn.softmax(tf.where(mask, logits, _MASKED_LOGIT), axis=-1)
  # An all-masked row would be uniform here: zero it (divide_no_nan: 0 / 0 = 0).
  weights *= tf.cast(mask, weights.dtype)
  return tf.math.divide_no_nan(
      weights, tf.reduce_sum(weights, axis=-1, keepdims=True))


def _check_inputs(query, keys, values, mask):
  """Converts and validates the attention inputs; returns them as tensors."""
  query = tf.convert_to_tensor(query)
  keys = tf.convert_to_tensor(keys)
  values = keys if values is None else tf.convert_to_tensor(values)
  if query.shape.rank != 2:
    raise ValueError(f"query must have shape [B, Dq], got {query.shape}.")
  if keys.shape.rank != 3:
    raise ValueError(f"keys must have shape [B, N, Dk], got {keys.shape}.")
  if values.shape.rank != 3 or not values.shape[:2].is_compatible_with(
      keys.shape[:2]):
    raise ValueError(f"values must have shape [B, N, Dv] with B, N of keys "
                     f"{keys.shape[:2]}, got {values.shape}.")
  if not query.shape[:1].is_compatible_with(keys.shape[:1]):
    raise ValueError(f"query batch {query.shape[0]} does not match keys "
                     f"batch {keys.shape[0]}.")
  if mask is not None:
    mask = tf.convert_to_tensor(mask)
    if mask.shape.rank != 2 or not mask.shape.is_compatible_with(
        keys.shape[:2]):
      raise ValueError(f"mask must have shape [B, N] = {keys.shape[:2]}, "
                       f"got {mask.shape}.")
  return query, keys, values, mask


def _attend(logits, values, mask):
  weights = masked_softmax(logits, mask)
  attended = tf.einsum("bn,bnd->bd", weights, values)
  return attended, weights


@snt.allow_empty_variables
class DotProductAttention(snt.Module):
  """Dot-product attention: logits `q . k_n`, times `1/sqrt(Dk)` if scaled.

  The query must have the keys' size unless `project_query=True`, which maps
  it to `Dk` with a (lazily built) linear layer without bias.
  """

  def __init__(self, scale: bool = True, project_query: bool = False,
               name: str = "dot_product_attention"):
    super().__init__(name=name)
    self._scale = scale
    self._project_query = project_query
    self._projection = None

  def __call__(self, query: tf.Tensor, keys: tf.Tensor,
               values: Optional[tf.Tensor] = None,
               mask: Optional[tf.Tensor] = None) -> Tuple[tf.Tensor, tf.Tensor]:
    query, keys, values, mask = _check_inputs(query, keys, values, mask)
    key_size = keys.shape[-1]
    if self._project_query:
      if self._projection is None:
        self._projection = snt.Linear(key_size, with_bias=False,
                                      name="query_projection")
      query = self._projection(query)
    elif query.shape[-1] != key_size:
      raise ValueError(f"query size {query.shape[-1]} must equal key size "
                       f"{key_size}, or use project_query=True.")
    logits = tf.einsum("bd,bnd->bn", query, keys)
    if self._scale:
      logits *= tf.math.rsqrt(tf.cast(key_size, logits.dtype))
    return _attend(logits, values, mask)


class AdditiveAttention(snt.Module):
  """Bahdanau attention: logits `v^T tanh(W_q q + W_k k_n)`, no biases.

  A logit bias would not change the softmax, so there is none (as in AgentNet).
  """

  def __init__(self, hidden_size: int, name: str = "additive_attention"):
    super().__init__(name=name)
    if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or (
        hidden_size < 1):
      raise ValueError(f"hidden_size must be an int >= 1, got {hidden_size!r}.")
    self._query_layer = snt.Linear(hidden_size, with_bias=False, name="w_q")
    self._key_layer = snt.Linear(hidden_size, with_bias=False, name="w_k")
    self._logit_layer = snt.Linear(1, with_bias=False, name="v")

  def __call__(self, query: tf.Tensor, keys: tf.Tensor,
               values: Optional[tf.Tensor] = None,
               mask: Optional[tf.Tensor] = None) -> Tuple[tf.Tensor, tf.Tensor]:
    query, keys, values, mask = _check_inputs(query, keys, values, mask)
    projected_keys = snt.BatchApply(self._key_layer)(keys)  # [B, N, H]
    hidden = tf.tanh(self._query_layer(query)[:, tf.newaxis] + projected_keys)
    logits = tf.squeeze(snt.BatchApply(self._logit_layer)(hidden), axis=-1)
    return _attend(logits, values, mask)


class WindowAttentionCore(snt.RNNCore):
  """An RNN core attending over a window of its own past inputs.

  Each step a linear layer maps the flat input `[B, D]` to an item
  `[B, item_size]`; the item is the query for `attention` over the previous
  `window_size` items (slots not yet filled are masked, so the first step
  attends to nothing and gets zeros); then the item enters the window.
  Output: `concat(item, attended)`, `[B, 2 * item_size]`.
  """

  def __init__(self, window_size: int, item_size: int, attention: snt.Module,
               name: str = "window_attention_core"):
    """Initializes the core.

    Args:
      window_size: number of past items attended over.
      item_size: size of the items (and queries) the input is mapped to.
      attention: a `DotProductAttention` or `AdditiveAttention` (any module
        with the signature `(query, keys, values, mask) -> (attended, weights)`).
      name: module name.

    Raises:
      ValueError: on a non-positive size or a non-callable attention.
    """
    super().__init__(name=name)
    window_lib.check_window_args(window_size, item_size)
    if not callable(attention):
      raise ValueError(f"attention must be a callable attention module, got "
                       f"{type(attention).__name__}.")
    self._window_size = window_size
    self._item_size = item_size
    self._attention = attention
    self._item_layer = snt.Linear(item_size, name="item")

  @property
  def output_size(self) -> int:
    return 2 * self._item_size

  def initial_state(self, batch_size: int,
                    **unused_kwargs) -> window_lib.WindowState:
    return window_lib.initial_window_state(batch_size, self._window_size,
                                           (self._item_size,))

  def __call__(
      self, inputs: tf.Tensor, prev_state: window_lib.WindowState
  ) -> Tuple[tf.Tensor, window_lib.WindowState]:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 2:
      raise ValueError(f"inputs must have shape [B, D], got {inputs.shape}.")
    item = self._item_layer(inputs)
    attended, _ = self._attention(item, prev_state.window,
                                  mask=window_lib.window_mask(prev_state))
    state = window_lib.push_to_window(prev_state, item)
    return tf.concat([item, attended], axis=-1), state
