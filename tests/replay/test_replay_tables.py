"""Replay tables: queue-size rule, table behaviour on a server, signatures."""

import dm_env
from dm_env import specs
import numpy as np
import pytest
import tensorflow as tf

from ftw import replay
from ftw import types


@pytest.mark.parametrize("max_size,batch_size,field", [
    (17, 16, "max_size"),   # == batch_size + 1
    (5, 16, "max_size"),
    (3, 0, "batch_size"),
    (10.5, 4, "max_size"),
])
def test_validate_queue_size_rejects(max_size, batch_size, field):
  with pytest.raises(ValueError, match=field):
    replay.validate_queue_size(max_size, batch_size)


def test_validate_queue_size_accepts_batch_plus_two():
  replay.validate_queue_size(18, 16)  # No exception.


def test_make_sequence_queue_validates_given_batch_size():
  with pytest.raises(ValueError, match="max_size must be an int > batch_size"):
    replay.make_sequence_queue("q", 9, batch_size=8)
  with pytest.raises(ValueError, match="max_size"):
    replay.make_sequence_queue("q", 0)
  assert replay.make_sequence_queue("q", 10, batch_size=8).name == "q"


def _insert(client, table, values):
  with client.trajectory_writer(num_keep_alive_refs=1) as writer:
    for v in values:
      writer.append({"x": np.float32(v)})
      writer.create_item(table, 1.0, {"x": writer.history["x"][-1]})
    writer.flush()


def test_sequence_queue_is_fifo_and_samples_each_item_once(make_server):
  _, client = make_server([replay.make_sequence_queue("q", 4, batch_size=2)])
  _insert(client, "q", [1, 2, 3])
  got = [s.data[0] for s in client.sample("q", 3, emit_timesteps=False)]
  assert got == [1, 2, 3]
  info = client.server_info()["q"]
  assert info.current_size == 0
  assert info.max_times_sampled == 1
  assert info.rate_limiter_info.max_diff == 4  # inserts block when full


def test_reward_prediction_tables_are_uniform_fifo_min_size_one(make_server):
  zero, nonzero = replay.make_reward_prediction_tables(3)
  assert (zero.name, nonzero.name) == ("rp_zero", "rp_nonzero")
  _, client = make_server([zero, nonzero])
  _insert(client, "rp_zero", [1, 2, 3, 4, 5])  # 1 and 2 evicted, oldest first
  info = client.server_info()["rp_zero"]
  assert info.current_size == 3
  assert info.sampler_options.uniform
  assert info.remover_options.fifo
  assert info.max_times_sampled == 0
  assert info.rate_limiter_info.min_size_to_sample == 1
  seen = {float(s.data[0]) for s in client.sample("rp_zero", 200,
                                          emit_timesteps=False)}
  assert seen == {3, 4, 5}  # sampled with replacement, uniformly
  assert client.server_info()["rp_zero"].current_size == 3


def test_reward_prediction_tables_bad_arguments():
  with pytest.raises(ValueError, match="names"):
    replay.make_reward_prediction_tables(10, names="rp")
  with pytest.raises(ValueError, match="max_size"):
    replay.make_reward_prediction_tables(0)


def test_signatures_from_dm_env_specs():
  obs = types.OAR(
      specs.BoundedArray((84, 84, 3), np.uint8, 0, 255),
      specs.DiscreteArray(6, dtype=np.int32),
      specs.Array((), np.float32))
  extras = {"logits": specs.Array((6,), np.float32),
            "core_state": (tf.TensorSpec((8,), tf.float32),
                           tf.TensorSpec((8,), tf.float32))}
  step = replay.make_step_spec(obs, specs.DiscreteArray(6, dtype=np.int32),
                               extras, reward_spec=specs.Array((), np.float64))
  sig = replay.sequence_signature(step, 20)
  assert sig.observation.observation == tf.TensorSpec((20, 84, 84, 3),
                                                      tf.uint8)
  assert sig.observation.action == tf.TensorSpec((20,), tf.int32)
  assert sig.action == tf.TensorSpec((20,), tf.int32)
  assert sig.reward == tf.TensorSpec((20,), tf.float32)  # stored as float32
  assert sig.discount == tf.TensorSpec((20,), tf.float32)
  assert sig.start_of_episode == tf.TensorSpec((20,), tf.bool)
  assert sig.mask == tf.TensorSpec((20,), tf.float32)
  assert sig.extras["logits"] == tf.TensorSpec((20, 6), tf.float32)
  # The core state is stored once per item, without a time dimension.
  assert sig.extras["core_state"] == (tf.TensorSpec((8,), tf.float32),) * 2
  # Without a core-state key everything is per step; None = varying length.
  flat = replay.sequence_signature(step, None, core_state_key=None)
  assert flat.extras["core_state"][0] == tf.TensorSpec((None, 8), tf.float32)

  rp = replay.reward_prediction_signature(obs.observation, 3)
  assert rp.frames == tf.TensorSpec((3, 84, 84, 3), tf.uint8)
  assert rp.reward == tf.TensorSpec((), tf.float32)


def test_signature_bad_input():
  with pytest.raises(ValueError, match="observation_spec"):
    replay.make_step_spec({"pixels": "not a spec"}, tf.TensorSpec((), tf.int32))
  with pytest.raises(ValueError, match="num_frames"):
    replay.reward_prediction_signature(tf.TensorSpec((8, 8, 3), tf.uint8), 0)
  step = replay.make_step_spec(tf.TensorSpec((2,), tf.uint8),
                               tf.TensorSpec((), tf.int32))
  with pytest.raises(ValueError, match="sequence_length"):
    replay.sequence_signature(step, 0)


def test_table_signature_rejects_mismatched_items(make_server):
  step = replay.make_step_spec(tf.TensorSpec((2,), tf.uint8),
                               tf.TensorSpec((), tf.int32))
  _, client = make_server([replay.make_sequence_queue(
      "sequence_queue", 10, replay.sequence_signature(step, 3))])
  adder = replay.SequenceAdder(client, 2, 1, flush_timeout_ms=2000)
  adder.add_first(dm_env.restart(np.zeros(2, np.uint8)))
  # Items of length 2 do not fit a signature of length 3.
  with pytest.raises(ValueError, match="signature"):
    for t in range(3):
      adder.add(np.int32(t), dm_env.transition(0.0, np.zeros(2, np.uint8)))
  adder.close()
