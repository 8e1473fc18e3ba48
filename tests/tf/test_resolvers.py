"""Action resolvers and exploration schedules against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf import resolvers


def test_apex_epsilons_follow_the_formula():
  # eps_i = 0.4^(1 + 7 i / 7) = 0.4^(1 + i) for N = 8.
  np.testing.assert_allclose(resolvers.apex_epsilons(8, 0.4, 7.0),
                             0.4 ** (1.0 + np.arange(8)), rtol=1e-6)
  # N = 3, alpha 2: exponents 1, 2, 3.
  np.testing.assert_allclose(resolvers.apex_epsilons(3, 0.5, 2.0),
                             [0.5, 0.25, 0.125], rtol=1e-6)
  np.testing.assert_allclose(resolvers.apex_epsilons(1, 0.3), [0.3])


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_actors=0), "num_actors"), (dict(num_actors=2, epsilon=1.5),
                                         "epsilon"),
    (dict(num_actors=2, alpha=-1.0), "alpha")])
def test_apex_epsilons_reject_bad_arguments(kwargs, name):
  with pytest.raises(ValueError, match=name):
    resolvers.apex_epsilons(**kwargs)


def test_linear_schedule():
  schedule = resolvers.LinearSchedule(1.0, 0.1, steps=100)
  assert schedule(0) == 1.0
  assert schedule(50) == pytest.approx(0.55)
  assert schedule(100) == pytest.approx(0.1)
  assert schedule(10_000) == pytest.approx(0.1)
  with pytest.raises(ValueError, match="steps"):
    resolvers.LinearSchedule(1.0, 0.1, steps=0)


def test_greedy_takes_the_argmax():
  q = tf.constant([[1.0, 3.0, 2.0], [5.0, -1.0, 0.0]])
  np.testing.assert_array_equal(resolvers.greedy(q).numpy(), [1, 0])


def test_epsilon_greedy_explores_with_each_rows_epsilon():
  n, actions = 6000, 4
  q = tf.tile(tf.constant([[0.0, 0.0, 9.0, 0.0]]), [3 * n, 1])
  epsilons = np.repeat([0.0, 1.0, 0.5], n).astype(np.float32)
  chosen = resolvers.epsilon_greedy(
      q, epsilons, tf.random.Generator.from_seed(1)).numpy()
  greedy_rate = [(chosen[i * n:(i + 1) * n] == 2).mean() for i in range(3)]
  assert greedy_rate[0] == 1.0  # epsilon 0: always the argmax.
  # epsilon 1: uniform, the argmax 1/4 of the time; 0.5: 0.5 + 0.5 / 4.
  assert abs(greedy_rate[1] - 1 / actions) < 0.03
  assert abs(greedy_rate[2] - (0.5 + 0.5 / actions)) < 0.03
  counts = np.bincount(chosen[n:2 * n], minlength=actions) / n
  np.testing.assert_allclose(counts, 0.25, atol=0.03)


def test_epsilon_greedy_in_tf_function_and_bad_shapes():
  fn = tf.function(resolvers.epsilon_greedy)
  out = fn(tf.constant([[0.0, 1.0]]), tf.constant([0.0]))
  assert out.dtype == tf.int32 and out.numpy().tolist() == [1]
  with pytest.raises(ValueError, match="q_values"):
    resolvers.epsilon_greedy(tf.zeros([2, 3, 4]), 0.1)
  with pytest.raises(ValueError, match="epsilons"):
    resolvers.epsilon_greedy(tf.zeros([2, 3]), tf.zeros([2, 2]))


def test_boltzmann_and_probabilistic_sample_their_distributions():
  tf.random.set_seed(3)
  n = 8000
  q = tf.tile(tf.constant([[0.0, np.log(3.0)]], tf.float32), [n, 1])
  # softmax(q / 1) = [1/4, 3/4]; with temperature 1e3 nearly uniform.
  chosen = resolvers.boltzmann(q, 1.0).numpy()
  assert abs(chosen.mean() - 0.75) < 0.03
  assert abs(resolvers.boltzmann(q, 1e3).numpy().mean() - 0.5) < 0.03
  probabilities = tf.tile(tf.constant([[0.2, 0.0, 0.8]]), [n, 1])
  counts = np.bincount(resolvers.probabilistic(probabilities).numpy(),
                       minlength=3) / n
  np.testing.assert_allclose(counts, [0.2, 0.0, 0.8], atol=0.03)
