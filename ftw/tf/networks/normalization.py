"""Running mean / variance normalisation of inputs (e.g. pixels).

Atari agents that learn fast (Sample Factory's `normalize_input`, PPO
implementations) standardise every input element with running statistics:
a static background becomes ~0 and what moves (a ball, a paddle) stands
out. `RunningMeanStd` keeps those statistics in non-trainable variables, so
they travel with the network's weights to actors and into checkpoints; only
the learner calls `update`.

Statistics are merged batch by batch with the parallel algorithm of Chan et
al. (1979): for running (n, mean, M2) and a batch (m, mean_b, M2_b),

    delta = mean_b - mean,  n' = n + m,
    mean' = mean + delta * m / n',
    M2'   = M2 + M2_b + delta^2 * n * m / n',  variance = M2' / n'.
"""

from typing import NamedTuple, Optional, Sequence

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks.argument_checks import check_real


def _variance(m2: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
  """M2 / n, or 1 before any data (n = 0)."""
  return m2 / tf.maximum(count, 1.0) + tf.cast(tf.equal(count, 0.0),
                                               tf.float32)


class MergedStatistics(NamedTuple):
  """Statistics (n, mean, M2) after merging a batch, as tensors.

  `m2_increment` is what the batch adds to the running M2
  (m2 = M2 + m2_increment); `RunningMeanStd.assign` adds it in place.
  """
  count: tf.Tensor
  mean: tf.Tensor
  m2: tf.Tensor
  m2_increment: tf.Tensor

  @property
  def variance(self) -> tf.Tensor:
    return _variance(self.m2, self.count)


def standardize(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor,
                epsilon: float, clip: Optional[float]) -> tf.Tensor:
  """clip((x - mean) / sqrt(variance + epsilon)) to [-clip, clip] (None: no
  clip); x [..., *S], mean and variance [*S]."""
  y = (x - mean) * tf.math.rsqrt(variance + epsilon)
  if clip is not None:
    y = tf.clip_by_value(y, -clip, clip)
  return y


def merge_statistics(count: tf.Tensor, mean: tf.Tensor, m2: tf.Tensor,
                     x: tf.Tensor,
                     weights: Optional[tf.Tensor] = None) -> MergedStatistics:
  """Running (count, mean [*S], M2 [*S]) merged with the batch x [N, *S],
  rows weighted by weights [N] in {0, 1} (default all 1; the module doc's
  formulas)."""
  if weights is None:
    weights = tf.ones(tf.shape(x)[:1], tf.float32)
  weights = tf.cast(tf.reshape(weights, [-1]), tf.float32)
  w = tf.reshape(weights, [-1] + [1] * (x.shape.rank - 1))
  m = tf.reduce_sum(weights)
  safe_m = tf.maximum(m, 1.0)
  batch_mean = tf.reduce_sum(w * x, axis=0) / safe_m
  batch_m2 = tf.reduce_sum(w * tf.square(x - batch_mean), axis=0)
  total = count + m
  delta = batch_mean - mean
  frac = tf.where(total > 0, m / tf.maximum(total, 1.0), 0.0)
  m2_increment = batch_m2 + tf.square(delta) * count * frac
  return MergedStatistics(count=total, mean=mean + delta * frac,
                          m2=m2 + m2_increment, m2_increment=m2_increment)


class RunningMeanStd(snt.Module):
  """Per-element running mean and variance; `x -> clip((x - mean) / std)`.

  Shapes: `update(x [N, *S], weights [N])` and `__call__(x [..., *S])` where S
  is fixed by the first call (variables are created lazily). Before any
  update the statistics are mean 0, variance 1 (inputs pass unchanged up to
  the clip).

  `update` is `assign(merged(x, weights))`: a loss can compute the merged
  statistics without changing the variables and leave the assignment to the
  learner's step.
  """

  def __init__(self, clip: Optional[float] = 5.0, epsilon: float = 1e-5,
               name: str = "running_mean_std"):
    """Creates the module.

    Args:
      clip: normalised values are clipped to [-clip, clip]; None: no clip.
      epsilon: > 0, added to the variance before the square root.
      name: module name.
    """
    super().__init__(name=name)
    if clip is not None:
      check_real("clip", clip, 0.0, allow_equal=False)
    check_real("epsilon", epsilon, 0.0, allow_equal=False)
    self._clip = clip
    self._epsilon = epsilon
    self._count = None
    self._mean = None
    self._m2 = None
    self._shape = None

  def _create(self, shape: tf.TensorShape):
    if self._mean is not None:
      return
    if not shape.is_fully_defined():
      raise ValueError(f"element shape must be fully defined, got {shape}")
    self._shape = shape
    with self.name_scope:
      self._count = tf.Variable(0.0, trainable=False, name="count")
      self._mean = tf.Variable(tf.zeros(shape), trainable=False, name="mean")
      self._m2 = tf.Variable(tf.zeros(shape), trainable=False, name="m2")

  def build(self, element_shape: Sequence[int]):
    """Creates the variables for elements of shape S (mean 0, variance 1).

    Usually the first update, merge or call does this; a caller that runs
    its own (e.g. compiled) arithmetic on the variables builds them first.

    Raises:
      ValueError: if S is not fully defined, or the variables exist for
        another element shape.
    """
    shape = tf.TensorShape(element_shape)
    if self._shape is not None and shape != self._shape:
      raise ValueError(f"element_shape {shape} differs from the built "
                       f"element shape {self._shape}")
    self._create(shape)

  def _element_shape(self, x: tf.Tensor, leading: int) -> tf.TensorShape:
    if self._shape is None:
      return x.shape[leading:]
    if x.shape[x.shape.rank - self._shape.rank:] != self._shape:
      raise ValueError(f"inputs must end with the element shape "
                       f"{self._shape}, got {x.shape}")
    return self._shape

  @property
  def built(self) -> bool:
    """Whether the variables exist (after the first update, merge or call)."""
    return self._mean is not None

  @property
  def epsilon(self) -> float:
    return self._epsilon

  @property
  def clip(self) -> Optional[float]:
    return self._clip

  def check_inputs(self, x: tf.Tensor):
    """Raises ValueError unless x [..., *S] ends with the element shape S
    (once known): a shape that only broadcasts would standardise wrongly."""
    self._element_shape(x, 1)

  @property
  def mean(self) -> tf.Tensor:
    return self._mean

  @property
  def variance(self) -> tf.Tensor:
    return _variance(self._m2, self._count)

  @property
  def count(self) -> tf.Tensor:
    return self._count

  @property
  def m2(self) -> tf.Tensor:
    return self._m2

  def merged(self, x: tf.Tensor,
             weights: Optional[tf.Tensor] = None) -> MergedStatistics:
    """The statistics after merging the batch x [N, *S]; assigns nothing.

    Rows are weighted by weights [N] in {0, 1} (default all 1). The first
    call creates the variables (lazily, as `__call__` does); their values
    are only read.
    """
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    if x.shape.rank is None or x.shape.rank < 1:
      raise ValueError(f"x must have shape [N, ...], got {x.shape}")
    self._create(self._element_shape(x, 1))
    return merge_statistics(self._count, self._mean, self._m2, x, weights)

  def assign(self, merged: MergedStatistics):
    """Sets the variables to `merged`, computed from their current values.

    Raises:
      ValueError: before the variables exist (no `merged`, `update` or call).
    """
    if self._mean is None:
      raise ValueError("RunningMeanStd has no variables to assign yet: call "
                       "merged, update or the module first")
    self._mean.assign(merged.mean)
    # M2 + increment as one in-place add, not `merged.m2`: in a tf.function
    # Grappler may regroup `M2 + (a + b)` into an AddN summing in another
    # order (an ulp off). Used here too, the increment cannot be regrouped,
    # so `merged.m2` (what a loss reads) and the variable keep today's sum.
    self._m2.assign_add(merged.m2_increment)
    self._count.assign(merged.count)

  def update(self, x: tf.Tensor, weights: Optional[tf.Tensor] = None):
    """Merges the batch x [N, *S] (rows weighted by weights [N] in {0, 1})."""
    self.assign(self.merged(x, weights))

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    self._create(self._element_shape(x, 1))
    return standardize(x, self._mean, self.variance, self._epsilon,
                       self._clip)
