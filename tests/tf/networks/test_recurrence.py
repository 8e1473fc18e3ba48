"""Tests for ftw.tf.networks.recurrence: one import path, the documented API."""

import ftw  # noqa: F401  (quiets TensorFlow first)

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
def test_namedtuples_build_by_name_and_unpack_in_documented_order(
    namedtuple_class, fields):
  values = [object() for _ in fields]
  built = namedtuple_class(**dict(zip(fields, values)))
  unpacked = tuple(built)  # Positional unpacking, as documented.
  assert len(unpacked) == len(fields)
  assert all(a is b for a, b in zip(unpacked, values))


_UNIT_KWARGS = dict(
    shared_memory=None, dnc_clip_value=None, use_dnc_linear_projection=True,
    init_scale=0.1, min_scale=1e-6, tanh_mean=False, fixed_scale=False,
    w_init=None, b_init=None)


@pytest.mark.parametrize('make', [
    lambda: recurrence.VariationalUnit(8, 4, **_UNIT_KWARGS,
                                       name='variational_unit'),
    lambda: recurrence.PeriodicVariationalUnit(
        2, 8, 4, **_UNIT_KWARGS, name='periodic_variational_unit'),
    lambda: recurrence.RPTH(
        2, hidden_size=8, num_dimensions=4, dnc_clip_value=None,
        use_dnc_linear_projection=True, init_scale=0.1, min_scale=1e-6,
        tanh_mean=False, fixed_scale=False, use_tfd_independent=False,
        w_init=None, b_init=None, shared_memory=None,
        strict_period_order=True, scale_gradients_fast_to_slow=1.0,
        name='rpth'),
], ids=['VariationalUnit', 'PeriodicVariationalUnit', 'RPTH'])
def test_cores_built_with_every_documented_argument_step(make):
  """Code written against the documented constructors runs unchanged."""
  core = make()
  output, state = core(tf.ones([2, 5]), core.initial_state(2))
  assert isinstance(state, type(core.initial_state(2)))
  del output


def test_head_built_with_every_documented_argument():
  head = distributional.MultivariateNormalDiagLocScaleHead(
      4, init_scale=0.3, min_scale=1e-6, tanh_mean=False, fixed_scale=False,
      w_init=None, b_init=None)
  params = head(tf.ones([2, 5]))
  loc, scale = params
  assert loc.shape == (2, 4) and np.all(scale.numpy() > 0)
