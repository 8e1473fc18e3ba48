"""Log-probabilities and entropies of (multi-)discrete softmax policies.

A single discrete action uses logits [T, B, A] and actions [T, B]. A
multi-discrete action of G independent groups (the FTW action space) uses a
list of G logits tensors [T, B, A_g] and actions [T, B, G]; the joint
log-probability and entropy are sums over the groups.
"""

from typing import Sequence, Union

import tensorflow as tf

from ftw.tf.losses import _checks

Logits = Union[tf.Tensor, Sequence[tf.Tensor]]


def action_log_probs(logits: Logits, actions: tf.Tensor,
                     name: str = "logits") -> tf.Tensor:
  """log pi(a_t|x_t) of the actions taken, summed over action groups.

  Args:
    logits: [T, B, A], or a list of G tensors [T, B, A_g]. Log-probabilities
      are valid logits too (log_softmax leaves them unchanged).
    actions: [T, B] integer actions for a single tensor, [T, B, G] for a list.
    name: argument name used in error messages.

  Returns:
    [T, B] log-probabilities, differentiable in `logits`.

  Raises:
    ValueError: on mismatched ranks, shapes or group counts.
  """
  actions = _checks.to_int(actions, "actions")
  if isinstance(logits, (list, tuple)):
    if not logits:
      raise ValueError(f"`{name}` must not be an empty list.")
    _checks.check_rank(actions, 3, "actions", "[T, B, G] with a list of logits")
    groups = actions.shape[-1]
    if groups is not None and groups != len(logits):
      raise ValueError(f"`actions` has {groups} action groups (last axis) but "
                       f"`{name}` is a list of {len(logits)} tensors.")
    total = None
    for g, group_logits in enumerate(logits):
      term = _single_log_probs(group_logits, actions[..., g], f"{name}[{g}]")
      total = term if total is None else total + term
    return total
  _checks.check_rank(actions, 2, "actions", "[T, B] with a single logits tensor")
  return _single_log_probs(logits, actions, name)


def entropy(logits: Logits, name: str = "logits") -> tf.Tensor:
  """Entropy H(pi(.|x_t)) of softmax policies, summed over action groups.

  Args:
    logits: [..., A], or a list of G tensors [..., A_g] with equal leading
      shapes.
    name: argument name used in error messages.

  Returns:
    [...] entropies (the leading shape of the logits), differentiable.
  """
  if isinstance(logits, (list, tuple)):
    if not logits:
      raise ValueError(f"`{name}` must not be an empty list.")
    terms = [entropy(group, f"{name}[{g}]") for g, group in enumerate(logits)]
    for g, term in enumerate(terms[1:], start=1):
      _checks.check_same_shape(terms[0], f"{name}[0] leading shape", term,
                               f"{name}[{g}] leading shape")
    return tf.add_n(terms)
  logits = _checks.to_float(logits, name)
  _checks.check_min_rank(logits, 1, name, "[..., A]")
  log_probs = tf.nn.log_softmax(logits)
  return -tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1)


def _single_log_probs(logits, actions, name):
  logits = _checks.to_float(logits, name)
  _checks.check_rank(logits, 3, name, "[T, B, A]")
  if logits.shape.rank is not None:
    _checks.check_shape(actions, logits.shape[:2].as_list(), "actions",
                        f"[T, B] matching `{name}`")
  return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
