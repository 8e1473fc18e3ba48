"""Vector adders on a 3-row auto-resetting vector stream with a real LSTM.

Both `BatchedSequenceAdder` (a SequenceAdder per row) and
`VectorSequenceAdder` (numpy windows, one append per item) run the same test.

Rows end episodes at different times; each row's items must be exactly those
a single-stream adder would write, and each item's core state must be the LSTM
state recorded at its first step (unrolling from it reproduces the logits).
"""

import collections

import dm_env
import numpy as np
import pytest
import sonnet as snt
import tensorflow as tf
import tree

from ftw import replay
from ftw import types

N = 3
PIXELS = (2, 2, 3)
LENGTHS = [[2, 5, 3, 6], [7, 1, 4, 2], [4, 4, 9, 1]]  # per row, cycled
T, P = 4, 3


class CountingVectorEnv:
  """Auto-resetting batch of counters; pixels encode (row, episode, t)."""

  def __init__(self):
    self.episode = [0] * N
    self.t = [0] * N
    self.was_last = [False] * N

  def _observation(self):
    pixels = np.zeros((N, *PIXELS), np.uint8)
    for i in range(N):
      pixels[i, ..., :] = (i, self.episode[i], self.t[i])
    return types.OAR(pixels, np.zeros(N, np.int32), np.zeros(N, np.float32))

  def length(self, i):
    return LENGTHS[i][(self.episode[i] - 1) % len(LENGTHS[i])]

  def reset(self):
    self.episode = [1] * N
    return dm_env.TimeStep(np.full(N, dm_env.StepType.FIRST), None, None,
                           self._observation())

  def step(self, unused_actions):
    step_type = np.zeros(N, np.int64)
    reward = np.zeros(N, np.float32)
    discount = np.ones(N, np.float32)
    for i in range(N):
      if self.was_last[i]:
        self.episode[i] += 1
        self.t[i] = 0
        self.was_last[i] = False
        step_type[i] = dm_env.StepType.FIRST
        continue
      reward[i] = (self.t[i] + i) % 2
      self.t[i] += 1
      if self.t[i] == self.length(i):
        step_type[i] = dm_env.StepType.LAST
        discount[i] = 0.0
        self.was_last[i] = True
      else:
        step_type[i] = dm_env.StepType.MID
    return dm_env.TimeStep(step_type, reward, discount, self._observation())


def expected_starts(length):
  starts = []
  for start in range(0, length, P):
    starts.append(start)
    if start + T - 1 >= length:
      break
  return starts


def core_inputs(pixels):
  return tf.reshape(tf.cast(pixels, tf.float32) / 10.0, [pixels.shape[0], -1])


ADDERS = [replay.BatchedSequenceAdder, replay.VectorSequenceAdder]


@pytest.mark.parametrize("adder_class", ADDERS)
def test_batched_adder_routes_rows_and_keeps_core_state(make_server,
                                                        adder_class):
  obs_spec = types.OAR(tf.TensorSpec(PIXELS, tf.uint8),
                       tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.float32))
  core = snt.LSTM(4)
  state_spec = snt.LSTMState(tf.TensorSpec((4,), tf.float32),
                             tf.TensorSpec((4,), tf.float32))
  extras_spec = {"logits": tf.TensorSpec((4,), tf.float32),
                 "core_state": state_spec}
  step_spec = replay.make_step_spec(obs_spec, tf.TensorSpec((), tf.int32),
                                    extras_spec)
  _, client = make_server([replay.make_sequence_queue(
      "sequence_queue", 1000, replay.sequence_signature(step_spec, T))])

  env = CountingVectorEnv()
  log = collections.defaultdict(dict)  # (row, ep) -> t -> (action, logits, h)
  finished = {}  # (row, ep) -> episode length
  adder = adder_class(client, N, sequence_length=T, period=P)
  timestep = env.reset()
  adder.add_first(timestep)
  state = core.initial_state(N)
  for _ in range(30):
    pixels = timestep.observation.observation
    logits, next_state = core(core_inputs(pixels), state)
    ep, t = pixels[:, 0, 0, 1].astype(int), pixels[:, 0, 0, 2].astype(int)
    actions = (1000 * ep + t).astype(np.int32)
    for i in range(N):
      row_state = [x[i].numpy() for x in state]
      log[(i, ep[i])][t[i]] = (actions[i], logits[i].numpy(),
                               snt.LSTMState(*row_state))
    timestep = env.step(actions)
    adder.add(actions, timestep, {"logits": logits, "core_state": state})
    for i in range(N):
      if timestep.step_type[i] == dm_env.StepType.LAST:
        finished[(i, env.episode[i])] = env.t[i]
    # Restarted rows get a fresh core state, as an actor would.
    reset = timestep.step_type == dm_env.StepType.FIRST
    state = tree.map_structure(
        lambda s, z: tf.where(reset[:, None], z, s), next_state,
        core.initial_state(N))
  adder.close()

  n = client.server_info()["sequence_queue"].current_size
  items = [s.data for s in client.sample("sequence_queue", n,
                                         emit_timesteps=False,
                                         unpack_as_table_signature=True)]
  starts = collections.defaultdict(list)
  for data in items:
    pixels = data.observation.observation
    real = data.mask == 1
    row, ep, start = (int(v) for v in pixels[0, 0, 0])
    ts = pixels[real, 0, 0, 2].tolist()
    # One row, one episode, consecutive steps, zeros after the real ones.
    assert (pixels[real, 0, 0, 0] == row).all()
    assert (pixels[real, 0, 0, 1] == ep).all()
    assert ts == list(range(start, start + len(ts)))
    assert data.mask.tolist() == [1.0] * len(ts) + [0.0] * (T - len(ts))
    assert data.start_of_episode.tolist() == [t == 0 for t in ts] + [False] * (
        T - len(ts))
    np.testing.assert_array_equal(
        data.action[real], [log[(row, ep)][t][0] for t in ts])
    np.testing.assert_array_equal(data.action[~real], 0)
    np.testing.assert_array_equal(
        data.reward[real], [(t + row) % 2 for t in ts])
    # Core state = state recorded at the item's first step.
    recorded = log[(row, ep)][start][2]
    np.testing.assert_array_equal(data.extras["core_state"].hidden,
                                  recorded.hidden)
    np.testing.assert_array_equal(data.extras["core_state"].cell,
                                  recorded.cell)
    np.testing.assert_allclose(
        data.extras["logits"][real],
        np.stack([log[(row, ep)][t][1] for t in ts]), rtol=1e-6)
    # A learner unrolling from the stored state reproduces the actor's logits.
    unrolled, _ = snt.static_unroll(
        core, core_inputs(pixels[real])[:, None],
        tree.map_structure(lambda x: tf.constant(x[None]),
                           data.extras["core_state"]))
    np.testing.assert_allclose(unrolled[:, 0].numpy(),
                               data.extras["logits"][real], atol=1e-5)
    if (row, ep) in finished:
      last_t = ts[-1]
      length = finished[(row, ep)]
      # Discount 0 only on the terminal transition; then the final
      # observation (mask 0) follows it.
      want_discount = [0.0 if t == length - 1 else 1.0 for t in ts]
      assert data.discount[real].tolist() == want_discount
      if last_t == length - 1 and len(ts) < T:
        assert pixels[len(ts), 0, 0, 2] == length  # final observation
    starts[(row, ep)].append(start)

  assert len(finished) >= 2 * N  # every row finished episodes
  for key, length in finished.items():
    assert starts[key] == expected_starts(length), key
  # Unfinished episodes only wrote full windows.
  for key, got in starts.items():
    if key not in finished:
      steps_taken = max(log[key]) + 1
      assert got == list(range(0, steps_taken - T + 1, P))


@pytest.mark.parametrize("adder_class", ADDERS)
def test_batched_adder_rejects_wrong_batch(make_server, adder_class):
  _, client = make_server([replay.make_sequence_queue("sequence_queue", 10)])
  adder = adder_class(client, N, sequence_length=T, period=P)
  env = CountingVectorEnv()
  adder.add_first(env.reset())
  try:
    bad = np.zeros(N + 1, np.int32)
    with np.testing.assert_raises_regex(ValueError, "action.*num_envs=3"):
      adder.add(bad, env.step(bad))
  finally:
    adder.close()
  with np.testing.assert_raises_regex(ValueError, "num_envs"):
    adder_class(client, 0, sequence_length=T, period=P)
