"""Heads producing diagonal multivariate normal distributions.

`MultivariateNormalDiagLocScaleHead` returns the parameters (loc, scale) as
plain tensors, which is what a recurrent core must put in its state and
output (tfp distributions cannot go through a dynamic unroll).
`MultivariateNormalDiagHead` returns the tfp distribution itself, like Acme's
head of the same name.

The scale parameterisation follows Acme: scale = softplus(x) * init_scale /
softplus(0) + min_scale, so a zero pre-activation gives scale init_scale
(+ min_scale); with fixed_scale the scale is init_scale everywhere.
"""

from typing import Callable, NamedTuple, Optional, Union

import sonnet as snt
import tensorflow as tf
import tensorflow_probability as tfp

from ftw.tf.networks import argument_checks as checks

tfd = tfp.distributions

Initializer = Union[snt.initializers.Initializer,
                    tf.keras.initializers.Initializer,
                    Callable[..., tf.Tensor]]


class LocScaleDistributionParameters(NamedTuple):
  """Mean and standard deviation of a diagonal normal, both [B, N]."""
  loc: tf.Tensor
  scale: tf.Tensor


def _fresh_initializer(init: Optional[Initializer]) -> Optional[Initializer]:
  """Returns a new instance of a Keras initializer, else `init` itself.

  An unseeded Keras initializer instance returns the same values every time
  it is called, so sharing one instance (e.g. a default argument) between
  the loc and scale layers, or between heads, would give them identical
  weights. Sonnet initializers have no such state and are returned as is.
  """
  if isinstance(init, tf.keras.initializers.Initializer):
    return init.__class__.from_config(init.get_config())
  return init


class MultivariateNormalDiagLocScaleHead(snt.Module):
  """Module that produces mean and scale of a multivariate normal distribution.

  Maps inputs [B, F] to `LocScaleDistributionParameters(loc [B, N],
  scale [B, N])` with N = num_dimensions and every scale > 0.
  """

  def __init__(self,
               num_dimensions: int,
               init_scale: float = 0.3,
               min_scale: float = 1e-6,
               tanh_mean: bool = False,
               fixed_scale: bool = False,
               w_init: Optional[Initializer] = None,
               b_init: Optional[Initializer] = None):
    """Initialization.

    Args:
      num_dimensions: Number of dimensions of MVN distribution.
      init_scale: Initial standard deviation (> 0).
      min_scale: Minimum standard deviation (>= 0).
      tanh_mean: Whether to transform the mean (via tanh) before passing it to
        the distribution.
      fixed_scale: Whether to use a fixed variance (scale = init_scale).
      w_init: Initialization for linear layer weights (None: Sonnet default).
      b_init: Initialization for linear layer biases (None: zeros).

    Raises:
      ValueError: If an argument has the wrong type or range.
    """
    super().__init__(name='multivariate_normal_diag_loc_scale_head')
    self._num_dimensions = checks.check_positive_int(
        'num_dimensions', num_dimensions)
    self._init_scale = checks.check_real(
        'init_scale', init_scale, minimum=0.0, allow_equal=False)
    self._min_scale = checks.check_real('min_scale', min_scale, minimum=0.0)
    self._tanh_mean = checks.check_bool('tanh_mean', tanh_mean)
    self._fixed_scale = checks.check_bool('fixed_scale', fixed_scale)
    checks.check_initializer('w_init', w_init)
    checks.check_initializer('b_init', b_init)
    self._loc_layer = snt.Linear(
        self._num_dimensions, w_init=_fresh_initializer(w_init),
        b_init=_fresh_initializer(b_init), name='loc')
    self._scale_layer = None
    if not fixed_scale:
      self._scale_layer = snt.Linear(
          self._num_dimensions, w_init=_fresh_initializer(w_init),
          b_init=_fresh_initializer(b_init), name='scale')

  @property
  def num_dimensions(self) -> int:
    return self._num_dimensions

  @property
  def init_scale(self) -> float:
    return self._init_scale

  def __call__(self, inputs: tf.Tensor) -> LocScaleDistributionParameters:
    """Returns loc and scale, both [B, num_dimensions], from inputs [B, F]."""
    if inputs.shape.rank is not None and inputs.shape.rank != 2:
      raise ValueError(
          f'inputs must have shape [B, F], got shape {inputs.shape}.')
    loc = self._loc_layer(inputs)
    if self._fixed_scale:
      scale = tf.ones_like(loc) * self._init_scale
    else:
      zero = tf.constant(0, dtype=inputs.dtype)
      scale = tf.nn.softplus(self._scale_layer(inputs))
      scale = scale * (self._init_scale / tf.nn.softplus(zero))
      scale = scale + self._min_scale
    if self._tanh_mean:
      loc = tf.tanh(loc)
    return LocScaleDistributionParameters(loc=loc, scale=scale)


class MultivariateNormalDiagHead(snt.Module):
  """Module that produces a multivariate normal distribution.

  The distribution is a `tfd.Independent(tfd.Normal)` (with
  use_tfd_independent) or a `tfd.MultivariateNormalDiag`, both with batch
  shape [B] and event shape [num_dimensions].
  """

  def __init__(
      self,
      num_dimensions: int,
      init_scale: float = 0.3,
      min_scale: float = 1e-6,
      tanh_mean: bool = False,
      fixed_scale: bool = False,
      use_tfd_independent: bool = False,
      w_init: Optional[Initializer] = tf.initializers.VarianceScaling(1e-4),
      b_init: Optional[Initializer] = tf.initializers.Zeros()):
    """Initialization.

    Args:
      num_dimensions: Number of dimensions of MVN distribution.
      init_scale: Initial standard deviation (> 0).
      min_scale: Minimum standard deviation (>= 0).
      tanh_mean: Whether to transform the mean (via tanh) before passing it to
        the distribution.
      fixed_scale: Whether to use a fixed variance.
      use_tfd_independent: Whether to use tfd.Independent or
        tfd.MultivariateNormalDiag class.
      w_init: Initialization for linear layer weights.
      b_init: Initialization for linear layer biases.

    Raises:
      ValueError: If an argument has the wrong type or range.
    """
    super().__init__(name='multivariate_normal_diag_head')
    self._use_tfd_independent = checks.check_bool(
        'use_tfd_independent', use_tfd_independent)
    self._loc_scale_head = MultivariateNormalDiagLocScaleHead(
        num_dimensions=num_dimensions, init_scale=init_scale,
        min_scale=min_scale, tanh_mean=tanh_mean, fixed_scale=fixed_scale,
        w_init=w_init, b_init=b_init)

  def __call__(self, inputs: tf.Tensor) -> tfd.Distribution:
    """Returns the distribution for inputs [B, F]."""
    params = self._loc_scale_head(inputs)
    return make_distribution(params, self._use_tfd_independent)


def make_distribution(params: LocScaleDistributionParameters,
                      use_tfd_independent: bool = False) -> tfd.Distribution:
  """Returns the diagonal normal with the given loc and scale [B, N].

  Args:
    params: loc and scale, both [B, N].
    use_tfd_independent: tfd.Independent(tfd.Normal) if True, else
      tfd.MultivariateNormalDiag; both have batch shape [B], event shape [N].
  """
  if use_tfd_independent:
    return tfd.Independent(
        tfd.Normal(loc=params.loc, scale=params.scale),
        reinterpreted_batch_ndims=1)
  return tfd.MultivariateNormalDiag(loc=params.loc, scale_diag=params.scale)
