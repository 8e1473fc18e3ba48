"""Tests for ftw.tf.networks.recurrence: one import path, the documented API."""

import ftw  # noqa: F401  (quiets TensorFlow first)

import inspect

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.networks import distributional
from ftw.tf.networks import dnc_wrapper
from ftw.tf.networks import recurrence
from ftw.tf.networks import rpth
from ftw.tf.networks import variational


def test_reexports_are_the_defining_objects():
  assert recurrence.DNCWrapper is dnc_wrapper.DNCWrapper
  assert recurrence.DNCState is dnc_wrapper.DNCState
  assert (recurrence.LocScaleDistributionParameters
          is distributional.LocScaleDistributionParameters)
  assert recurrence.VariationalUnit is variational.VariationalUnit
  assert (recurrence.PeriodicVariationalUnit
          is variational.PeriodicVariationalUnit)
  assert recurrence.PeriodicRNNState is variational.PeriodicRNNState
  assert recurrence.RPTH is rpth.RPTH
  assert recurrence.RPTHState is rpth.RPTHState
  assert recurrence.RPTHOutput is rpth.RPTHOutput
  assert issubclass(recurrence.PeriodicVariationalUnit,
                    recurrence.VariationalUnit)
  for core in (recurrence.VariationalUnit, recurrence.RPTH):
    assert issubclass(core, snt.RNNCore)


@pytest.mark.parametrize('namedtuple_class,fields', [
    (recurrence.LocScaleDistributionParameters, ('loc', 'scale')),
    (recurrence.PeriodicRNNState, ('core_state', 'output', 'step')),
    (recurrence.RPTHState, ('z', 'core_state', 'step')),
    (recurrence.RPTHOutput, ('z', 'distribution_params')),
])
def test_namedtuple_fields(namedtuple_class, fields):
  assert namedtuple_class._fields == fields


_UNIT_DEFAULTS = dict(
    shared_memory=None, dnc_clip_value=None, use_dnc_linear_projection=True,
    init_scale=0.1, min_scale=1e-6, tanh_mean=False, fixed_scale=False,
    w_init=None, b_init=None)


@pytest.mark.parametrize('function,positional,defaults', [
    (recurrence.VariationalUnit.__init__, ['hidden_size', 'num_dimensions'],
     dict(_UNIT_DEFAULTS, name='variational_unit')),
    (recurrence.PeriodicVariationalUnit.__init__,
     ['period', 'hidden_size', 'num_dimensions'],
     dict(_UNIT_DEFAULTS, name='periodic_variational_unit')),
    (recurrence.RPTH.__init__, ['period'], dict(
        hidden_size=256, num_dimensions=256, dnc_clip_value=None,
        use_dnc_linear_projection=True, init_scale=0.1, min_scale=1e-6,
        tanh_mean=False, fixed_scale=False, use_tfd_independent=False,
        w_init=None, b_init=None, shared_memory=None,
        strict_period_order=True, scale_gradients_fast_to_slow=1.0,
        name='rpth')),
    (distributional.MultivariateNormalDiagLocScaleHead.__init__,
     ['num_dimensions'], dict(init_scale=0.3, min_scale=1e-6,
                              tanh_mean=False, fixed_scale=False,
                              w_init=None, b_init=None)),
])
def test_constructor_signatures_match_reference(function, positional,
                                                defaults):
  parameters = list(inspect.signature(function).parameters.values())[1:]
  assert [p.name for p in parameters] == positional + list(defaults)
  for p in parameters:
    if p.name in defaults:
      assert p.default == defaults[p.name], p.name
    else:
      assert p.default is inspect.Parameter.empty, p.name


def test_diag_head_signature_and_default_initializers():
  parameters = inspect.signature(
      distributional.MultivariateNormalDiagHead.__init__).parameters
  assert list(parameters)[1:] == [
      'num_dimensions', 'init_scale', 'min_scale', 'tanh_mean', 'fixed_scale',
      'use_tfd_independent', 'w_init', 'b_init']
  w_init = parameters['w_init'].default
  assert isinstance(w_init, tf.keras.initializers.VarianceScaling)
  assert w_init.get_config()['scale'] == 1e-4
  assert isinstance(parameters['b_init'].default, tf.keras.initializers.Zeros)


def test_cores_unroll_through_the_reexported_names():
  core = recurrence.RPTH(period=2, hidden_size=8, num_dimensions=3)
  inputs = tf.random.normal([3, 2, 4])
  output, state = snt.static_unroll(core, inputs, core.initial_state(2))
  assert isinstance(state, recurrence.RPTHState)
  assert output.z.shape == (3, 2, 3)
  np.testing.assert_array_equal(state.step.numpy(), [3, 3])
