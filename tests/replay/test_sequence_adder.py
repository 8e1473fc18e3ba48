"""SequenceAdder against a real Reverb server: which steps land in which item.

Steps are encoded so every value read back names its episode and step:
pixels [..., 0] = episode, pixels [..., 1] = t, OAR.action = t,
action a_t = 1000 * episode + t, reward r_{t+1} = 1 if (t + episode) % 3 == 0.
"""

import collections
import threading

import dm_env
import numpy as np
import pytest
import reverb
import tensorflow as tf

from ftw import replay
from ftw import types

K = 3  # reward-prediction frames
PIXELS = (2, 2, 3)


def observation(episode, t):
  pixels = np.zeros(PIXELS, np.uint8)
  pixels[..., 0] = episode
  pixels[..., 1] = t
  return types.OAR(pixels, np.int32(t), np.float32(episode))


def reward(episode, t):
  return np.float32((t + episode) % 3 == 0)


def extras(episode, t):
  return {"logits": np.array([episode, t], np.float32),
          "core_state": (np.array([episode, t], np.float32),
                         np.array([-t], np.float32))}


def run_episode(adder, episode, length):
  """Feeds one episode of `length` transitions; odd episodes terminate."""
  adder.add_first(dm_env.restart(observation(episode, 0)))
  for t in range(length):
    nxt = observation(episode, t + 1)
    if t < length - 1:
      step = dm_env.transition(reward(episode, t), nxt)
    elif episode % 2:
      step = dm_env.termination(reward(episode, t), nxt)
    else:
      step = dm_env.truncation(reward(episode, t), nxt)
    adder.add(np.int32(1000 * episode + t), step, extras(episode, t))


def expected_rows(episode, length):
  """(ep, t, action, reward, discount, start, mask) per stream position."""
  rows = []
  for t in range(length):
    last = t == length - 1
    discount = 0.0 if (last and episode % 2) else 1.0
    rows.append((episode, t, 1000 * episode + t, reward(episode, t),
                 discount, t == 0, 1.0))
  rows.append((episode, length, 0, 0.0, 0.0, False, 0.0))  # final observation
  return rows


def expected_items(episode, length, seq_len, period):
  """Reference rule: starts 0, P, 2P, ... up to the first window that reaches
  the final observation; never a window without a transition; zero padding."""
  rows = expected_rows(episode, length)
  items = []
  for start in range(0, length, period):
    window = rows[start:start + seq_len]
    window += [(0, 0, 0, 0.0, 0.0, False, 0.0)] * (seq_len - len(window))
    items.append((start, window))
    if start + seq_len - 1 >= length:
      break
  return items


def item_rows(data):
  """The same 7-tuples read back from a sampled item."""
  return list(zip(data.observation.observation[:, 0, 0, 0].tolist(),
                  data.observation.observation[:, 0, 0, 1].tolist(),
                  data.action.tolist(), data.reward.tolist(),
                  data.discount.tolist(), data.start_of_episode.tolist(),
                  data.mask.tolist()))


def signature(seq_len):
  obs = types.OAR(tf.TensorSpec(PIXELS, tf.uint8), tf.TensorSpec((), tf.int32),
                  tf.TensorSpec((), tf.float32))
  extras_spec = {"logits": tf.TensorSpec((2,), tf.float32),
                 "core_state": (tf.TensorSpec((2,), tf.float32),
                                tf.TensorSpec((1,), tf.float32))}
  step = replay.make_step_spec(obs, tf.TensorSpec((), tf.int32), extras_spec)
  return replay.sequence_signature(step, seq_len)


def drain(client, table):
  """All items of a FIFO queue table, in insertion order."""
  n = client.server_info()[table].current_size
  if not n:
    return []
  return [s.data for s in client.sample(table, n, emit_timesteps=False,
                                        unpack_as_table_signature=True)]


def fifo_tables(seq_len):
  rp_sig = replay.reward_prediction_signature(
      tf.TensorSpec(PIXELS, tf.uint8), K)
  # FIFO queues stand in for the uniform rp tables so every item is read once.
  return [replay.make_sequence_queue("sequence_queue", 10_000,
                                     signature(seq_len)),
          reverb.Table.queue("rp_zero", 10_000, signature=rp_sig),
          reverb.Table.queue("rp_nonzero", 10_000, signature=rp_sig)]


@pytest.mark.parametrize("seq_len,period",
                         [(2, 1), (4, 3), (4, 4), (4, 2), (5, 4)])
def test_items_cover_every_step_at_episode_boundaries(make_server, seq_len,
                                                      period):
  _, client = make_server(fifo_tables(seq_len))
  lengths = list(range(1, 3 * seq_len + 1))
  with replay.SequenceAdder(client, seq_len, period,
                            reward_prediction_tables=("rp_zero", "rp_nonzero"),
                            reward_prediction_frames=K) as adder:
    for episode, length in enumerate(lengths, start=1):
      run_episode(adder, episode, length)

  items = drain(client, "sequence_queue")
  expected = [it for ep, n in enumerate(lengths, start=1)
              for it in expected_items(ep, n, seq_len, period)]
  assert len(items) == len(expected)
  trained = collections.Counter()
  anywhere = collections.Counter()
  for data, (start, rows) in zip(items, expected):
    got = item_rows(data)
    assert got == rows
    episode = rows[0][0]
    # The core state is the one recorded at the item's first step.
    np.testing.assert_array_equal(data.extras["core_state"][0],
                                  [episode, start])
    np.testing.assert_array_equal(data.extras["core_state"][1], [-start])
    real = [r for r in rows if r[6] == 1.0]
    np.testing.assert_array_equal(data.extras["logits"][:len(real)],
                                  [[r[0], r[1]] for r in real])
    np.testing.assert_array_equal(data.extras["logits"][len(real):], 0)
    for pos, row in enumerate(got):
      if row[6] == 1.0:
        anywhere[row[:2]] += 1
        trained[row[:2]] += pos <= seq_len - 2

  transitions = {(ep, t) for ep, n in enumerate(lengths, start=1)
                 for t in range(n)}
  assert set(anywhere) == transitions
  assert all(trained[s] >= 1 for s in transitions) or period == seq_len
  if period == seq_len - 1:
    assert all(trained[s] == 1 for s in transitions)
  if period == seq_len:
    assert all(anywhere[s] == 1 for s in transitions)

  # Reward prediction: every transition t >= K-1, frames t-K+1..t, in order.
  rp = {"rp_zero": [], "rp_nonzero": []}
  for ep, n in enumerate(lengths, start=1):
    for t in range(K - 1, n):
      table = "rp_nonzero" if reward(ep, t) else "rp_zero"
      rp[table].append((ep, list(range(t - K + 1, t + 1)), reward(ep, t)))
  for table, want in rp.items():
    got = [(int(d.frames[0, 0, 0, 0]), d.frames[:, 0, 0, 1].tolist(),
            float(d.reward)) for d in drain(client, table)]
    assert got == want
    assert all((d.frames[:, ..., 0] == d.frames[0, 0, 0, 0]).all()
               for d in drain(client, table))


def test_unpadded_last_item_is_shorter(make_server):
  _, client = make_server([reverb.Table.queue("sequence_queue", 100)])
  with replay.SequenceAdder(client, 4, 3, pad_end_of_episode=False) as adder:
    run_episode(adder, 1, 5)  # stream positions 0..5, starts 0 and 3
  n = client.server_info()["sequence_queue"].current_size
  samples = list(client.sample("sequence_queue", n, emit_timesteps=False))
  # Flat leaves; leaf 3 is Step.action (after the three OAR leaves).
  actions = [s.data[3].tolist() for s in samples]
  assert actions == [[1000, 1001, 1002, 1003], [1003, 1004, 0]]


def test_core_state_only_stored_at_item_starts(make_server):
  _, client = make_server(fifo_tables(4))
  with replay.SequenceAdder(client, 4, 3) as adder:
    run_episode(adder, 1, 9)
  info = client.server_info()["sequence_queue"]
  assert info.current_size == 3
  # The item's core state has no time dimension.
  items = drain(client, "sequence_queue")
  assert [d.extras["core_state"][0][1] for d in items] == [0, 3, 6]
  assert items[0].extras["core_state"][0].shape == (2,)

  # The writer only ever received the states of steps that start an item.
  adder = replay.SequenceAdder(client, 4, 3)
  adder.add_first(dm_env.restart(observation(2, 0)))
  for t in range(5):
    adder.add(np.int32(t), dm_env.transition(0.0, observation(2, t + 1)),
              extras(2, t))
  # The writer's columns are the leaves of `Step` in tree.flatten order; it
  # keeps the last T=4 steps (1..4) of their history.
  # pylint: disable=protected-access
  history = adder._writer.history
  core = [c for c, is_core in zip(history, adder._is_core) if is_core]
  stored = lambda column: [ref is not None for ref in list(column)[-4:]]
  assert len(core) == 2  # (h, c) of extras(): two leaves
  for column in core:
    assert stored(column) == [False, False, True, False]
  assert stored(history[-1]) == [True] * 4  # mask, stored every step
  adder.close()


@pytest.mark.parametrize("kwargs,field", [
    ({"sequence_length": 1, "period": 1}, "sequence_length"),
    ({"sequence_length": 4, "period": 0}, "period"),
    ({"sequence_length": 4, "period": 5}, "period"),
    ({"sequence_length": 4, "period": 3, "max_in_flight_items": 0},
     "max_in_flight_items"),
    ({"sequence_length": 4, "period": 3, "reward_prediction_tables": "rp"},
     "reward_prediction_tables"),
    ({"sequence_length": 4, "period": 3, "reward_prediction_frames": 0},
     "reward_prediction_frames"),
    ({"sequence_length": 4, "period": 3, "flush_timeout_ms": 0},
     "flush_timeout_ms"),
])
def test_bad_arguments_raise(make_server, kwargs, field):
  _, client = make_server([reverb.Table.queue("sequence_queue", 10)])
  with pytest.raises(ValueError, match=field):
    replay.SequenceAdder(client, **kwargs)


def test_misordered_calls_raise(make_server):
  _, client = make_server([reverb.Table.queue("sequence_queue", 10)])
  adder = replay.SequenceAdder(client, 4, 3)
  with pytest.raises(ValueError, match="add_first"):
    adder.add(np.int32(0), dm_env.transition(0.0, observation(1, 1)))
  with pytest.raises(ValueError, match="FIRST"):
    adder.add_first(dm_env.transition(0.0, observation(1, 0)))
  adder.add_first(dm_env.restart(observation(1, 0)))
  with pytest.raises(ValueError, match="in progress"):
    adder.add_first(dm_env.restart(observation(1, 0)))
  with pytest.raises(ValueError, match="FIRST"):
    adder.add(np.int32(0), dm_env.restart(observation(1, 1)))
  adder.reset()  # Drops the episode: a new one may start.
  adder.add_first(dm_env.restart(observation(2, 0)))
  adder.close()
  with pytest.raises(RuntimeError, match="closed"):
    adder.add_first(dm_env.restart(observation(3, 0)))


def test_reward_prediction_needs_array_pixels(make_server):
  _, client = make_server([reverb.Table.queue("sequence_queue", 10)])
  with replay.SequenceAdder(client, 4, 3,
                            reward_prediction_tables=("a", "b")) as adder:
    with pytest.raises(ValueError, match="reward prediction"):
      adder.add_first(dm_env.restart({"a": np.zeros(2), "b": np.zeros(2)}))


def test_writer_waits_on_full_queue_then_resumes(make_server):
  # A queue of 2 items; the adder writes 5 with 50 ms flush slices, so it must
  # survive several timeouts while the server lives and the queue is full.
  tables = fifo_tables(2)
  tables[0] = replay.make_sequence_queue("sequence_queue", 2, signature(2))
  _, client = make_server(tables)
  errors = []

  def act():
    try:
      with replay.SequenceAdder(client, 2, 1, max_in_flight_items=1,
                                flush_timeout_ms=50) as adder:
        run_episode(adder, 1, 5)  # 5 items
    except Exception as e:  # pylint: disable=broad-except
      errors.append(e)

  actor = threading.Thread(target=act)
  actor.start()
  actor.join(timeout=0.5)
  assert actor.is_alive()  # Blocked by the full queue, not failed.
  got = [s.data.action.tolist() for s in client.sample(
      "sequence_queue", 5, emit_timesteps=False,
      unpack_as_table_signature=True)]
  actor.join(timeout=30)
  assert not actor.is_alive() and not errors
  assert got == [[1000, 1001], [1001, 1002], [1002, 1003], [1003, 1004],
                 [1004, 0]]


def test_no_hang_when_server_is_gone(make_server):
  server, client = make_server([reverb.Table.queue("sequence_queue", 100)])
  adder = replay.SequenceAdder(client, 2, 1, max_in_flight_items=1,
                               flush_timeout_ms=100)
  run_episode(adder, 1, 3)
  adder.add_first(dm_env.restart(observation(2, 0)))
  server.stop()
  with pytest.raises(replay.ServerUnavailableError):
    for t in range(4):  # Items pile up past max_in_flight_items.
      adder.add(np.int32(t), dm_env.transition(0.0, observation(2, t + 1)),
                extras(2, t))
  adder.close()  # Bounded wait, no exception.
  adder.close()  # Idempotent.
