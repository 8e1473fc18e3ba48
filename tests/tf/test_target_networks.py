"""Target network updates (hard copies, Polyak averaging) against numpy."""

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf import target_networks


def _pair(seed_online=0, seed_target=1):
  online = snt.nets.MLP([3, 2], w_init=tf.initializers.RandomNormal(
      seed=seed_online), b_init=tf.initializers.RandomNormal(seed=seed_online))
  target = snt.nets.MLP([3, 2], w_init=tf.initializers.RandomNormal(
      seed=seed_target), b_init=tf.initializers.RandomNormal(seed=seed_target))
  online(tf.zeros([1, 4]))
  target(tf.zeros([1, 4]))
  return online, target


def _values(module):
  return [v.numpy().copy() for v in module.variables]


def test_hard_update_copies_every_variable():
  online, target = _pair()
  assert not np.allclose(_values(online)[0], _values(target)[0])
  target_networks.hard_update(online.variables, target.variables)
  for a, b in zip(_values(online), _values(target)):
    np.testing.assert_array_equal(a, b)


def test_soft_update_is_polyak_averaging():
  online, target = _pair()
  before_online, before_target = _values(online), _values(target)
  target_networks.soft_update(online.variables, target.variables, 0.1)
  for a, b, after in zip(before_online, before_target, _values(target)):
    np.testing.assert_allclose(after, 0.1 * a + 0.9 * b, rtol=1e-6)
  for a, after in zip(before_online, _values(online)):
    np.testing.assert_array_equal(a, after)  # The online side is untouched.


def test_updater_hard_copies_every_period_calls_inside_tf_function():
  online, target = _pair()
  updater = target_networks.TargetUpdater(online.variables, target.variables,
                                          period=3)
  call = tf.function(updater)
  start = _values(target)
  for variable in online.variables:  # Online moves away after each copy.
    variable.assign_add(tf.ones_like(variable))
  assert not call().numpy() and not call().numpy()
  for a, b in zip(start, _values(target)):
    np.testing.assert_array_equal(a, b)  # Calls 1, 2: no change.
  assert call().numpy()  # Call 3: copy.
  for a, b in zip(_values(online), _values(target)):
    np.testing.assert_array_equal(a, b)
  assert int(updater.num_calls.numpy()) == 3


def test_updater_soft_updates_every_call():
  online, target = _pair()
  o, t = _values(online), _values(target)
  updater = target_networks.TargetUpdater(online.variables, target.variables,
                                          tau=0.5)
  updater()
  updater()
  for a, b, after in zip(o, t, _values(target)):
    # Two steps: t2 = 0.5 o + 0.5 (0.5 o + 0.5 t) = 0.75 o + 0.25 t.
    np.testing.assert_allclose(after, 0.75 * a + 0.25 * b, rtol=1e-6)


def test_updater_state_is_only_its_counter():
  online, target = _pair()
  updater = target_networks.TargetUpdater(online.variables, target.variables,
                                          period=2)
  assert [v.name for v in updater.variables] == ["num_calls:0"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "exactly one"), (dict(period=2, tau=0.1), "exactly one"),
    (dict(period=0), "period"), (dict(tau=1.5), "tau")])
def test_updater_rejects_bad_arguments(kwargs, message):
  online, target = _pair()
  with pytest.raises(ValueError, match=message):
    target_networks.TargetUpdater(online.variables, target.variables,
                                  **kwargs)


def test_mismatched_networks_are_refused():
  online, _ = _pair()
  other = snt.Linear(5)
  other(tf.zeros([1, 4]))
  with pytest.raises(ValueError, match="differ"):
    target_networks.hard_update(online.variables, other.variables)
  with pytest.raises(ValueError, match="tau"):
    target_networks.soft_update(online.variables, online.variables, 2.0)
