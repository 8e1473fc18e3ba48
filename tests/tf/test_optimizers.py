"""Tests for ftw.tf.optimizers.FusedAdam against Sonnet's Adam."""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf

from ftw.tf.optimizers import FusedAdam


def _variables(seed):
  rng = np.random.default_rng(seed)
  return [tf.Variable(rng.normal(size=s).astype(np.float32))
          for s in ((3, 4), (4,), (2, 2, 3))]


def _run(optimizer, variables, steps, seed, apply=None):
  rng = np.random.default_rng(seed)
  apply = apply or optimizer.apply
  for _ in range(steps):
    # Gradients from 1e-4 to 1: epsilon matters where v is small.
    grads = [tf.constant((rng.normal(size=v.shape) *
                          10.0 ** rng.integers(-4, 1, size=v.shape))
                         .astype(np.float32)) for v in variables]
    grads[1] = None if rng.random() < 0.3 else grads[1]  # Skipped at times.
    apply(grads, variables)


@pytest.mark.parametrize("epsilon", [1e-8, 1e-3, 0.1])
def test_fused_adam_follows_sonnet_adam(epsilon):
  ours, theirs = _variables(0), _variables(0)
  fused = FusedAdam(learning_rate=0.01, beta1=0.8, beta2=0.99, epsilon=epsilon)
  sonnet = snt.optimizers.Adam(learning_rate=0.01, beta1=0.8, beta2=0.99,
                               epsilon=epsilon)
  _run(fused, ours, 12, seed=1)
  _run(sonnet, theirs, 12, seed=1)
  for a, b, start in zip(ours, theirs, _variables(0)):
    assert not np.allclose(a.numpy(), start.numpy())  # It moved.
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=1e-6)
  for slot in ("m", "v"):
    for a, b in zip(getattr(fused, slot), getattr(sonnet, slot)):
      np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=1e-9)
  assert int(fused.step.numpy()) == int(sonnet.step.numpy()) == 12


def test_fused_adam_in_a_tf_function_reads_a_variable_learning_rate():
  ours, theirs = _variables(2), _variables(2)
  for optimizer, variables in ((FusedAdam, ours), (snt.optimizers.Adam, theirs)):
    rate = tf.Variable(0.05)
    adam = optimizer(learning_rate=rate)
    apply = tf.function(adam.apply)
    _run(adam, variables, 3, seed=3, apply=apply)
    rate.assign(0.002)  # Read at each call, not fixed when traced.
    _run(adam, variables, 3, seed=4, apply=apply)
  for a, b, s in zip(ours, theirs, _variables(2)):
    assert not np.allclose(a.numpy(), s.numpy())  # It moved.
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=1e-6)
  # Had the rate stayed 0.05, FusedAdam would land elsewhere.
  fixed = _variables(2)
  adam = FusedAdam(learning_rate=0.05)
  _run(adam, fixed, 3, seed=3)
  _run(adam, fixed, 3, seed=4)
  assert not np.allclose(fixed[0].numpy(), ours[0].numpy(), atol=1e-4)


def test_fused_adam_checkpoint_loads_into_sonnet_adam(tmp_path):
  ours, theirs = _variables(4), _variables(5)
  fused = FusedAdam(learning_rate=0.01)
  _run(fused, ours, 3, seed=6)
  sonnet = snt.optimizers.Adam(learning_rate=0.01)
  sonnet._initialize(theirs)  # pylint: disable=protected-access
  path = tf.train.Checkpoint(optimizer=fused, params=ours).save(
      str(tmp_path / "ckpt"))
  tf.train.Checkpoint(optimizer=sonnet, params=theirs).restore(
      path).assert_consumed()
  assert int(sonnet.step.numpy()) == 3
  for a, b in zip(fused.v, sonnet.v):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fused_adam_sparse_updates_take_sonnet_path():
  ours, theirs = tf.Variable(tf.ones([5, 2])), tf.Variable(tf.ones([5, 2]))
  grad = tf.IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0]]),
                          tf.constant([1, 3]), tf.constant([5, 2]))
  FusedAdam(0.1).apply([grad], [ours])
  snt.optimizers.Adam(0.1).apply([grad], [theirs])
  np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
  assert ours.numpy()[0, 0] == 1.0 and ours.numpy()[1, 0] < 1.0


def test_fused_adam_bad_arguments_name_the_problem():
  variables = _variables(0)
  optimizer = FusedAdam()
  with pytest.raises(ValueError, match="same length"):
    optimizer.apply([tf.zeros([3, 4])], variables)
  with pytest.raises(ValueError, match="empty"):
    optimizer.apply([], [])
  with pytest.raises(ValueError, match="all None"):
    optimizer.apply([None, None, None], variables)
  with pytest.raises(ValueError, match="dtype float64"):
    optimizer.apply([tf.zeros([3, 4], tf.float64), None, None], variables)
