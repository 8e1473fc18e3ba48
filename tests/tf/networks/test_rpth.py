"""Tests for ftw.tf.networks.rpth (the FTW agent's temporal hierarchy)."""

import ftw  # noqa: F401  (quiets TensorFlow first)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf
import tensorflow_probability as tfp
import tree

from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.dnc.access import MemoryAccess
from ftw.tf.networks.dnc_wrapper import DNCState
from ftw.tf.networks.rpth import RPTH
from ftw.tf.networks.rpth import RPTHOutput
from ftw.tf.networks.rpth import RPTHState
from ftw.tf.networks.variational import PeriodicRNNState

tfd = tfp.distributions
HIDDEN, DIMS, FEATURES, BATCH = 8, 3, 5, 2


def _rpth(**kwargs):
  args = dict(period=3, hidden_size=HIDDEN, num_dimensions=DIMS)
  args.update(kwargs)
  return RPTH(**args)


def _memory():
  return MemoryAccess(memory_size=8, word_size=4, num_reads=1, num_writes=1)


def _flat(nest):
  return [np.asarray(x) for x in tree.flatten(nest)]


def _assert_nests_close(a, b, **tolerances):
  flat_a, flat_b = _flat(a), _flat(b)
  assert len(flat_a) == len(flat_b)
  for x, y in zip(flat_a, flat_b):
    np.testing.assert_allclose(x, y, **tolerances)


def _nests_equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(_flat(a), _flat(b)))


def _full_loss(output):
  """Depends on z and on every loc and scale (posterior and priors)."""
  loss = tf.reduce_sum(output.z)
  for params in output.distribution_params:
    loss += tf.reduce_sum(params.loc) + tf.reduce_sum(params.scale)
  return loss


def test_output_and_state_structure():
  rpth = _rpth(period=[2, 4])
  state = rpth.initial_state(BATCH)
  assert isinstance(state, RPTHState)
  np.testing.assert_array_equal(state.step.numpy(), [0, 0])
  output, new_state = rpth(tf.random.normal([BATCH, FEATURES]), state)
  assert isinstance(output, RPTHOutput)
  assert output.z.shape == (BATCH, DIMS)
  assert len(output.distribution_params) == 3  # 2 priors, then posterior
  for params in output.distribution_params:
    assert isinstance(params, LocScaleDistributionParameters)
    assert params.loc.shape == (BATCH, DIMS)
    assert params.scale.shape == (BATCH, DIMS)
    assert np.all(params.scale.numpy() > 0)
  np.testing.assert_array_equal(new_state.z.numpy(), output.z.numpy())
  np.testing.assert_array_equal(new_state.step.numpy(), [1, 1])
  assert len(new_state.core_state) == 3
  assert isinstance(new_state.core_state[0], PeriodicRNNState)
  assert isinstance(new_state.core_state[1], PeriodicRNNState)
  assert isinstance(new_state.core_state[2], snt.LSTMState)
  # Each prior is the output its slow core keeps in its state.
  for k in range(2):
    _assert_nests_close(output.distribution_params[k],
                        new_state.core_state[k].output)
  assert rpth.periods == (4, 2)
  np.testing.assert_array_equal(rpth.initial_state(3).step.numpy(), [0] * 3)


def test_period_order_and_gradient_scales():
  rpth = _rpth(period=[2, 5, 3], scale_gradients_fast_to_slow=[0.2, 0.5, 0.3])
  assert rpth.periods == (5, 3, 2)
  assert rpth.gradient_scales == (0.5, 0.3, 0.2)
  rpth = _rpth(period=(2, 5), strict_period_order=False,
               scale_gradients_fast_to_slow=0.5)
  assert rpth.periods == (2, 5)
  assert rpth.gradient_scales == (0.5, 0.5)


def test_priors_update_periodically_and_steps_count():
  rpth = _rpth(period=3)
  state = rpth.initial_state(BATCH)
  outputs = []
  for t, x in enumerate(tf.random.normal([5, BATCH, FEATURES])):
    output, state = rpth(x, state)
    outputs.append(output)
    np.testing.assert_array_equal(state.step.numpy(), [t + 1] * BATCH)
  priors = [o.distribution_params[0] for o in outputs]
  posteriors = [o.distribution_params[-1] for o in outputs]
  assert _nests_equal(priors[1], priors[0])
  assert _nests_equal(priors[2], priors[0])
  assert not np.allclose(priors[3].loc.numpy(), priors[2].loc.numpy())
  assert _nests_equal(priors[4], priors[3])
  for t in range(1, 5):  # The fast core updates every step.
    assert not np.allclose(posteriors[t].loc.numpy(),
                           posteriors[t - 1].loc.numpy())


def test_z_is_reparameterised_posterior_sample():
  rpth = _rpth()
  rpth.reset_noise_seed(7)
  output, _ = rpth(tf.random.normal([BATCH, FEATURES]),
                   rpth.initial_state(BATCH))
  eps = tf.random.Generator.from_seed(7).normal([BATCH, DIMS]).numpy()
  posterior = output.distribution_params[-1]  # The fast core's, last.
  np.testing.assert_allclose(
      output.z.numpy(), posterior.loc.numpy() + posterior.scale.numpy() * eps,
      rtol=1e-6)
  assert not np.allclose(output.z.numpy(), posterior.loc.numpy())


def test_static_and_dynamic_unroll_agree_and_train_every_variable():
  rpth = _rpth(period=[3, 2])
  inputs = tf.random.normal([5, BATCH, FEATURES])
  state = rpth.initial_state(BATCH)
  with tf.GradientTape(persistent=True) as tape:
    rpth.reset_noise_seed(3)
    static_out, static_state = snt.static_unroll(rpth, inputs, state)
    rpth.reset_noise_seed(3)
    dynamic_out, dynamic_state = snt.dynamic_unroll(rpth, inputs, state)
    losses = [_full_loss(static_out), _full_loss(dynamic_out)]
  _assert_nests_close(static_out, dynamic_out, rtol=1e-5, atol=1e-6)
  _assert_nests_close(static_state, dynamic_state, rtol=1e-5, atol=1e-6)
  assert len(rpth.trainable_variables) == 3 * 7  # LSTM 3 + head 4, 3 cores
  for loss in losses:
    grads = tape.gradient(loss, rpth.trainable_variables)
    for variable, grad in zip(rpth.trainable_variables, grads):
      assert grad is not None and np.any(grad.numpy() != 0), variable.name


def _posterior_only_grads(rpth, steps=4):
  """Gradients of a loss on the posterior (and z) only, per variable name."""
  inputs = tf.random.normal([steps, BATCH, FEATURES], seed=1)
  with tf.GradientTape() as tape:
    output, _ = snt.static_unroll(rpth, inputs, rpth.initial_state(BATCH))
    posterior = output.distribution_params[-1]
    loss = (tf.reduce_sum(output.z) + tf.reduce_sum(posterior.loc ** 2)
            + tf.reduce_sum(posterior.scale))
  grads = tape.gradient(loss, rpth.trainable_variables)
  return {v.name: (0.0 if g is None else float(tf.reduce_sum(tf.abs(g))))
          for v, g in zip(rpth.trainable_variables, grads)}


def _grad_sums(grads, core_name):
  return [g for name, g in grads.items() if f'/{core_name}/' in name]


def test_zero_gradient_scale_stops_fast_to_slow_gradient():
  grads = _posterior_only_grads(_rpth(period=2,
                                      scale_gradients_fast_to_slow=0.0))
  assert all(g == 0.0 for g in _grad_sums(grads, 'slow_core_0'))
  assert all(g > 0.0 for g in _grad_sums(grads, 'fast_core'))
  # With the default scale 1 the same loss trains the slow core.
  grads = _posterior_only_grads(_rpth(period=2))
  assert all(g > 0.0 for g in _grad_sums(grads, 'slow_core_0'))


def test_gradient_scale_per_slow_core_and_as_variable():
  grads = _posterior_only_grads(_rpth(
      period=[3, 2], scale_gradients_fast_to_slow=[0.0, 1.0]))
  assert all(g == 0.0 for g in _grad_sums(grads, 'slow_core_0'))  # period 3
  assert all(g > 0.0 for g in _grad_sums(grads, 'slow_core_1'))  # period 2
  scale = tf.Variable(1.0, trainable=False)
  rpth = _rpth(period=2, scale_gradients_fast_to_slow=scale)
  assert all(g > 0.0 for g in _grad_sums(_posterior_only_grads(rpth),
                                         'slow_core_0'))
  scale.assign(0.0)
  assert all(g == 0.0 for g in _grad_sums(_posterior_only_grads(rpth),
                                          'slow_core_0'))


def test_gradient_scale_multiplies_one_step_gradient():
  # In one step the slow core reaches the posterior only through the scaled
  # prior, so its gradient is exactly linear in the scale.
  scale = tf.Variable(1.0, trainable=False)
  rpth = _rpth(period=2, scale_gradients_fast_to_slow=scale)
  x = tf.random.normal([BATCH, FEATURES])

  def slow_grads():
    with tf.GradientTape() as tape:
      output, _ = rpth(x, rpth.initial_state(BATCH))
      loss = tf.reduce_sum(output.distribution_params[-1].loc ** 2)
    variables = rpth.slow_cores[0].trainable_variables
    return [g.numpy() for g in tape.gradient(loss, variables)]

  full = slow_grads()
  # All but the LSTM's w_h (h_{-1} = 0 in the first step) get a gradient.
  assert sum(np.any(g != 0) for g in full) == len(full) - 1
  scale.assign(0.25)
  for quarter, whole in zip(slow_grads(), full):
    np.testing.assert_allclose(quarter, 0.25 * whole, rtol=1e-5, atol=1e-9)


def test_tf_function_matches_eager():
  rpth = _rpth(period=2)
  inputs = tf.random.normal([3, BATCH, FEATURES])
  step = tf.function(rpth)
  results = []
  for core in (rpth, step):
    rpth.reset_noise_seed(11)
    state = rpth.initial_state(BATCH)
    outputs = []
    for x in inputs:  # Traced once: every call has the same signature.
      output, state = core(x, state)
      outputs.append(output)
    results.append((outputs, state))
  _assert_nests_close(results[0], results[1], rtol=1e-5, atol=1e-6)
  assert step.experimental_get_tracing_count() == 1


def test_checkpoint_round_trip(tmp_path):
  rpth = _rpth(period=2)
  x = tf.random.normal([2, BATCH, FEATURES])
  _, state = rpth(x[0], rpth.initial_state(BATCH))
  path = tf.train.Checkpoint(module=rpth).save(str(tmp_path / 'rpth'))
  expected, _ = rpth(x[1], state)

  restored = _rpth(period=2)
  tf.train.Checkpoint(module=restored).restore(path)
  got, _ = restored(x[1], state)  # Weights and noise state are restored.
  _assert_nests_close(expected, got, rtol=0, atol=0)
  for a, b in zip(rpth.variables, restored.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_distributions_helper():
  for independent, kind in [(False, tfd.MultivariateNormalDiag),
                            (True, tfd.Independent)]:
    rpth = _rpth(use_tfd_independent=independent)
    output, _ = rpth(tf.ones([BATCH, FEATURES]), rpth.initial_state(BATCH))
    prior, posterior = rpth.distributions(output.distribution_params)
    assert isinstance(posterior, kind) and isinstance(prior, kind)
    assert posterior.event_shape == (DIMS,)
    kl = tfd.kl_divergence(posterior, prior)
    assert kl.shape == (BATCH,) and np.all(kl.numpy() >= 0)


@pytest.mark.parametrize('kwargs,argument', [
    (dict(period=0), 'period'),
    (dict(period=[]), 'period'),
    (dict(period=[3, -1]), r'period\[1\]'),
    (dict(period='3'), 'period'),
    (dict(period=3.0), 'period'),
    (dict(period=tf.Variable(3)), 'period'),  # trainable
    (dict(hidden_size=0), 'hidden_size'),
    (dict(num_dimensions=-2), 'num_dimensions'),
    (dict(num_dimensions=None), 'num_dimensions'),
    (dict(dnc_clip_value='x'), 'dnc_clip_value'),
    (dict(use_dnc_linear_projection=None), 'use_dnc_linear_projection'),
    (dict(init_scale=0), 'init_scale'),
    (dict(min_scale=-1), 'min_scale'),
    (dict(tanh_mean='no'), 'tanh_mean'),
    (dict(fixed_scale=0), 'fixed_scale'),
    (dict(use_tfd_independent=1), 'use_tfd_independent'),
    (dict(w_init=1.0), 'w_init'),
    (dict(b_init='zeros'), 'b_init'),
    (dict(shared_memory=snt.LSTM(4)), 'shared_memory'),
    (dict(strict_period_order='yes'), 'strict_period_order'),
    (dict(scale_gradients_fast_to_slow=-0.5), 'scale_gradients_fast_to_slow'),
    (dict(scale_gradients_fast_to_slow='1'), 'scale_gradients_fast_to_slow'),
    (dict(period=[3, 2], scale_gradients_fast_to_slow=[1.0]),
     'scale_gradients_fast_to_slow'),
    (dict(scale_gradients_fast_to_slow=tf.Variable(1.0)),
     'scale_gradients_fast_to_slow'),  # trainable
    (dict(scale_gradients_fast_to_slow=tf.Variable(1, trainable=False)),
     'scale_gradients_fast_to_slow'),  # integer
    (dict(name=''), 'name'),
])
def test_rejects_bad_arguments(kwargs, argument):
  with pytest.raises(ValueError, match=argument):
    _rpth(**kwargs)


def test_rejects_bad_call_arguments():
  rpth = _rpth()
  state = rpth.initial_state(BATCH)
  with pytest.raises(ValueError, match='prev_state'):
    rpth(tf.ones([BATCH, FEATURES]), tuple(state))
  with pytest.raises(ValueError, match='inputs'):
    rpth(tf.ones([BATCH]), state)


def test_shared_memory_is_one_module_passed_between_cores():
  memory = _memory()
  rpth = _rpth(period=2, shared_memory=memory)
  cores = (*rpth.slow_cores, rpth.fast_core)
  assert all(core.core.memory is memory for core in cores)
  state0 = rpth.initial_state(BATCH)
  assert isinstance(state0.core_state[0].core_state, DNCState)
  assert isinstance(state0.core_state[1], DNCState)
  x = tf.random.normal([3, BATCH, FEATURES])

  # Step 0: the fast core starts from the memory the slow core wrote.
  out1, state1 = rpth(x[0], state0)
  slow_access = state1.core_state[0].core_state.access_state
  assert np.any(slow_access.memory.numpy() != 0)
  prior = out1.distribution_params[0]
  fast_inputs = tf.concat([x[0], prior.loc, prior.scale], axis=-1)
  _, fast_state = rpth.fast_core(
      fast_inputs, state0.core_state[1]._replace(access_state=slow_access))
  _assert_nests_close(fast_state, state1.core_state[1], rtol=1e-6, atol=1e-7)
  _, unshared = rpth.fast_core(fast_inputs, state0.core_state[1])
  assert not np.allclose(unshared.access_state.memory.numpy(),
                         state1.core_state[1].access_state.memory.numpy())

  names = [v.name for v in rpth.trainable_variables]
  assert len(names) == len(set(names))  # memory weights appear once
  assert sum(name.startswith('memory_access/') for name in names) == 20

  # Step 1: the slow core does not update and passes the memory on as is.
  _, state2 = rpth(x[1], state1)
  _assert_nests_close(state2.core_state[0].core_state.access_state,
                      state1.core_state[1].access_state, rtol=0, atol=0)

  # Step 2: the slow core updates, starting from the fast core's memory.
  _, state3 = rpth(x[2], state2)
  slow_prev = state2.core_state[0]
  slow_prev = slow_prev._replace(core_state=slow_prev.core_state._replace(
      access_state=state2.core_state[1].access_state))
  slow_inputs = tf.concat([x[2], state2.z], axis=-1)
  _, slow_state = rpth.slow_cores[0](slow_inputs, slow_prev)
  _assert_nests_close(slow_state, state3.core_state[0], rtol=1e-6, atol=1e-7)


def test_shared_memory_gradients_reach_every_variable():
  rpth = _rpth(period=2, shared_memory=_memory(), dnc_clip_value=10.0)
  inputs = tf.random.normal([4, BATCH, FEATURES])
  with tf.GradientTape() as tape:
    output, _ = snt.dynamic_unroll(rpth, inputs, rpth.initial_state(BATCH))
    loss = _full_loss(output)
  variables = rpth.trainable_variables
  assert len(variables) == 2 * 9 + 20  # 2 cores (LSTM, projection, head)
  for variable, grad in zip(variables, tape.gradient(loss, variables)):
    assert grad is not None and np.any(grad.numpy() != 0), variable.name


def test_z_wrapper_outputs_z_and_shares_state_and_variables():
  from ftw.tf.networks.auxiliary import RNNPixelControlNetwork  # pylint: disable=g-import-not-at-top
  from ftw.tf.networks.recurrence import RPTHZWrapper  # pylint: disable=g-import-not-at-top
  rpth = _rpth()
  wrapper = RPTHZWrapper(rpth)
  x = tf.random.normal([BATCH, FEATURES])
  rpth.reset_noise_seed(3)
  output, state = rpth(x, rpth.initial_state(BATCH))
  rpth.reset_noise_seed(3)
  z, wrapped_state = wrapper(x, wrapper.initial_state(BATCH))
  np.testing.assert_allclose(z.numpy(), output.z.numpy())
  _assert_nests_close(wrapped_state, state)
  assert {v.ref() for v in wrapper.trainable_variables} == {
      v.ref() for v in rpth.trainable_variables}
  # It feeds an RNN head that expects a tensor-output core.
  head = RNNPixelControlNetwork(snt.Linear(FEATURES), wrapper, num_actions=2)
  q = head.unroll(tf.random.normal([3, BATCH, 5]), head.initial_state(BATCH))
  assert q.shape == (3, BATCH, 20, 20, 2)
  with pytest.raises(ValueError, match="rpth"):
    RPTHZWrapper(snt.LSTM(3))
