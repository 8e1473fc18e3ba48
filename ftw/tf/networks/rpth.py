"""RPTH: Recurrent Processing with Temporal Hierarchy (FTW agent).

Jaderberg et al. 2019, supplementary Figure S11. Per step t, with inputs x_t
(the embedded observation) and the previous posterior sample z_{t-1}:

  prior_k, h^k_t = slow_k([x_t, z_{t-1}], h^k_{t-1})   updates if t % p_k == 0
  posterior, h_t = fast([x_t, g(prior_1), ..., g(prior_K)], h_{t-1})
  z_t = posterior.loc + posterior.scale * eps,  eps ~ N(0, I)

where g(prior_k) is [loc_k, scale_k] with its gradient (fast -> slow) scaled
by scale_gradients_fast_to_slow[k]. The learner uses the KL between
posterior and priors; `RPTH.distributions` turns the parameters into tfp
distributions.

Shared memory: with `shared_memory`, every core is a DNCWrapper around the
same MemoryAccess module, so all cores share the memory weights. Within a
step the cores access one memory in turn, slowest first and the fast core
last: each core's `DNCState.access_state` is replaced by the AccessState the
previous core left (the first core gets the fast core's AccessState of the
previous step). The fast core's access_state in the state is therefore the
memory of record; the slow cores' copies are overwritten on the next step.
A slow core that does not update passes the memory on unchanged. The
gradient scaling applies to the prior path only, not to the memory path.
"""

from typing import NamedTuple, Optional, Sequence, Tuple, Union

import sonnet as snt
import tensorflow as tf
import tensorflow_probability as tfp

from ftw.tf.networks import argument_checks as checks
from ftw.tf.networks.distributional import Initializer
from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.distributional import make_distribution
from ftw.tf.networks import defaults
from ftw.tf.networks.dnc.access import MemoryAccess
from ftw.tf.networks.variational import PeriodicVariationalUnit
from ftw.tf.networks.variational import VariationalUnit

Period = Union[int, tf.Variable]
GradientScale = Union[float, tf.Variable]


class RPTHState(NamedTuple):
  """z: [B, N] last posterior sample; core_state: (slow states..., fast
  state); step: int32 [B] calls since `initial_state`."""
  z: tf.Tensor
  core_state: tuple
  step: tf.Tensor


class RPTHInput(NamedTuple):
  """An RPTH input with explicit sampling noise: embedding [B, F] and noise
  [B, N] (standard normal), so that z = loc + scale * noise can be replayed
  exactly (the learner reuses the noise the actor drew)."""
  embedding: tf.Tensor
  noise: tf.Tensor


class RPTHOutput(NamedTuple):
  """z: [B, N] posterior sample; distribution_params: (prior_1, ...,
  prior_K, posterior) as `LocScaleDistributionParameters`: the cores from
  the slowest to the fastest, so the posterior (the fast core's) comes
  last, as in the original FTW library. KL(posterior || prior_k) is
  KL(params[-1] || params[k])."""
  z: tf.Tensor
  distribution_params: Tuple[LocScaleDistributionParameters, ...]


def scale_gradient(x: tf.Tensor, scale: GradientScale) -> tf.Tensor:
  """Returns x unchanged, with the gradient flowing back through it scaled."""
  scale = tf.stop_gradient(tf.cast(scale, x.dtype))
  x_const = tf.stop_gradient(x)
  return x_const + (x - x_const) * scale  # x - x_const is exactly 0.


def _as_list(value) -> list:
  if isinstance(value, (list, tuple)):
    return list(value)
  return [value]


class RPTH(snt.RNNCore):
  """Recurrent processing with temporal hierarchy, as in the FTW paper.

  One or more slow `PeriodicVariationalUnit`s produce priors; a fast
  `VariationalUnit` (updated every step) produces the posterior, from which
  z is sampled with the reparameterisation trick. Output `RPTHOutput`, state
  `RPTHState`. Sampling uses the module's own tf.random.Generator;
  `reset_noise_seed` makes it reproducible (it is saved by tf.train.Checkpoint
  but is not among the module's `variables`).
  """

  def __init__(self,
               period: Union[Period, Sequence[Period]],
               hidden_size: int = defaults.HIDDEN_SIZE,
               num_dimensions: int = defaults.NUM_DIMENSIONS,
               dnc_clip_value=None,
               use_dnc_linear_projection: bool = True,
               init_scale: float = 0.1,
               min_scale: float = 1e-6,
               tanh_mean: bool = False,
               fixed_scale: bool = False,
               use_tfd_independent: bool = False,
               w_init: Optional[Initializer] = None,
               b_init: Optional[Initializer] = None,
               shared_memory: Optional[MemoryAccess] = None,
               strict_period_order: bool = True,
               scale_gradients_fast_to_slow: Union[
                   GradientScale, Sequence[GradientScale]] = 1.0,
               name: str = 'rpth'):
    """Initializes the RPTH module.

    Args:
      period: Update period of the slow core(s). An int > 0 or a scalar
        integer tf.Variable (trainable=False) gives one slow core; a
        non-empty list/tuple of them gives one slow core per entry.
      hidden_size: Hidden size of every core's LSTM.
      num_dimensions: Size N of z and of every distribution.
      dnc_clip_value: see `VariationalUnit` (only used with shared_memory).
      use_dnc_linear_projection: see `VariationalUnit` (with shared_memory).
      init_scale: see `MultivariateNormalDiagLocScaleHead`.
      min_scale: see `MultivariateNormalDiagLocScaleHead`.
      tanh_mean: see `MultivariateNormalDiagLocScaleHead`.
      fixed_scale: see `MultivariateNormalDiagLocScaleHead`.
      use_tfd_independent: Distribution class made by `distributions`:
        tfd.Independent(tfd.Normal) if True, else tfd.MultivariateNormalDiag.
      w_init: Initialization for the heads' linear layer weights.
      b_init: Initialization for the heads' linear layer biases.
      shared_memory: DNC MemoryAccess module shared by all cores, or None.
      strict_period_order: If True, the slow cores are sorted by period in
        descending order (by value at construction); if False they are
        kept in the given order.
      scale_gradients_fast_to_slow: Factor (>= 0, or a scalar float
        tf.Variable with trainable=False) scaling the gradient from the fast
        core into each slow core's prior; one value for all slow cores, or
        a list with one value per period (in the order given; reordered
        with the periods).
      name: Name for the module.

    Raises:
      ValueError: If an argument has the wrong type, length or range.
    """
    super().__init__(name=checks.check_name(name))
    periods = _as_list(period)
    if not periods:
      raise ValueError('period must not be an empty sequence.')
    periods = [checks.check_period(f'period[{i}]' if len(periods) > 1
                                   else 'period', p)
               for i, p in enumerate(periods)]
    scales = _as_list(scale_gradients_fast_to_slow)
    if isinstance(scale_gradients_fast_to_slow, (list, tuple)):
      if len(scales) != len(periods):
        raise ValueError(
            'scale_gradients_fast_to_slow must have one value per slow core '
            f'({len(periods)}), got {len(scales)}.')
    else:
      scales = scales * len(periods)
    scales = [checks.check_gradient_scale('scale_gradients_fast_to_slow', s)
              for s in scales]
    checks.check_bool('strict_period_order', strict_period_order)
    self._use_tfd_independent = checks.check_bool(
        'use_tfd_independent', use_tfd_independent)
    self._num_dimensions = checks.check_positive_int(
        'num_dimensions', num_dimensions)
    if strict_period_order:
      order = sorted(range(len(periods)),
                     key=lambda i: -int(tf.convert_to_tensor(periods[i])))
      periods = [periods[i] for i in order]
      scales = [scales[i] for i in order]
    self._scales = tuple(scales)

    unit_args = dict(
        hidden_size=hidden_size, num_dimensions=num_dimensions,
        shared_memory=shared_memory, dnc_clip_value=dnc_clip_value,
        use_dnc_linear_projection=use_dnc_linear_projection,
        init_scale=init_scale, min_scale=min_scale, tanh_mean=tanh_mean,
        fixed_scale=fixed_scale, w_init=w_init, b_init=b_init)
    self._slow_cores = tuple(
        PeriodicVariationalUnit(p, name=f'slow_core_{k}', **unit_args)
        for k, p in enumerate(periods))
    self._fast_core = VariationalUnit(name='fast_core', **unit_args)
    self._shared_memory = shared_memory
    self._noise = tf.random.Generator.from_non_deterministic_state()

  @property
  def num_dimensions(self) -> int:
    """N, the size of z (and of the sampling noise)."""
    return self._num_dimensions

  @property
  def slow_cores(self) -> Tuple[PeriodicVariationalUnit, ...]:
    return self._slow_cores

  @property
  def fast_core(self) -> VariationalUnit:
    return self._fast_core

  @property
  def periods(self) -> Tuple[Period, ...]:
    return tuple(core.period for core in self._slow_cores)

  @property
  def gradient_scales(self) -> Tuple[GradientScale, ...]:
    """Fast-to-slow gradient factor of each slow core, in period order."""
    return self._scales

  def reset_noise_seed(self, seed: int) -> None:
    """Makes the sampling noise a fixed sequence starting from `seed`."""
    self._noise.reset_from_seed(seed)

  def distributions(self, distribution_params) -> Tuple[
      tfp.distributions.Distribution, ...]:
    """Turns `RPTHOutput.distribution_params` into tfp distributions."""
    return tuple(make_distribution(p, self._use_tfd_independent)
                 for p in distribution_params)

  def __call__(self, inputs: tf.Tensor,
               prev_state: RPTHState) -> Tuple[RPTHOutput, RPTHState]:
    """One step.

    Args:
      inputs: [B, F] embedded input (trailing dims are flattened), or an
        `RPTHInput(embedding, noise [B, N])` to sample z with that noise
        instead of the module's own generator.
      prev_state: `RPTHState` of the previous step.

    Returns:
      (RPTHOutput(z [B, N], (posterior, priors...)), RPTHState).
    """
    if not isinstance(prev_state, RPTHState):
      raise ValueError(
          f'prev_state must be an RPTHState, got {type(prev_state)}.')
    noise = None
    if isinstance(inputs, RPTHInput):
      inputs, noise = inputs.embedding, inputs.noise
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank is not None and inputs.shape.rank < 2:
      raise ValueError(
          f'inputs must have shape [B, F, ...], got shape {inputs.shape}.')
    inputs = tf.reshape(inputs, [tf.shape(inputs)[0],
                                 inputs.shape[1:].num_elements() or -1])
    z_prev = tf.cast(prev_state.z, inputs.dtype)
    slow_inputs = tf.concat([inputs, z_prev], axis=-1)
    memory = self._shared_memory_state(prev_state.core_state[-1])

    priors, slow_states = [], []
    for core, state in zip(self._slow_cores, prev_state.core_state[:-1]):
      if memory is not None:
        state = state._replace(
            core_state=state.core_state._replace(access_state=memory))
      prior, state = core(slow_inputs, state)
      memory = self._shared_memory_state(state.core_state)
      priors.append(prior)
      slow_states.append(state)

    fast_inputs = [inputs]
    for prior, grad_scale in zip(priors, self._scales):
      fast_inputs += [scale_gradient(prior.loc, grad_scale),
                      scale_gradient(prior.scale, grad_scale)]
    fast_state = prev_state.core_state[-1]
    if memory is not None:
      fast_state = fast_state._replace(access_state=memory)
    posterior, fast_state = self._fast_core(
        tf.concat(fast_inputs, axis=-1), fast_state)

    if noise is None:
      eps = self._noise.normal(tf.shape(posterior.loc),
                               dtype=posterior.loc.dtype)
    else:
      eps = tf.cast(noise, posterior.loc.dtype)
    z = posterior.loc + posterior.scale * eps
    output = RPTHOutput(z=z, distribution_params=(*priors, posterior))
    state = RPTHState(z=z, core_state=(*slow_states, fast_state),
                      step=prev_state.step + 1)
    return output, state

  def _shared_memory_state(self, core_state):
    """The AccessState in a DNCState, or None without shared memory."""
    if self._shared_memory is None:
      return None
    return core_state.access_state

  def initial_state(self, batch_size: int, **unused_kwargs) -> RPTHState:
    """Returns RPTHState(zero z [B, N], (slow..., fast states), step 0)."""
    core_state = tuple(core.initial_state(batch_size)
                       for core in (*self._slow_cores, self._fast_core))
    return RPTHState(
        z=tf.zeros([batch_size, self._num_dimensions]),
        core_state=core_state,
        step=tf.zeros([batch_size], dtype=tf.int32))
