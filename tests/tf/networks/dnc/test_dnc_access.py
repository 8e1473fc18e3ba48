"""MemoryAccess: a full step against numpy, state invariants, gradients."""

import ftw  # noqa: F401  (quiet TensorFlow first)

import numpy as np
import pytest
import tensorflow as tf

from ftw.tf.networks.dnc import access
from ftw.tf.networks.dnc import addressing

B, N, W, R, K, D = 2, 5, 3, 2, 2, 7


@pytest.fixture(autouse=True)
def _seed():
  tf.random.set_seed(0)


def make_module(**kwargs):
  args = dict(memory_size=N, word_size=W, num_reads=R, num_writes=K)
  args.update(kwargs)
  return access.MemoryAccess(**args)


def unroll(module, inputs, state):
  outputs = []
  for x in inputs:
    out, state = module(x, state)
    outputs.append(out)
  return outputs, state


def random_inputs(steps, seed=0):
  rng = np.random.RandomState(seed)
  return [tf.constant(rng.randn(B, D) * 2, tf.float32) for _ in range(steps)]


# ---- numpy reference of one step (Graves et al. 2016, Methods) ----


def np_cosine(memory, keys, strengths):
  dot = np.einsum('bhw,bnw->bhn', keys, memory)
  norms = (np.linalg.norm(keys, axis=-1)[:, :, None]
           * np.linalg.norm(memory, axis=-1)[:, None, :])
  logits = np.log1p(np.exp(strengths))[:, :, None] * dot / norms
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def np_allocation(usage):
  alloc = np.zeros_like(usage)
  for b in range(usage.shape[0]):
    running = 1.0
    for j in np.argsort(usage[b], kind='stable'):
      alloc[b, j] = (1 - usage[b, j]) * running
      running *= usage[b, j]
  return alloc


def np_step(ifc, prev):
  """One MemoryAccess step on numpy arrays (`ifc`, `prev` as namedtuples)."""
  written = 1 - np.prod(1 - prev.write_weights, axis=1)
  usage = prev.usage + (1 - prev.usage) * written
  usage = usage * np.prod(1 - ifc.free_gate[:, :, None] * prev.read_weights, 1)

  gates = ifc.allocation_gate * ifc.write_gate
  sim_usage, allocs = usage.copy(), []
  for k in range(K):
    allocs.append(np_allocation(sim_usage))
    sim_usage = sim_usage + (1 - sim_usage) * gates[:, k:k + 1] * allocs[-1]
  alloc = np.stack(allocs, 1)
  content_w = np_cosine(prev.memory, ifc.write_keys, ifc.write_strengths)
  g_a = ifc.allocation_gate[:, :, None]
  write_weights = ifc.write_gate[:, :, None] * (
      g_a * alloc + (1 - g_a) * content_w)

  memory = prev.memory.copy()
  for k in range(K):
    ww = write_weights[:, k, :, None]
    memory = memory * (1 - ww * ifc.erase_vectors[:, k, None, :])
  for k in range(K):
    memory = memory + write_weights[:, k, :, None] * ifc.write_vectors[:, k,
                                                                       None, :]

  w_i = write_weights[:, :, :, None]
  w_j = write_weights[:, :, None, :]
  link = (1 - w_i - w_j) * prev.linkage.link + w_i * (
      prev.linkage.precedence_weights[:, :, None, :])
  link = link * (1 - np.eye(N))
  precedence = ((1 - write_weights.sum(-1, keepdims=True))
                * prev.linkage.precedence_weights + write_weights)

  content_r = np_cosine(memory, ifc.read_keys, ifc.read_strengths)
  mode = ifc.read_mode
  read_weights = mode[:, :, 2 * K, None] * content_r
  for k in range(K):
    fwd = np.einsum('bij,brj->bri', link[:, k], prev.read_weights)
    bwd = np.einsum('bji,brj->bri', link[:, k], prev.read_weights)
    read_weights += mode[:, :, K + k, None] * fwd + mode[:, :, k, None] * bwd
  read_words = np.einsum('brn,bnw->brw', read_weights, memory)
  return read_words, access.AccessState(
      memory=memory, read_weights=read_weights, write_weights=write_weights,
      linkage=addressing.TemporalLinkageState(link, precedence), usage=usage)


def random_interface(rng):
  def sigmoid(x):
    return 1 / (1 + np.exp(-x))
  mode = np.exp(rng.randn(B, R, 2 * K + 1))
  return access.MemoryInterface(
      read_keys=rng.randn(B, R, W), read_strengths=rng.randn(B, R),
      write_keys=rng.randn(B, K, W), write_strengths=rng.randn(B, K),
      write_vectors=rng.randn(B, K, W),
      erase_vectors=sigmoid(rng.randn(B, K, W)),
      free_gate=sigmoid(rng.randn(B, R)),
      allocation_gate=sigmoid(rng.randn(B, K)),
      write_gate=sigmoid(rng.randn(B, K)),
      read_mode=mode / mode.sum(-1, keepdims=True))


def to_numpy(nest):
  return tf.nest.map_structure(lambda x: np.asarray(x, np.float64), nest)


def to_tf(nest):
  return tf.nest.map_structure(lambda x: tf.constant(x, tf.float32), nest)


# ---- tests ----


def test_shapes_sizes_and_zero_initial_state():
  module = make_module()
  state = module.initial_state(B)
  for tensor, size in zip(tf.nest.flatten(state),
                          tf.nest.flatten(module.state_size,
                                          expand_composites=False)):
    assert tensor.shape == [B, *size]
    assert np.all(tensor.numpy() == 0)
  assert module.state_size.linkage.link == [K, N, N]
  assert module.output_size == [R, W]
  read_words, new_state = module(random_inputs(1)[0], state)
  assert read_words.shape == (B, R, W)
  assert tf.nest.map_structure(lambda t: t.shape, new_state) == (
      tf.nest.map_structure(lambda t: t.shape, state))


def test_step_matches_numpy_from_reached_state():
  rng = np.random.RandomState(1)
  module = make_module()
  _, state = unroll(module, random_inputs(3), module.initial_state(B))
  for _ in range(2):  # two steps, so link and precedence are non-trivial
    ifc = random_interface(rng)
    got_words, got_state = module.access(to_tf(ifc), state)
    want_words, want_state = np_step(ifc, to_numpy(state))
    np.testing.assert_allclose(got_words.numpy(), want_words, atol=1e-4)
    for got, want in zip(tf.nest.flatten(got_state),
                         tf.nest.flatten(want_state)):
      np.testing.assert_allclose(got.numpy(), want, atol=1e-4)
    state = got_state


def test_erase_and_write_matches_numpy():
  rng = np.random.RandomState(2)
  memory = rng.randn(B, N, W)
  address = rng.rand(B, K, N) / N
  erase = rng.rand(B, K, W)
  values = rng.randn(B, K, W)
  want = memory.copy()
  for b in range(B):
    for n in range(N):
      keep = np.prod([1 - address[b, k, n] * erase[b, k] for k in range(K)], 0)
      add = sum(address[b, k, n] * values[b, k] for k in range(K))
      want[b, n] = memory[b, n] * keep + add
  got = access.erase_and_write(*to_tf((memory, address, erase, values)))
  np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


def test_unrolled_state_stays_in_range():
  module = make_module()
  state = module.initial_state(B)
  for x in random_inputs(8, seed=3):
    read_words, state = module(x, state)
    assert read_words.shape == (B, R, W)
    for name in ('read_weights', 'write_weights'):
      weights = getattr(state, name).numpy()
      assert np.all(weights >= 0) and np.all(weights <= 1), name
      assert np.all(weights.sum(-1) <= 1 + 1e-5), name
    link = state.linkage.link.numpy()
    assert np.all(np.diagonal(link, axis1=2, axis2=3) == 0)
    assert np.all(link >= -1e-6) and np.all(link <= 1 + 1e-6)
    assert np.all(state.linkage.precedence_weights.numpy().sum(-1)
                  <= 1 + 1e-5)
    usage = state.usage.numpy()
    assert np.all(usage >= 0) and np.all(usage <= 1)
  # The memory was actually written to and read from.
  assert np.abs(state.memory.numpy()).max() > 1e-3
  assert np.abs(read_words.numpy()).max() > 1e-3


def test_gradients_finite_from_zero_state_and_reach_all_variables():
  module = make_module()
  inputs = random_inputs(3, seed=4)
  init = module.initial_state(B)
  probe = tf.constant(np.random.RandomState(5).randn(B, R, W), tf.float32)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(inputs + tf.nest.flatten(init))
    first, _ = module(inputs[0], init)
    first_loss = tf.reduce_sum(first * probe)
    outputs, _ = unroll(module, inputs, init)
    loss = tf.add_n([tf.reduce_sum(o * probe) for o in outputs])
  assert len(module.trainable_variables) == 20  # 10 linear layers
  # One step from the all-zero state: finite gradients everywhere. The
  # previous write weights only feed the usage, which (as in deepmind/dnc)
  # passes no gradient back to them.
  state_in = [t for t in tf.nest.flatten(init) if t is not init.write_weights]
  sources = [inputs[0], *state_in,
             *module.trainable_variables]
  for grad in tape.gradient(first_loss, sources):
    assert grad is not None and np.all(np.isfinite(grad.numpy()))
  assert tape.gradient(first_loss, init.write_weights) is None
  # Over three steps every variable gets a non-zero gradient.
  grads = tape.gradient(loss, module.trainable_variables)
  for var, grad in zip(module.trainable_variables, grads):
    assert grad is not None, var.name
    assert np.all(np.isfinite(grad.numpy())), var.name
    assert np.abs(grad.numpy()).sum() > 0, var.name


def test_tf_function_matches_eager():
  module = make_module()
  inputs = random_inputs(3, seed=6)
  # A compiled single step, as actors use it, from the zero state.
  step = tf.function(module.__call__)
  eager_out, eager_state = module(inputs[0], module.initial_state(B))
  graph_out, graph_state = step(inputs[0], module.initial_state(B))
  np.testing.assert_allclose(eager_out.numpy(), graph_out.numpy(), atol=1e-5)
  # A whole unroll in one graph, as the learner runs it.
  eager, eager_final = unroll(module, inputs, module.initial_state(B))
  graph, graph_final = tf.function(unroll)(module, inputs,
                                           module.initial_state(B))
  for a, b in zip(tf.nest.flatten((eager, eager_final)),
                  tf.nest.flatten((graph, graph_final))):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_checkpoint_round_trip(tmp_path):
  inputs = random_inputs(2, seed=7)
  source = make_module()
  want, _ = unroll(source, inputs, source.initial_state(B))
  path = tf.train.Checkpoint(module=source).save(str(tmp_path / 'ckpt'))

  target = make_module()
  before, _ = unroll(target, inputs, target.initial_state(B))
  assert not np.allclose(before[-1].numpy(), want[-1].numpy())
  tf.train.Checkpoint(module=target).restore(path).assert_consumed()
  got, _ = unroll(target, inputs, target.initial_state(B))
  for a, b in zip(want, got):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize('arg', ['memory_size', 'word_size', 'num_reads',
                                 'num_writes'])
@pytest.mark.parametrize('value', [0, -3, 1.5, '4', True])
def test_bad_constructor_args_raise(arg, value):
  with pytest.raises(ValueError, match=arg):
    make_module(**{arg: value})


def test_bad_call_args_raise():
  module = make_module()
  with pytest.raises(ValueError, match='inputs'):
    module(tf.zeros([B, 2, D]), module.initial_state(B))
  with pytest.raises(ValueError, match='prev_state'):
    module(tf.zeros([B, D]), tuple(module.initial_state(B)))
