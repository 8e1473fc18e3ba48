"""KL divergence between diagonal Gaussians.

Used by the FTW recurrent processing with temporal hierarchy (RPTH,
Jaderberg et al. 2019, supplementary): KL(posterior || prior) of the fast
core and KL(prior || N(0, I)) of the slow core.
"""

import tensorflow as tf

from ftw.tf.losses import _checks


def diagonal_gaussian_kl(loc_q: tf.Tensor, scale_q: tf.Tensor,
                         loc_p: tf.Tensor, scale_p: tf.Tensor) -> tf.Tensor:
  """KL(q || p) of diagonal Gaussians, summed over the last axis.

      KL = sum_i log(s_p,i / s_q,i) + (s_q,i^2 + (m_q,i - m_p,i)^2) / (2 s_p,i^2) - 1/2

  No stop-gradient: gradients flow to both q's and p's parameters (wrap one
  side in `tf.stop_gradient` to train only the other).

  Args:
    loc_q: [..., D] mean of q.
    scale_q: [..., D] standard deviation of q (> 0).
    loc_p: [..., D] mean of p (same shape as loc_q, or broadcastable to it,
      e.g. zeros for a fixed N(0, I)).
    scale_p: [..., D] standard deviation of p (> 0), like loc_p.

  Returns:
    [...] KL divergences (the leading shape).

  Raises:
    ValueError: if the arguments are scalars, or loc_q and scale_q differ in
      shape, or p's parameters do not broadcast to q's shape.
  """
  loc_q = _checks.to_float(loc_q, "loc_q")
  dtype = loc_q.dtype
  scale_q = _checks.to_float(scale_q, "scale_q", dtype)
  loc_p = _checks.to_float(loc_p, "loc_p", dtype)
  scale_p = _checks.to_float(scale_p, "scale_p", dtype)
  _checks.check_min_rank(loc_q, 1, "loc_q", "[..., D]")
  _checks.check_same_shape(loc_q, "loc_q", scale_q, "scale_q")
  for name, tensor in (("loc_p", loc_p), ("scale_p", scale_p)):
    try:
      tf.broadcast_static_shape(loc_q.shape, tensor.shape)
    except ValueError:
      raise ValueError(f"`{name}` of shape {tensor.shape} does not broadcast to "
                       f"`loc_q` shape {loc_q.shape}.") from None
  var_ratio = tf.square(scale_q / scale_p)
  mean_term = tf.square((loc_q - loc_p) / scale_p)
  per_dim = 0.5 * (var_ratio + mean_term - 1.0) - tf.math.log(scale_q / scale_p)
  return tf.reduce_sum(per_dim, axis=-1)
