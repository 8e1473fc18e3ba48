"""VectorSequenceAdder writes exactly the items of BatchedSequenceAdder.

Both adders get the same auto-resetting vector stream (rows end episodes at
different times, lengths 1..9) and write into servers of their own; the
sequence items and the reward-prediction items read back must be the same
multisets, for several (T, P) pairs.
"""

import collections

import dm_env
import numpy as np
import pytest
import reverb
import tensorflow as tf

from ftw import replay
from ftw import types

N = 4
PIXELS = (2, 2, 3)


class RandomLengthVectorEnv:
  """Pixels encode (row, episode, t); rewards in {-1, 0, 1}; seeded lengths."""

  def __init__(self, seed):
    self._rng = np.random.default_rng(seed)
    self.episode = [1] * N
    self.t = [0] * N
    self.length = [int(self._rng.integers(1, 10)) for _ in range(N)]
    self.was_last = [False] * N

  def _observation(self):
    pixels = np.zeros((N, *PIXELS), np.uint8)
    for i in range(N):
      pixels[i, ..., :] = (i, self.episode[i], self.t[i])
    return types.OAR(pixels, np.zeros(N, np.int32), np.zeros(N, np.float32))

  def reset(self):
    return dm_env.TimeStep(np.full(N, dm_env.StepType.FIRST), None, None,
                           self._observation())

  def step(self):
    step_type = np.full(N, int(dm_env.StepType.MID), np.int64)
    reward = np.zeros(N, np.float32)
    discount = np.ones(N, np.float32)
    for i in range(N):
      if self.was_last[i]:
        self.episode[i] += 1
        self.t[i] = 0
        self.length[i] = int(self._rng.integers(1, 10))
        self.was_last[i] = False
        step_type[i] = dm_env.StepType.FIRST
        continue
      reward[i] = self._rng.choice([-1.0, 0.0, 0.0, 1.0])
      self.t[i] += 1
      if self.t[i] == self.length[i]:
        step_type[i] = dm_env.StepType.LAST
        discount[i] = 0.0
        self.was_last[i] = True
    return dm_env.TimeStep(step_type, reward, discount, self._observation())


def _tables(length, frames=3):
  obs_spec = types.OAR(tf.TensorSpec(PIXELS, tf.uint8),
                       tf.TensorSpec((), tf.int32),
                       tf.TensorSpec((), tf.float32))
  extras = {"logits": tf.TensorSpec((2,), tf.float32),
            "core_state": (tf.TensorSpec((3,), tf.float32),)}
  step = replay.make_step_spec(obs_spec, tf.TensorSpec((), tf.int32), extras)
  rp_sig = replay.reward_prediction_signature(tf.TensorSpec(PIXELS, tf.uint8),
                                              frames)
  return [replay.make_sequence_queue("sequence_queue", 10_000,
                                     replay.sequence_signature(step, length)),
          # Queues, so that sampling reads every item exactly once.
          *[reverb.Table.queue(name, 10_000, signature=rp_sig)
            for name in (replay.RP_ZERO_TABLE, replay.RP_NONZERO_TABLE)]]


def _drain(client, table):
  n = client.server_info()[table].current_size
  if not n:
    return []
  samples = client.sample(table, n, emit_timesteps=False)
  return sorted(b"".join(np.asarray(leaf).tobytes() for leaf in s.data)
                for s in samples)


@pytest.mark.parametrize("length, period, frames", [
    (4, 3, 3), (4, 4, 3), (5, 2, 3), (2, 1, 3), (3, 3, 3), (6, 5, 3),
    # Reward-prediction rings of one frame and of more than most episodes.
    (4, 3, 1), (4, 3, 5)])
def test_same_items_as_batched_adder(make_server, length, period, frames):
  results = []
  for adder_class in (replay.BatchedSequenceAdder, replay.VectorSequenceAdder):
    _, client = make_server(_tables(length, frames))
    adder = adder_class(client, N, sequence_length=length, period=period,
                        reward_prediction_tables=(replay.RP_ZERO_TABLE,
                                                  replay.RP_NONZERO_TABLE),
                        reward_prediction_frames=frames)
    env = RandomLengthVectorEnv(seed=length * 10 + period)
    timestep = env.reset()
    adder.add_first(timestep)
    for step in range(60):
      pixels = timestep.observation.observation
      actions = (pixels[:, 0, 0, 2].astype(np.int32) + 7 * step)
      logits = np.stack([pixels[:, 0, 0, 1], pixels[:, 0, 0, 2]],
                        -1).astype(np.float32)
      state = (tf.constant(np.tile(actions[:, None], (1, 3)), tf.float32),)
      timestep = env.step()
      adder.add(actions, timestep, {"logits": logits, "core_state": state})
    adder.close()
    results.append({name: _drain(client, name) for name in (
        "sequence_queue", replay.RP_ZERO_TABLE, replay.RP_NONZERO_TABLE)})
  batched, vector = results
  assert len(batched["sequence_queue"]) > 10
  assert batched["rp_nonzero"] and batched["rp_zero"]
  for table in batched:
    assert collections.Counter(vector[table]) == collections.Counter(
        batched[table]), table


def test_zero_reward_items_are_subsampled(make_server):
  counts = []
  for probability in (1.0, 0.25):
    _, client = make_server(_tables(4))
    adder = replay.VectorSequenceAdder(
        client, N, sequence_length=4, period=3,
        reward_prediction_tables=(replay.RP_ZERO_TABLE,
                                  replay.RP_NONZERO_TABLE),
        reward_prediction_zero_probability=probability, seed=0)
    env = RandomLengthVectorEnv(seed=1)
    adder.add_first(env.reset())
    for _ in range(400):
      adder.add(np.zeros(N, np.int32), env.step(),
                {"logits": np.zeros((N, 2), np.float32),
                 "core_state": (np.zeros((N, 3), np.float32),)})
    adder.close()
    info = client.server_info()
    counts.append((info["rp_zero"].current_size,
                   info["rp_nonzero"].current_size))
  (all_zero, all_nonzero), (some_zero, some_nonzero) = counts
  assert some_nonzero == all_nonzero  # Every non-zero reward is kept.
  assert 0.15 < some_zero / all_zero < 0.35


def test_bad_arguments_name_themselves(make_server):
  _, client = make_server(_tables(4))
  for kwargs, name in [(dict(num_envs=0), "num_envs"),
                       (dict(sequence_length=1), "sequence_length"),
                       (dict(period=5), "period"),
                       (dict(reward_prediction_zero_probability=0.0),
                        "reward_prediction_zero_probability")]:
    args = dict(num_envs=N, sequence_length=4, period=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
      replay.VectorSequenceAdder(client, **args)
