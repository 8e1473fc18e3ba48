"""ftw.tf.seeding: sampling seeded per traced function, not process-wide."""

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf import seeding


def _sampler(seed):
  @tf.function
  def sample():
    seeding.seed_graph(seed)
    return tf.random.categorical(tf.zeros([1, 10]), 20)
  return sample


def test_same_seed_same_stream_other_seed_another():
  a, b = _sampler(3), _sampler(3)
  first = [a().numpy() for _ in range(2)]
  again = [b().numpy() for _ in range(2)]
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first[0], first[1])  # A stream, not a constant.
  assert not np.array_equal(first[0], _sampler(4)().numpy())


def test_the_process_wide_seed_is_left_alone():
  tf.random.set_seed(21)
  _sampler(5)()
  seeding.seed_graph(5)  # Eager: a no-op.
  assert tf.compat.v1.random.get_seed(None)[0] == 21


def test_none_leaves_the_traced_graph_as_it_was():
  seeds = []

  @tf.function
  def trace():
    graph = tf.compat.v1.get_default_graph()
    seeds.append(graph.seed)
    seeding.seed_graph(None)
    seeds.append(graph.seed)
    seeding.seed_graph(7)
    seeds.append(graph.seed)
    return tf.constant(0)

  trace()
  assert seeds[1] == seeds[0] and seeds[2] == 7


def test_bad_seed_is_named():
  with pytest.raises(TypeError, match="seed must be an int"):
    _sampler(1.5)()
