"""Target networks: slow copies of a learned network for bootstrap targets.

Two ways to follow the online network (AgentNet's `load_weights(alpha)`):

  hard_update(online, target)          target <- online;
  soft_update(online, target, tau)     target <- tau * online + (1 - tau) *
                                       target (Polyak averaging);

and `TargetUpdater`, which a learner calls once per update (eagerly or inside
its `tf.function`): a hard copy every `period` calls, or a soft update with
`tau` on every call. Its call count is a variable, so a checkpoint keeps the
phase of the hard updates.
"""

from typing import Optional, Sequence

import tensorflow as tf

from ftw import checks


def _pairs(online: Sequence[tf.Variable], target: Sequence[tf.Variable]):
  online, target = list(online), list(target)
  if len(online) != len(target):
    raise ValueError(f"online has {len(online)} variables but target has "
                     f"{len(target)}: the networks differ")
  for a, b in zip(online, target):
    if a.shape != b.shape:
      raise ValueError(f"variable {a.name} has shape {a.shape} but its "
                       f"target {b.name} has {b.shape}")
  return list(zip(online, target))


def hard_update(online: Sequence[tf.Variable],
                target: Sequence[tf.Variable]) -> None:
  """Copies every online variable into its target (same order)."""
  for source, destination in _pairs(online, target):
    destination.assign(source)


def soft_update(online: Sequence[tf.Variable], target: Sequence[tf.Variable],
                tau) -> None:
  """target <- tau * online + (1 - tau) * target, variable by variable."""
  if isinstance(tau, (int, float)) and not 0.0 <= tau <= 1.0:
    raise ValueError(f"tau must be in [0, 1], got {tau!r}")
  for source, destination in _pairs(online, target):
    t = tf.cast(tau, destination.dtype)
    destination.assign(t * source + (1.0 - t) * destination)


class TargetUpdater(tf.Module):
  """Keeps `target` following `online`: hard every `period` calls, or soft.

  Exactly one of `period` (int >= 1) and `tau` (float in (0, 1]) is given.
  Variables are matched by position (`module.variables` of two networks
  built the same way list them in the same order).
  """

  def __init__(self, online: Sequence[tf.Variable],
               target: Sequence[tf.Variable], period: Optional[int] = None,
               tau: Optional[float] = None, name: str = "target_updater"):
    super().__init__(name=name)
    if (period is None) == (tau is None):
      raise ValueError("give exactly one of period (hard updates) and tau "
                       f"(soft updates), got period={period!r}, tau={tau!r}")
    if period is not None:
      period = checks.check_int("period", period, 1)
    if tau is not None and not 0.0 < tau <= 1.0:
      raise ValueError(f"tau must be in (0, 1], got {tau!r}")
    pairs = _pairs(online, target)
    # A closure, not an attribute: tf.Module would track (and checkpoint)
    # the networks' variables a second time under this module.
    self._get_pairs = lambda: pairs
    self._period = period
    self._tau = tau
    self.num_calls = tf.Variable(0, dtype=tf.int64, trainable=False,
                                 name="num_calls")

  def __call__(self) -> tf.Tensor:
    """Counts a learner update and updates the target when due.

    Returns a bool scalar: whether the target changed.
    """
    calls = self.num_calls.assign_add(1)
    online = [a for a, _ in self._get_pairs()]
    target = [b for _, b in self._get_pairs()]
    if self._tau is not None:
      soft_update(online, target, self._tau)
      return tf.constant(True)
    due = tf.equal(calls % self._period, 0)

    def copy():
      hard_update(online, target)
      return tf.constant(True)

    return tf.cond(due, copy, lambda: tf.constant(False))
