"""Tests for ftw.tf.networks.distributional."""

import ftw  # noqa: F401  (quiets TensorFlow first)

import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf
import tensorflow_probability as tfp

from ftw.tf.networks import distributional
from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.distributional import MultivariateNormalDiagHead
from ftw.tf.networks.distributional import MultivariateNormalDiagLocScaleHead

tfd = tfp.distributions


def _softplus(x):
  return np.log1p(np.exp(x))


def _layer_params(head, layer_name):
  """Returns (w, b) numpy arrays of the head's linear layer `layer_name`."""
  params = {v.name.split('/')[-2] + '/' + v.name.split('/')[-1][0]: v.numpy()
            for v in head.variables}
  return params[layer_name + '/w'], params[layer_name + '/b']


def _expected_loc_scale(head, x, init_scale, min_scale, tanh_mean):
  w_loc, b_loc = _layer_params(head, 'loc')
  w_scale, b_scale = _layer_params(head, 'scale')
  loc = x @ w_loc + b_loc
  if tanh_mean:
    loc = np.tanh(loc)
  scale = (_softplus(x @ w_scale + b_scale) * init_scale / _softplus(0.0)
           + min_scale)
  return loc, scale


@pytest.mark.parametrize('tanh_mean', [False, True])
def test_loc_scale_head_matches_numpy(tanh_mean):
  head = MultivariateNormalDiagLocScaleHead(
      num_dimensions=3, init_scale=0.5, min_scale=0.01, tanh_mean=tanh_mean,
      b_init=tf.initializers.RandomNormal(stddev=1.0))
  x = np.random.RandomState(0).normal(size=(4, 5)).astype(np.float32) * 3
  params = head(tf.constant(x))
  assert isinstance(params, LocScaleDistributionParameters)
  assert params.loc.shape == (4, 3) and params.scale.shape == (4, 3)
  loc, scale = _expected_loc_scale(head, x, 0.5, 0.01, tanh_mean)
  np.testing.assert_allclose(params.loc.numpy(), loc, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(params.scale.numpy(), scale, rtol=1e-5)
  assert np.all(params.scale.numpy() > 0.01)
  if tanh_mean:
    assert np.all(np.abs(params.loc.numpy()) <= 1)


def test_loc_scale_head_zero_preactivation_gives_init_scale():
  head = MultivariateNormalDiagLocScaleHead(
      num_dimensions=2, init_scale=0.3, min_scale=1e-3,
      w_init=tf.initializers.Zeros())
  params = head(tf.ones([3, 4]))
  np.testing.assert_allclose(params.scale.numpy(), np.full([3, 2], 0.301),
                             rtol=1e-6)
  np.testing.assert_array_equal(params.loc.numpy(), np.zeros([3, 2]))


def test_loc_scale_head_fixed_scale():
  head = MultivariateNormalDiagLocScaleHead(num_dimensions=3, init_scale=0.7,
                                            fixed_scale=True)
  params = head(tf.random.normal([2, 4]))
  np.testing.assert_allclose(params.scale.numpy(), np.full([2, 3], 0.7))
  # Only the loc layer exists: no scale weights to train.
  assert sorted(v.name.split('/')[-2] for v in head.variables) == ['loc', 'loc']


def test_loc_scale_head_gradients_reach_all_variables():
  head = MultivariateNormalDiagLocScaleHead(num_dimensions=3)
  x = tf.random.normal([2, 4])
  with tf.GradientTape() as tape:
    params = head(x)
    loss = tf.reduce_sum(params.loc ** 2) + tf.reduce_sum(params.scale)
  grads = tape.gradient(loss, head.trainable_variables)
  assert len(grads) == 4
  for grad in grads:
    assert grad is not None and np.any(grad.numpy() != 0)


def test_default_keras_initializer_gives_distinct_weights():
  heads = [MultivariateNormalDiagHead(num_dimensions=3) for _ in range(2)]
  x = tf.ones([1, 4])
  for head in heads:
    head(x)
  weights = [v.numpy() for head in heads for v in head.variables
             if v.name.endswith('w:0')]
  assert len(weights) == 4
  for i in range(4):
    for j in range(i + 1, 4):
      assert not np.allclose(weights[i], weights[j])
  # VarianceScaling(1e-4) keeps initial weights tiny.
  assert max(np.abs(w).max() for w in weights) < 0.05


@pytest.mark.parametrize('use_tfd_independent,expected_type', [
    (False, tfd.MultivariateNormalDiag), (True, tfd.Independent)])
def test_diag_head_distribution(use_tfd_independent, expected_type):
  head = MultivariateNormalDiagHead(
      num_dimensions=3, init_scale=0.4, min_scale=0.0,
      use_tfd_independent=use_tfd_independent,
      w_init=tf.initializers.RandomNormal(stddev=0.5))
  x = np.random.RandomState(1).normal(size=(5, 4)).astype(np.float32)
  dist = head(tf.constant(x))
  assert isinstance(dist, expected_type)
  assert dist.batch_shape == (5,) and dist.event_shape == (3,)
  loc, scale = _expected_loc_scale(head._loc_scale_head, x, 0.4, 0.0, False)
  np.testing.assert_allclose(dist.mean().numpy(), loc, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(dist.stddev().numpy(), scale, rtol=1e-5)
  # log_prob of a diagonal normal, summed over dimensions.
  value = np.zeros([5, 3], np.float32)
  expected = np.sum(-0.5 * ((value - loc) / scale) ** 2 - np.log(scale)
                    - 0.5 * np.log(2 * np.pi), axis=-1)
  np.testing.assert_allclose(dist.log_prob(value).numpy(), expected,
                             rtol=1e-4)


def test_make_distribution_types():
  params = LocScaleDistributionParameters(tf.zeros([2, 3]), tf.ones([2, 3]))
  assert isinstance(distributional.make_distribution(params),
                    tfd.MultivariateNormalDiag)
  assert isinstance(distributional.make_distribution(params, True),
                    tfd.Independent)


def test_loc_scale_head_rejects_bad_input_rank():
  head = MultivariateNormalDiagLocScaleHead(num_dimensions=3)
  with pytest.raises(ValueError, match='inputs'):
    head(tf.ones([2, 3, 4]))


@pytest.mark.parametrize('kwargs,argument', [
    (dict(num_dimensions=0), 'num_dimensions'),
    (dict(num_dimensions=-2), 'num_dimensions'),
    (dict(num_dimensions=2.5), 'num_dimensions'),
    (dict(num_dimensions=True), 'num_dimensions'),
    (dict(num_dimensions=3, init_scale=0.0), 'init_scale'),
    (dict(num_dimensions=3, init_scale='big'), 'init_scale'),
    (dict(num_dimensions=3, init_scale=float('nan')), 'init_scale'),
    (dict(num_dimensions=3, min_scale=-1e-3), 'min_scale'),
    (dict(num_dimensions=3, tanh_mean=1), 'tanh_mean'),
    (dict(num_dimensions=3, fixed_scale='no'), 'fixed_scale'),
    (dict(num_dimensions=3, w_init=3), 'w_init'),
    (dict(num_dimensions=3, b_init='zeros'), 'b_init'),
])
@pytest.mark.parametrize('head_class', [MultivariateNormalDiagHead,
                                        MultivariateNormalDiagLocScaleHead])
def test_heads_reject_bad_arguments(head_class, kwargs, argument):
  with pytest.raises(ValueError, match=argument):
    head_class(**kwargs)


def test_diag_head_rejects_bad_use_tfd_independent():
  with pytest.raises(ValueError, match='use_tfd_independent'):
    MultivariateNormalDiagHead(num_dimensions=3, use_tfd_independent=None)


def test_sonnet_initializers_are_accepted():
  head = MultivariateNormalDiagLocScaleHead(
      num_dimensions=2, w_init=snt.initializers.Constant(0.0),
      b_init=snt.initializers.Constant(1.0))
  params = head(tf.ones([1, 3]))
  np.testing.assert_allclose(params.loc.numpy(), [[1.0, 1.0]])
