"""Datasets read back what the adder wrote: shapes, dtypes, values, balance."""

import threading

import dm_env
import numpy as np
import pytest
import tensorflow as tf

from ftw import replay
from ftw import types

PIXELS = (8, 8, 3)
T, P, B = 4, 3, 2


def observation(t):
  pixels = np.full(PIXELS, t % 256, np.uint8)
  return types.OAR(pixels, np.int32(t), np.float32(0))


def obs_spec():
  return types.OAR(tf.TensorSpec(PIXELS, tf.uint8), tf.TensorSpec((), tf.int32),
                   tf.TensorSpec((), tf.float32))


def sequence_signature():
  extras = {"logits": tf.TensorSpec((5,), tf.float32),
            "core_state": (tf.TensorSpec((6,), tf.float32),)}
  step = replay.make_step_spec(obs_spec(), tf.TensorSpec((), tf.int32), extras)
  return replay.sequence_signature(step, T)


def write_episode(client, length, reward_fn=lambda t: 0.0, **kwargs):
  with replay.SequenceAdder(client, T, P, **kwargs) as adder:
    adder.add_first(dm_env.restart(observation(0)))
    for t in range(length):
      make = dm_env.termination if t == length - 1 else dm_env.transition
      extras = {"logits": np.full(5, t, np.float32),
                "core_state": (np.full(6, -t, np.float32),)}
      adder.add(np.int32(t), make(np.float32(reward_fn(t)), observation(t + 1)),
                extras)


def check_batch(sample, starts):
  data, info = sample.data, sample.info
  assert data.observation.observation.shape == (B, T, *PIXELS)
  assert data.observation.observation.dtype == tf.uint8
  assert data.action.shape == (B, T) and data.action.dtype == tf.int32
  for field in (data.reward, data.discount, data.mask):
    assert field.shape == (B, T) and field.dtype == tf.float32
  assert data.start_of_episode.dtype == tf.bool
  assert data.extras["logits"].shape == (B, T, 5)
  assert data.extras["core_state"][0].shape == (B, 6)
  assert info.key.shape == (B,)
  # FIFO: items in the order written, core state of each item's first step.
  want = np.array(starts)[:, None] + np.arange(T)
  np.testing.assert_array_equal(data.action.numpy(), want)
  np.testing.assert_array_equal(data.observation.action.numpy(), want)
  np.testing.assert_array_equal(data.extras["core_state"][0].numpy(),
                                -np.repeat(np.array(starts)[:, None], 6, 1))


def test_sequence_dataset_from_table_signature(make_server):
  server, client = make_server([replay.make_sequence_queue(
      "sequence_queue", 20, sequence_signature(), batch_size=B)])
  write_episode(client, 13)  # full items start at 0, 3, 6, 9
  dataset = replay.make_sequence_dataset(f"localhost:{server.port}",
                                         batch_size=B, prefetch=0,
                                         rate_limiter_timeout_ms=300)
  iterator = iter(dataset)
  check_batch(next(iterator), [0, 3])
  check_batch(next(iterator), [6, 9])
  # One (padded) item is left: no full batch; the timeout ends the dataset.
  assert not list(iterator)


def test_sequence_dataset_explicit_signature_two_readers(make_server):
  server, client = make_server([replay.make_sequence_queue(
      "sequence_queue", 20)])  # no table signature: given to the dataset
  write_episode(client, 13)
  dataset = replay.make_sequence_dataset(
      f"localhost:{server.port}", "sequence_queue", B, num_parallel_calls=2,
      max_in_flight_samples_per_worker=1, signature=sequence_signature(),
      rate_limiter_timeout_ms=300)
  sample = next(iter(dataset))
  assert sample.data.observation.observation.shape == (B, T, *PIXELS)
  assert sample.data.extras["core_state"][0].shape == (B, 6)
  # Two readers interleave: any two distinct items of the four written.
  starts = sorted(sample.data.action.numpy()[:, 0].tolist())
  assert len(set(starts)) == 2 and set(starts) <= {0, 3, 6, 9}


def test_reward_prediction_batches_are_half_nonzero(make_server):
  rp_sig = replay.reward_prediction_signature(obs_spec().observation, 3)
  server, client = make_server(
      [replay.make_sequence_queue("sequence_queue", 200)] +
      list(replay.make_reward_prediction_tables(1000, rp_sig)))
  # 10% of rewards are nonzero: r_{t+1} = t + 1 when t % 10 == 9.
  reward = lambda t: float(t + 1) if t % 10 == 9 else 0.0
  write_episode(client, 200, reward,
                reward_prediction_tables=("rp_zero", "rp_nonzero"))
  info = client.server_info()
  assert info["rp_zero"].current_size == 178  # t = 2..199, minus 20
  assert info["rp_nonzero"].current_size == 20

  batch = 8
  dataset = replay.make_reward_prediction_dataset(f"localhost:{server.port}",
                                                  batch)
  for frames, rewards in dataset.take(25):
    assert frames.shape == (batch, 3, *PIXELS) and frames.dtype == tf.uint8
    assert rewards.shape == (batch,) and rewards.dtype == tf.float32
    rewards = rewards.numpy()
    assert (rewards[:batch // 2] == 0).all()
    assert (rewards[batch // 2:] != 0).all()
    # Frames are o_{t-2}, o_{t-1}, o_t; the reward is r_{t+1}.
    t = frames.numpy()[:, :, 0, 0, 0].astype(np.int64)
    np.testing.assert_array_equal(t - t[:, -1:], [[-2, -1, 0]] * batch)
    np.testing.assert_array_equal(rewards, [reward(x) for x in t[:, -1]])


@pytest.mark.parametrize("kwargs,field", [
    ({"batch_size": 0}, "batch_size"),
    ({"num_parallel_calls": 0}, "num_parallel_calls"),
    ({"prefetch": -1}, "prefetch"),
    ({"rate_limiter_timeout_ms": -2}, "rate_limiter_timeout_ms"),
])
def test_sequence_dataset_bad_arguments(kwargs, field):
  with pytest.raises(ValueError, match=field):
    replay.make_sequence_dataset("localhost:1", **kwargs)


@pytest.mark.parametrize("kwargs,field", [
    ({"batch_size": 7}, "even"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 4, "tables": "rp"}, "tables"),
])
def test_reward_prediction_dataset_bad_arguments(kwargs, field):
  with pytest.raises(ValueError, match=field):
    replay.make_reward_prediction_dataset("localhost:1", **kwargs)


def test_catch_end_to_end_through_batched_adder(make_server):
  """Three real Catch games (episodes of 2, 3, 5 steps) -> learner batches."""
  from ftw.envs import catch  # pylint: disable=g-import-not-at-top
  envs = [catch.Catch(rows=r, columns=5, image_size=8, seed=r)
          for r in (3, 4, 6)]
  n = len(envs)
  spec = types.OAR(tf.TensorSpec((8, 8, 3), tf.uint8),
                   tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.float32))
  step_spec = replay.make_step_spec(spec, tf.TensorSpec((), tf.int32))
  server, client = make_server([replay.make_sequence_queue(
      "sequence_queue", 200, replay.sequence_signature(step_spec, T),
      batch_size=B)])

  def stack(timesteps, actions):
    reward = np.array([ts.reward or 0.0 for ts in timesteps], np.float32)
    return dm_env.TimeStep(
        np.array([ts.step_type for ts in timesteps]), reward,
        np.array([1.0 if ts.discount is None else ts.discount
                  for ts in timesteps], np.float32),
        types.OAR(np.stack([ts.observation for ts in timesteps]), actions,
                  reward))

  rng = np.random.default_rng(0)
  actions = np.zeros(n, np.int32)
  adder = replay.BatchedSequenceAdder(client, n, sequence_length=T, period=P)
  adder.add_first(stack([env.reset() for env in envs], actions))
  for _ in range(40):
    actions = rng.integers(0, 3, n).astype(np.int32)
    adder.add(actions, stack([e.step(a) for e, a in zip(envs, actions)],
                             actions))
  adder.close()

  dataset = replay.make_sequence_dataset(f"localhost:{server.port}",
                                         batch_size=B,
                                         rate_limiter_timeout_ms=300)
  batches = list(dataset)
  assert len(batches) >= 8  # ~35 items written
  num_terminal = 0
  for sample in batches:
    data = tf.nest.map_structure(lambda x: x.numpy(), sample.data)
    real = data.mask == 1
    # Catch pays +-1 exactly on the terminal transition (discount 0).
    terminal = real & (data.discount == 0)
    num_terminal += terminal.sum()
    assert set(np.abs(data.reward[terminal]).tolist()) <= {1.0}
    assert (data.reward[real & ~terminal] == 0).all()
    # A terminal transition is followed by the final observation, mask 0.
    b_idx, t_idx = np.nonzero(terminal[:, :-1])
    assert (data.mask[b_idx, t_idx + 1] == 0).all()
    # The OAR's previous action/reward of step t+1 are a_t and r_{t+1}.
    nxt = real[:, :-1] & real[:, 1:]
    np.testing.assert_array_equal(data.observation.action[:, 1:][nxt],
                                  data.action[:, :-1][nxt])
    np.testing.assert_array_equal(data.observation.reward[:, 1:][nxt],
                                  data.reward[:, :-1][nxt])
  assert num_terminal >= 8


def test_resuming_iterator_loses_no_item_when_the_queue_runs_dry(make_server):
  """A dataset that times out mid-batch hands its items over; the iterator
  completes the batch with the next items (before, they were dropped)."""
  server, client = make_server([replay.make_sequence_queue(
      "sequence_queue", 20, sequence_signature(), batch_size=B)])
  write_episode(client, 13)  # Items start at 0, 3, 6, 9, 12 (padded).
  stop = [False]
  iterator = replay.ResumingIterator(
      lambda: replay.make_sequence_dataset(
          f"localhost:{server.port}", batch_size=B, prefetch=0,
          rate_limiter_timeout_ms=300, drop_remainder=False),
      lambda: stop[0], batch_size=B)
  starts = lambda s: s.data.action.numpy()[:, 0].tolist()
  assert starts(next(iterator)) == [0, 3]
  assert starts(next(iterator)) == [6, 9]
  stop[0] = True  # The queue is dry: the dataset times out holding item 12.
  with pytest.raises(StopIteration):
    next(iterator)
  assert iterator.carried == 1
  write_episode(client, 13)
  stop[0] = False
  batch = next(iterator)
  assert starts(batch) == [12, 0] and batch.info.key.shape == (B,)
  assert starts(next(iterator)) == [3, 6]
  assert starts(next(iterator)) == [9, 12]
  assert iterator.carried == 0
  with pytest.raises(ValueError, match="batch_size must be >= 1"):
    replay.ResumingIterator(lambda: None, lambda: True, batch_size=0)


def test_resuming_iterator_releases_an_ended_dataset_in_another_thread():
  """Deleting a Reverb dataset's iterator can wait seconds for its prefetch
  thread; the caller (a learner noticing a stop) must not wait for it."""
  deleted_by = []
  deleted = threading.Event()

  class _EndedDataset:
    def __iter__(self):
      return self

    def __next__(self):
      raise StopIteration

    def __del__(self):
      deleted_by.append(threading.current_thread().name)
      deleted.set()

  iterator = replay.ResumingIterator(_EndedDataset, lambda: True)
  with pytest.raises(StopIteration):
    next(iterator)
  assert deleted.wait(60)
  assert deleted_by == ["dataset-release"]
