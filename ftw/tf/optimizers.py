"""Optimisers: Sonnet's Adam with each dense update as one fused kernel.

`snt.optimizers.Adam.apply` builds its update from about 15 small ops per
variable (casts, moments, bias corrections, the step and three assignments):
~1,650 op runs per update of the full FTW network, where op dispatch, not
arithmetic, is the cost on a CPU. `FusedAdam` applies each dense update
with TensorFlow's `ResourceApplyAdam` kernel, one op per variable, and
computes Sonnet's update, not an approximation of it:

  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2           (both)
  Sonnet:  var <- var - lr m_hat / (sqrt(v_hat) + eps),
           m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t);
  kernel:  var <- var - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps'),

equal when eps' = eps sqrt(1 - b2^t), which is what `FusedAdam` passes.
It keeps Sonnet's slots (`m`, `v`, `step`) and arguments, so a checkpoint of
one loads into the other. Sparse updates (tf.IndexedSlices) take Sonnet's
own path.
"""

from typing import Optional, Sequence

import sonnet as snt
import tensorflow as tf


class FusedAdam(snt.optimizers.Adam):
  """`snt.optimizers.Adam` whose dense updates run as one kernel each."""

  def apply(self, updates: Sequence[Optional[tf.Tensor]],
            parameters: Sequence[tf.Variable]):
    """Applies Sonnet's Adam update to each (update, parameter) pair.

    Raises:
      ValueError: if `updates` and `parameters` differ in length, are empty,
        hold no update at all, or an update's dtype is not its parameter's.
    """
    updates, parameters = list(updates), list(parameters)
    if any(isinstance(u, tf.IndexedSlices) for u in updates):
      return super().apply(updates, parameters)
    if len(updates) != len(parameters):
      raise ValueError(f"updates and parameters must have the same length, "
                       f"got {len(updates)} and {len(parameters)}.")
    if not parameters:
      raise ValueError("parameters must not be empty.")
    if all(u is None for u in updates):
      raise ValueError("updates holds no update (all None).")
    for update, param in zip(updates, parameters):
      if update is not None and update.dtype != param.dtype:
        raise ValueError(f"update dtype {update.dtype.name} differs from its "
                         f"parameter {param.name}'s {param.dtype.name}.")
    self._initialize(parameters)  # pylint: disable=protected-access
    self.step.assign_add(1)
    # The scalars are shared by every variable of a dtype: cast once each.
    scalars = {}
    for update, param, m, v in zip(updates, parameters, self.m, self.v):
      if update is None:
        continue
      dtype = update.dtype
      if dtype not in scalars:
        beta1 = tf.cast(self.beta1, dtype)
        beta2 = tf.cast(self.beta2, dtype)
        step = tf.cast(self.step, dtype)
        beta2_power = tf.pow(beta2, step)
        scalars[dtype] = dict(
            beta1_power=tf.pow(beta1, step), beta2_power=beta2_power,
            lr=tf.cast(self.learning_rate, dtype), beta1=beta1, beta2=beta2,
            epsilon=tf.cast(self.epsilon, dtype) * tf.sqrt(1 - beta2_power))
      tf.raw_ops.ResourceApplyAdam(var=param.handle, m=m.handle, v=v.handle,
                                   grad=update, **scalars[dtype])
