"""Log-probabilities and entropies of (multi-)discrete softmax policies.

A single discrete action uses logits [T, B, A] and actions [T, B]. A
multi-discrete action of G independent groups (the FTW action space) uses a
list of G logits tensors [T, B, A_g] and actions [T, B, G]; the joint
log-probability and entropy are sums over the groups.

Networks and replay keep a multi-discrete policy's logits as ONE tensor, the
groups' logits concatenated [T, B, A_1 + ... + A_G]; `split_logits` turns it
into the list, and `multi_discrete_log_probs` / `multi_discrete_entropy` take
it directly with the group sizes.
"""

from typing import List, Sequence, Union

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


def split_logits(logits: tf.Tensor, sizes: Sequence[int],
                 name: str = "logits") -> List[tf.Tensor]:
  """The G groups' logits of concatenated multi-discrete logits.

  Args:
    logits: [..., A_1 + ... + A_G] logits, the groups' in group order.
    sizes: [A_1, ..., A_G], the number of actions of each group.
    name: argument name used in error messages.

  Returns:
    A list of G tensors [..., A_g].

  Raises:
    ValueError: if `sizes` is not a non-empty sequence of positive ints or
      the last axis of `logits` is not their sum.
  """
  sizes = _checks.check_action_sizes(sizes, "sizes")
  logits = _checks.to_float(logits, name)
  _checks.check_min_rank(logits, 1, name, "[..., sum(sizes)]")
  width = logits.shape[-1]
  if width is not None and width != sum(sizes):
    raise ValueError(f"`{name}` must have shape [..., {sum(sizes)}] (the "
                     f"action group sizes {list(sizes)} summed), got "
                     f"{logits.shape}.")
  return tf.split(logits, sizes, axis=-1)


def multi_discrete_log_probs(logits: tf.Tensor, actions: tf.Tensor,
                             sizes: Sequence[int],
                             name: str = "logits") -> tf.Tensor:
  """log pi(a_t|x_t) of joint multi-discrete actions, from concatenated logits.

  log pi(a) = sum_g log_softmax(logits_g)[a_g]: the groups are independent
  given x_t, so this equals the log-probability of the joint action under
  one softmax over the product space with logits l_1[a_1] + ... + l_G[a_G].

  Args:
    logits: [T, B, A_1 + ... + A_G] logits, the groups' concatenated.
    actions: [T, B, G] integer actions, actions[..., g] in [0, A_g).
    sizes: [A_1, ..., A_G].
    name: argument name used in error messages.

  Returns:
    [T, B] log-probabilities, differentiable in `logits`.

  Raises:
    ValueError: on a wrong rank, a logits width other than sum(sizes) or a
      number of action groups other than len(sizes).
  """
  sizes = _checks.check_action_sizes(sizes, "sizes")
  logits = _checks.to_float(logits, name)
  _checks.check_rank(logits, 3, name, "[T, B, sum(sizes)]")
  actions = _checks.to_int(actions, "actions")
  _checks.check_shape(actions, logits.shape[:2].as_list() + [len(sizes)],
                      "actions", f"[T, B, G] with G = {len(sizes)} action "
                      "groups")
  return action_log_probs(split_logits(logits, sizes, name), actions, name)


def multi_discrete_entropy(logits: tf.Tensor, sizes: Sequence[int],
                           name: str = "logits") -> tf.Tensor:
  """Entropy of a multi-discrete softmax policy: the groups' entropies summed.

  Args:
    logits: [..., A_1 + ... + A_G] logits, the groups' concatenated.
    sizes: [A_1, ..., A_G].
    name: argument name used in error messages.

  Returns:
    [...] entropies, differentiable in `logits`.
  """
  return entropy(split_logits(logits, sizes, name), name)


def _single_log_probs(logits, actions, name):
  logits = _checks.to_float(logits, name)
  _checks.check_rank(logits, 3, name, "[T, B, A]")
  if logits.shape.rank is not None:
    _checks.check_shape(actions, logits.shape[:2].as_list(), "actions",
                        f"[T, B] matching `{name}`")
  return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)
