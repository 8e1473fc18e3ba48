"""DNC modules accept numpy arrays (float64 too) as Sonnet modules do."""

import numpy as np
import tensorflow as tf
import tree

from ftw.tf.networks.dnc import access
from ftw.tf.networks.dnc import addressing

B, N, W, R, K = 2, 5, 4, 3, 2


def _close(a, b):
  tree.map_structure(lambda x, y: np.testing.assert_allclose(
      np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6), a, b)


def test_addressing_modules_accept_numpy_arrays():
  rng = np.random.default_rng(0)
  memory = rng.normal(size=(B, N, W))
  keys = rng.normal(size=(B, R, W))
  strengths = rng.uniform(1, 2, size=(B, R))
  cosine = addressing.CosineWeights(R, W)
  _close(cosine(memory, keys, strengths),
         cosine(*(tf.constant(x, tf.float32) for x in (memory, keys,
                                                       strengths))))

  weights = rng.dirichlet(np.ones(N), size=(B, K)) * 0.5
  state = addressing.TemporalLinkageState(
      link=np.zeros((B, K, N, N)), precedence_weights=np.zeros((B, K, N)))
  linkage = addressing.TemporalLinkage(N, K)
  as_tf = lambda nest: tree.map_structure(
      lambda x: tf.constant(x, tf.float32), nest)
  from_numpy = linkage(weights, state)
  _close(from_numpy, linkage(as_tf(weights), as_tf(state)))
  read = rng.dirichlet(np.ones(N), size=(B, R))
  _close(linkage.directional_read_weights(from_numpy.link, read, True),
         linkage.directional_read_weights(from_numpy.link, as_tf(read), True))

  freeness = addressing.Freeness(N)
  args = (weights, rng.uniform(size=(B, R)), read, rng.uniform(size=(B, N)))
  _close(freeness(*args), freeness(*as_tf(args)))


def test_memory_access_accepts_numpy_inputs_and_state():
  module = access.MemoryAccess(memory_size=N, word_size=W, num_reads=R,
                               num_writes=K)
  inputs = np.random.default_rng(1).normal(size=(B, 7))
  state = tree.map_structure(lambda x: x.numpy().astype(np.float64),
                             module.initial_state(B))
  reads, _ = module(inputs, state)
  reads_tf, _ = module(tf.constant(inputs, tf.float32),
                       module.initial_state(B))
  _close(reads, reads_tf)
  assert reads.shape == (B, R, W)
