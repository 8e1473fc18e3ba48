"""DNC addressing against numpy references written from Graves et al. 2016."""

import ftw  # noqa: F401  (quiet TensorFlow first)

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf.networks.dnc import addressing

B, N, W, H = 2, 5, 3, 4
RNG = np.random.RandomState(0)


def np_softplus(x):
  return np.log1p(np.exp(x))


def np_cosine_weights(memory, keys, strengths):
  out = np.zeros([memory.shape[0], keys.shape[1], memory.shape[1]])
  for b in range(memory.shape[0]):
    for h in range(keys.shape[1]):
      k = keys[b, h]
      sims = np.array([m @ k / (np.linalg.norm(m) * np.linalg.norm(k))
                       for m in memory[b]])
      logits = np_softplus(strengths[b, h]) * sims
      e = np.exp(logits - logits.max())
      out[b, h] = e / e.sum()
  return out


def np_usage(write_weights, free_gate, read_weights, prev_usage):
  written = 1 - np.prod(1 - write_weights, axis=1)
  usage = prev_usage + (1 - prev_usage) * written
  retention = np.ones_like(usage)
  for r in range(read_weights.shape[1]):
    retention *= 1 - free_gate[:, r:r + 1] * read_weights[:, r]
  return usage * retention


def np_allocation(usage):
  """Paper's a_t: phi sorts slots by ascending usage (stable for ties)."""
  alloc = np.zeros_like(usage)
  for b in range(usage.shape[0]):
    phi = np.argsort(usage[b], kind='stable')
    running = 1.0
    for j in phi:
      alloc[b, j] = (1 - usage[b, j]) * running
      running *= usage[b, j]
  return alloc


def np_write_allocation(usage, write_gates):
  usage = usage.copy()
  allocs = []
  for k in range(write_gates.shape[1]):
    a = np_allocation(usage)
    allocs.append(a)
    usage = usage + (1 - usage) * write_gates[:, k:k + 1] * a
  return np.stack(allocs, axis=1)


def np_linkage(write_weights, prev_link, prev_precedence):
  link = np.zeros_like(prev_link)
  bsz, nw, n, _ = prev_link.shape
  for b in range(bsz):
    for k in range(nw):
      w, p = write_weights[b, k], prev_precedence[b, k]
      for i in range(n):
        for j in range(n):
          if i != j:
            link[b, k, i, j] = ((1 - w[i] - w[j]) * prev_link[b, k, i, j]
                                + w[i] * p[j])
  precedence = ((1 - write_weights.sum(-1, keepdims=True)) * prev_precedence
                + write_weights)
  return link, precedence


def random_weights(*shape, total=0.9):
  """Non-negative weights whose last axis sums to `total` at most."""
  w = RNG.rand(*shape)
  return w / w.sum(-1, keepdims=True) * total * RNG.rand(*shape[:-1], 1)


def f32(x):
  return tf.constant(x, tf.float32)


def test_cosine_weights_match_numpy():
  memory = RNG.randn(B, N, W)
  keys = RNG.randn(B, H, W)
  strengths = RNG.randn(B, H) * 3
  got = addressing.CosineWeights(H, W)(f32(memory), f32(keys), f32(strengths))
  assert got.shape == (B, H, N)
  np.testing.assert_allclose(
      got.numpy(), np_cosine_weights(memory, keys, strengths), atol=1e-5)


def test_cosine_weights_pick_matching_row_with_strong_key():
  memory = RNG.randn(1, N, W)
  keys = 2.5 * memory[:, 3:4]  # same direction as row 3, other length
  got = addressing.CosineWeights(1, W, strength_op=lambda s: s)(
      f32(memory), f32(keys), f32([[50.0]]))
  assert np.argmax(got.numpy()[0, 0]) == 3
  assert got.numpy()[0, 0, 3] > 0.99


def test_cosine_weights_zero_memory_uniform_and_finite_gradients():
  memory = tf.zeros([B, N, W])
  keys = f32(RNG.randn(B, H, W))
  strengths = f32(RNG.randn(B, H))
  module = addressing.CosineWeights(H, W)
  with tf.GradientTape() as tape:
    tape.watch([memory, keys, strengths])
    weights = module(memory, keys, strengths)
    loss = tf.reduce_sum(weights * f32(RNG.randn(B, H, N)))
  np.testing.assert_allclose(weights.numpy(), np.full([B, H, N], 1 / N),
                             atol=1e-6)
  for grad in tape.gradient(loss, [memory, keys, strengths]):
    assert np.all(np.isfinite(grad.numpy()))


def test_usage_matches_numpy_and_ignores_write_gradient():
  num_reads, num_writes = 3, 2
  write_weights = f32(random_weights(B, num_writes, N))
  free_gate = f32(RNG.rand(B, num_reads))
  read_weights = f32(random_weights(B, num_reads, N))
  prev_usage = f32(RNG.rand(B, N))
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([write_weights, free_gate])
    usage = addressing.Freeness(N)(write_weights, free_gate, read_weights,
                                   prev_usage)
    total = tf.reduce_sum(usage)
  expected = np_usage(write_weights.numpy(), free_gate.numpy(),
                      read_weights.numpy(), prev_usage.numpy())
  np.testing.assert_allclose(usage.numpy(), expected, atol=1e-6)
  assert np.all((usage.numpy() >= 0) & (usage.numpy() <= 1))
  assert tape.gradient(total, write_weights) is None
  assert np.abs(tape.gradient(total, free_gate).numpy()).sum() > 0


def test_allocation_hand_computed_with_ties():
  # Ascending usage with ties by slot index: 1, 3, 0, 2, 4.
  usage = np.array([[0.5, 0.2, 0.5, 0.2, 0.9],
                    [0.0, 0.0, 0.0, 0.0, 0.0]])
  expected = np.array([
      [0.5 * 0.04, 0.8, 0.5 * 0.02, 0.8 * 0.2, 0.1 * 0.01],
      [1.0, 0.0, 0.0, 0.0, 0.0],  # all free: the first slot wins the tie
  ])
  np.testing.assert_allclose(np_allocation(usage), expected, atol=1e-12)
  got = addressing.Freeness(N).write_allocation_weights(
      f32(usage), f32([[1.0], [1.0]]), num_writes=1)
  assert got.shape == (B, 1, N)
  np.testing.assert_allclose(got.numpy()[:, 0], expected, atol=1e-5)


def test_allocation_full_memory_allocates_nothing():
  got = addressing.Freeness(N).write_allocation_weights(
      tf.ones([B, N]), tf.ones([B, 1]), num_writes=1)
  np.testing.assert_allclose(got.numpy(), 0.0, atol=1e-5)


def test_write_allocation_several_heads_match_numpy():
  num_writes = 3
  usage = RNG.rand(B, N)
  write_gates = RNG.rand(B, num_writes)
  got = addressing.Freeness(N).write_allocation_weights(
      f32(usage), f32(write_gates), num_writes)
  assert got.shape == (B, num_writes, N)
  np.testing.assert_allclose(got.numpy(), np_write_allocation(
      usage, write_gates), atol=1e-5)
  # With full gates on free memory, heads take whole free slots in order.
  got = addressing.Freeness(N).write_allocation_weights(
      tf.zeros([B, N]), tf.ones([B, num_writes]), num_writes)
  np.testing.assert_allclose(got.numpy()[0], np.eye(num_writes, N), atol=1e-5)


def test_allocation_near_ties_go_by_slot_index():
  # Usages within float noise of each other are ordered by slot index, so
  # rounding differences (eager vs graph) cannot change the chosen slot.
  usage = np.array([[0.3 + 2e-7, 0.3, 0.3 + 1e-7, 0.9, 0.3 - 1e-7]])
  got = addressing.Freeness(N).write_allocation_weights(
      f32(usage), f32([[1.0]]), num_writes=1).numpy()[0, 0]
  assert got.argmax() == 0
  np.testing.assert_allclose(
      got, [0.7, 0.7 * 0.3, 0.7 * 0.09, 0.1 * 0.3 ** 4, 0.7 * 0.027],
      atol=1e-5)


def test_allocation_gradient_finite_at_zero_usage():
  usage = tf.zeros([B, N])
  gates = tf.ones([B, 2])
  with tf.GradientTape() as tape:
    tape.watch(usage)
    alloc = addressing.Freeness(N).write_allocation_weights(usage, gates, 2)
    loss = tf.reduce_sum(alloc * f32(RNG.randn(B, 2, N)))
  grad = tape.gradient(loss, usage).numpy()
  assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


def test_linkage_matches_numpy_over_steps():
  num_writes = 2
  module = addressing.TemporalLinkage(N, num_writes)
  state = addressing.TemporalLinkageState(
      link=tf.zeros([B, num_writes, N, N]),
      precedence_weights=tf.zeros([B, num_writes, N]))
  np_link = np.zeros([B, num_writes, N, N])
  np_prec = np.zeros([B, num_writes, N])
  for _ in range(4):
    write_weights = random_weights(B, num_writes, N)
    state = module(f32(write_weights), state)
    np_link, np_prec = np_linkage(write_weights, np_link, np_prec)
    np.testing.assert_allclose(state.link.numpy(), np_link, atol=1e-6)
    np.testing.assert_allclose(state.precedence_weights.numpy(), np_prec,
                               atol=1e-6)
  diag = np.diagonal(state.link.numpy(), axis1=2, axis2=3)
  assert np.all(diag == 0)
  assert module.state_size == addressing.TemporalLinkageState(
      link=tf.TensorShape([num_writes, N, N]),
      precedence_weights=tf.TensorShape([num_writes, N]))


def test_directional_read_weights_follow_write_order():
  # Write slots 0 -> 2 -> 4 with one-hot weights; then reading from slot 2
  # moves forward to slot 4 and backward to slot 0.
  module = addressing.TemporalLinkage(N, 1)
  state = addressing.TemporalLinkageState(tf.zeros([1, 1, N, N]),
                                          tf.zeros([1, 1, N]))
  for slot in (0, 2, 4):
    state = module(f32(np.eye(N)[slot][None, None]), state)
  read = f32(np.eye(N)[2][None, None])
  fwd = module.directional_read_weights(state.link, read, forward=True)
  bwd = module.directional_read_weights(state.link, read, forward=False)
  np.testing.assert_allclose(fwd.numpy()[0, 0, 0], np.eye(N)[4], atol=1e-6)
  np.testing.assert_allclose(bwd.numpy()[0, 0, 0], np.eye(N)[0], atol=1e-6)


@pytest.mark.parametrize('num_writes', [1, 2])
def test_directional_read_weights_match_numpy(num_writes):
  num_reads = 3
  link = RNG.rand(B, num_writes, N, N)
  read = random_weights(B, num_reads, N)
  module = addressing.TemporalLinkage(N, num_writes)
  fwd = module.directional_read_weights(f32(link), f32(read), forward=True)
  bwd = module.directional_read_weights(f32(link), f32(read), forward=False)
  assert fwd.shape == (B, num_reads, num_writes, N)
  for b in range(B):
    for r in range(num_reads):
      for k in range(num_writes):
        np.testing.assert_allclose(fwd.numpy()[b, r, k],
                                   link[b, k] @ read[b, r], atol=1e-5)
        np.testing.assert_allclose(bwd.numpy()[b, r, k],
                                   link[b, k].T @ read[b, r], atol=1e-5)


@pytest.mark.parametrize('forward', [True, False])
def test_one_write_head_link_gradient_matches_numpy(forward):
  link = f32(RNG.rand(B, 1, N, N))
  read = random_weights(B, 2, N)
  upstream = RNG.rand(B, 2, 1, N)
  with tf.GradientTape() as tape:
    tape.watch(link)
    moved = addressing.TemporalLinkage(N, 1).directional_read_weights(
        link, f32(read), forward=forward)
    loss = tf.reduce_sum(moved * f32(upstream))
  grad = tape.gradient(loss, link).numpy()
  # forward: moved[b, r, 0, i] = sum_j L[b, 0, i, j] w[b, r, j], so
  # dL[b, 0, i, j] = sum_r up[b, r, 0, i] w[b, r, j]; backward transposes.
  expected = np.einsum('bri,brj->bij', upstream[:, :, 0], read)
  if not forward:
    expected = expected.transpose(0, 2, 1)
  assert grad.shape == (B, 1, N, N)
  np.testing.assert_allclose(grad[:, 0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('factory, arg', [
    (lambda v: addressing.CosineWeights(v, W), 'num_heads'),
    (lambda v: addressing.CosineWeights(H, v), 'word_size'),
    (lambda v: addressing.TemporalLinkage(v, 1), 'memory_size'),
    (lambda v: addressing.TemporalLinkage(N, v), 'num_writes'),
    (lambda v: addressing.Freeness(v), 'memory_size'),
])
@pytest.mark.parametrize('value', [0, -1, 2.0, True, None])
def test_bad_constructor_args_raise(factory, arg, value):
  with pytest.raises(ValueError, match=arg):
    factory(value)


def test_wrong_ranks_raise_naming_the_argument():
  memory, keys = tf.zeros([B, N, W]), tf.zeros([B, H, W])
  strengths = tf.zeros([B, H])
  with pytest.raises(ValueError, match='strengths'):
    addressing.CosineWeights(H, W)(memory, keys, tf.zeros([B, H, 1]))
  with pytest.raises(ValueError, match='keys'):
    addressing.CosineWeights(H, W)(memory, tf.zeros([B, W]), strengths)
  with pytest.raises(ValueError, match='prev_usage'):
    addressing.Freeness(N)(tf.zeros([B, 1, N]), tf.zeros([B, 1]),
                           tf.zeros([B, 1, N]), tf.zeros([B, 1, N]))
  with pytest.raises(ValueError, match='link'):
    addressing.TemporalLinkage(N, 1).directional_read_weights(
        tf.zeros([B, N, N]), tf.zeros([B, 1, N]), forward=True)
