"""R2D2's learner on real Reverb: burn-in states, priorities written back
and changing what is sampled."""

import collections

import numpy as np
import pytest
import reverb
import tensorflow as tf
import tree

import ftw  # noqa: F401
from agents.r2d2 import replay as replay_lib
from agents.r2d2.builder import R2D2Builder
from agents.r2d2.config import R2D2Config
from agents.r2d2.learner import R2D2Learner, burn_in
from ftw import environment_loop
from ftw import replay
from ftw.replay import layout

_TINY = dict(environment="catch",
             environment_kwargs={"rows": 5, "columns": 3, "image_size": 12},
             num_envs=2, conv_filters=((4, 4, 2),), torso_hidden_size=8,
             hidden_size=8, head_hidden_size=8, sequence_length=5, burn_in=1,
             batch_size=4, min_replay_size=8, replay_size=100,
             samples_per_insert=100.0, learning_rate=1e-3)


@pytest.fixture(scope="module")
def builder():
  return R2D2Builder(R2D2Config(**_TINY))


def _random_state(network, batch, seed):
  rng = np.random.default_rng(seed)
  return tree.map_structure(
      lambda t: tf.constant(rng.normal(size=t.shape), t.dtype),
      network.initial_state(batch))


def _observations(builder, t, b, seed):
  rng = np.random.default_rng(seed)
  spec = builder.specs.observation_spec
  return type(spec)(
      tf.constant(rng.integers(0, 255, (t, b, *spec.observation.shape)),
                  tf.uint8),
      tf.constant(rng.integers(0, 3, (t, b)), tf.int32),
      tf.constant(rng.normal(size=(t, b)), tf.float32))


def test_burn_in_state_is_the_network_stepped_from_the_stored_state(builder):
  network = builder.make_network()
  observations = _observations(builder, 5, 3, seed=0)
  stored = _random_state(network, 3, seed=1)
  with tf.GradientTape() as tape:
    state, rest = burn_in(network, observations, stored, 2)
    total = tf.add_n([tf.reduce_sum(x) for x in tree.flatten(state)])
  expected = stored
  for t in range(2):
    _, expected = network(tree.map_structure(lambda x: x[t], observations),
                          expected)
  for a, b in zip(tree.flatten(state), tree.flatten(expected)):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(rest.observation.numpy(),
                                observations.observation.numpy()[2:])
  # No gradient flows back through the burn-in.
  assert all(g is None for g in tape.gradient(total, network.variables))
  same, whole = burn_in(network, observations, stored, 0)
  assert same is stored and whole is observations


def _batch(builder, network, seed, burn_in_reward=0.0, state_seed=2):
  t, b = 5, 4
  obs = _observations(builder, t, b, seed)
  rng = np.random.default_rng(seed)
  reward = rng.normal(size=(t, b)).astype(np.float32)
  reward[0] = burn_in_reward  # Step 0 only burns in.
  major = lambda x: tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))
  return replay.Step(
      observation=tree.map_structure(major, obs),
      action=major(tf.constant(rng.integers(0, 3, (t, b)), tf.int32)),
      reward=major(tf.constant(reward)), discount=tf.ones([b, t]),
      start_of_episode=tf.zeros([b, t], tf.bool),
      extras={layout.CORE_STATE_KEY: _random_state(network, b, state_seed)},
      mask=tf.ones([b, t]))


def test_learner_trains_after_burn_in_from_the_stored_state(builder):
  network = builder.make_network()
  learner = R2D2Learner(network, builder.make_network(), builder.config,
                        iterator=iter(()))
  weights = [v.numpy() for v in network.variables]
  ones, size = tf.fill([4], 0.25), tf.constant([4], tf.int64)[0]

  def loss(data):
    for variable, value in zip(network.variables, weights):
      variable.assign(value)  # Same weights for every batch.
    return learner._step_fn(data, ones, size)["loss"].numpy()  # pylint: disable=protected-access

  base = loss(_batch(builder, network, seed=5))
  # Rewards of burn-in steps are never trained on...
  assert loss(_batch(builder, network, seed=5, burn_in_reward=9.0)) == (
      pytest.approx(base, rel=1e-6))
  # ...but the stored core state is where the unroll starts.
  assert loss(_batch(builder, network, seed=5, state_seed=3)) != (
      pytest.approx(base, rel=1e-3))


def _keys_and_counts(client, num_samples):
  counts = collections.Counter()
  for sample in client.sample("t", num_samples=num_samples):
    counts[int(sample[0].info.key)] += 1
  return counts


def test_written_priorities_change_what_is_sampled():
  server = reverb.Server([replay_lib.make_replay_table(
      "t", max_size=10, min_size=1, samples_per_insert=1e4, batch_size=1,
      prioritized=True, priority_exponent=1.0)])
  client = reverb.Client(f"localhost:{server.port}")
  try:
    for i in range(2):
      client.insert([np.array(i)], priorities={"t": 1.0})
    first, second = sorted(_keys_and_counts(client, 200))
    writer = replay_lib.PriorityWriter(client, "t")
    writer(np.array([first, second], np.uint64), np.array([99.0, 1.0]))
    counts = _keys_and_counts(client, 400)
    assert counts[first] / 400 > 0.95  # Expected 0.99.
    writer(np.array([first, second], np.uint64), np.array([1.0, 99.0]))
    assert _keys_and_counts(client, 400)[second] / 400 > 0.95
    with pytest.raises(ValueError, match="priorities"):
      writer(np.array([first], np.uint64), np.array([-1.0]))
    with pytest.raises(ValueError, match="keys"):
      writer(np.array([1.5]), np.array([1.0]))
  finally:
    server.stop()


def test_learner_step_writes_its_priorities_to_reverb(builder):
  server = reverb.Server(builder.make_replay_tables())
  address = f"localhost:{server.port}"
  client = reverb.Client(address)
  try:
    actor = builder.make_actor(builder.make_network(seed=1),
                               adder=builder.make_adder(client))
    loop = environment_loop.EnvironmentLoop(builder.make_environment(0),
                                            actor)
    while client.server_info()[replay_lib.REPLAY_TABLE].current_size < 8:
      loop.step()
    written = {}
    writer = replay_lib.PriorityWriter(client)

    def record(keys, priorities):
      written.update(zip(keys.tolist(), priorities.tolist()))
      writer(keys, priorities)

    learner = R2D2Learner(builder.make_network(), builder.make_network(),
                          builder.config, builder.make_dataset(address),
                          priority_writer=record)
    metrics = learner.step()
    assert np.isfinite(metrics["loss"]) and written
    assert all(p >= 0 and p != 1.0 for p in written.values())
    seen = {}
    # Few samples: the rate limiter allows ~(inserts - 8) * 100 + 200.
    for sample in client.sample(replay_lib.REPLAY_TABLE, num_samples=40,
                                emit_timesteps=False):
      seen[int(sample.info.key)] = float(sample.info.priority)
    for key, priority in written.items():
      if key in seen:  # Sampled again: it carries the learner's priority.
        assert seen[key] == pytest.approx(priority, rel=1e-5)
    assert set(written) & set(seen)
    # Closed, it lets go of its dataset and its priority writer; its
    # variables stay readable.
    learner.close()
    assert learner._iterator is None and learner._write_priorities is None  # pylint: disable=protected-access
    assert learner.get_variables(["policy"])[0]
    with pytest.raises(RuntimeError, match="after close"):
      learner.step()
  finally:
    server.stop()
