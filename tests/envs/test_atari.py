"""Tests for ftw.envs.atari on the real ALE (Pong, Space Invaders)."""

import dm_env
import numpy as np
import pytest
from PIL import Image

from ftw.envs.atari import make_atari, resize_frame


def _box_resize(frame, size):
  """Box filter in numpy: output pixel o averages the source pixels whose
  centres i + 0.5 lie in (o * scale, (o + 1) * scale], on each axis."""
  def weights(n_in, n_out):
    scale = n_in / n_out
    centres = np.arange(n_in) + 0.5
    lo = np.arange(n_out)[:, None] * scale
    w = ((centres > lo) & (centres <= lo + scale)).astype(np.float64)
    return w / w.sum(1, keepdims=True)
  rows, cols = weights(frame.shape[0], size), weights(frame.shape[1], size)
  flat = frame.reshape(frame.shape[0], -1).astype(np.float64)
  half = (rows @ flat).reshape(size, frame.shape[1], -1)
  return np.einsum("oj,rjc->roc", cols, half)


def test_observation_shape_dtype_and_specs():
  env = make_atari("Pong", seed=0)
  ts = env.reset()
  assert ts.first()
  assert ts.observation.shape == (84, 84, 3) and ts.observation.dtype == np.uint8
  assert env.action_spec().num_values == 6  # Pong's minimal action set.
  for _ in range(20):
    ts = env.step(np.random.randint(6))
    env.observation_spec().validate(ts.observation)
    env.reward_spec().validate(ts.reward)
    env.discount_spec().validate(ts.discount)
  gray = make_atari("Pong", seed=0, grayscale=True, image_size=42)
  assert gray.reset().observation.shape == (42, 42, 1)
  assert gray.observation_spec().shape == (42, 42, 1)
  env.close()


def test_resize_is_a_box_filter():
  frame = np.random.default_rng(0).integers(0, 256, (210, 160, 3), np.uint8)
  out = resize_frame(frame, 84)
  assert out.shape == (84, 84, 3) and out.dtype == np.uint8
  # PIL rounds after each of its two passes: at most 1 off the exact mean.
  assert np.abs(out - _box_resize(frame, 84)).max() <= 1.0
  gray = resize_frame(frame, 84, grayscale=True)
  luma = frame @ np.array([0.299, 0.587, 0.114])
  assert gray.shape == (84, 84, 1)
  assert np.abs(gray - _box_resize(luma[..., None], 84)).max() <= 1.5


@pytest.mark.parametrize("frame_skip", [1, 4])
def test_frame_skip_advances_ale_frames(frame_skip):
  env = make_atari("Pong", seed=0, frame_skip=frame_skip, noop_max=0)
  env.reset()
  assert env.ale.getEpisodeFrameNumber() == 0
  for step in range(1, 6):
    env.step(step % 6)
    assert env.ale.getEpisodeFrameNumber() == frame_skip * step


def test_noop_starts_within_range():
  env = make_atari("Pong", seed=1, noop_max=30)
  counts = []
  for _ in range(12):
    env.reset()
    counts.append(env.ale.getEpisodeFrameNumber())
  assert all(1 <= c <= 30 for c in counts)
  assert len(set(counts)) > 3  # Random, not a constant.


def test_observation_is_max_of_last_two_raw_frames():
  env = make_atari("Pong", seed=0, noop_max=0)
  env.reset()
  for _ in range(60):  # Play into the rally so the ball is moving.
    env.step(0)
  ale = env.ale
  action_set = ale.getMinimalActionSet()
  checked = 0
  for action in [2, 3, 2, 3, 0, 2]:
    state = ale.cloneState()
    ts = env.step(action)
    after = ale.cloneState()
    # Replay the same step frame by frame on the raw emulator.
    ale.restoreState(state)
    raw = []
    for _ in range(4):
      ale.act(action_set[action])
      raw.append(ale.getScreenRGB())
    ale.restoreState(after)
    pooled = np.maximum(raw[2], raw[3])
    expected = np.asarray(Image.fromarray(pooled).resize((84, 84), Image.BOX))
    np.testing.assert_array_equal(ts.observation, expected)
    if not np.array_equal(raw[2], raw[3]):
      assert np.abs(ts.observation - _box_resize(pooled, 84)).max() <= 1.0
      checked += 1
  assert checked >= 3  # The two pooled frames really differed.


def test_reward_clipping_is_the_sign():
  actions = [1] * 180  # FIRE: Space Invaders pays 5-30 per alien.
  def rewards(clip):
    env = make_atari("SpaceInvaders", seed=4, clip_rewards=clip, noop_max=0)
    env.reset()
    return np.array([env.step(a).reward for a in actions])
  raw, clipped = rewards(False), rewards(True)
  assert raw.max() > 1.0  # Rewards worth clipping did occur.
  np.testing.assert_array_equal(clipped, np.sign(raw))


def test_step_limit_truncates_with_discount_one():
  env = make_atari("Pong", seed=0, max_episode_steps=5)
  env.reset()
  step_types = [env.step(0).step_type for _ in range(4)]
  ts = env.step(0)
  assert step_types == [dm_env.StepType.MID] * 4
  assert ts.last() and ts.discount == 1.0
  assert env.step(0).first()


def test_game_over_terminates_with_discount_zero():
  env = make_atari("Pong", seed=0, frame_skip=8, noop_max=0)
  env.reset()
  total = 0.0
  for steps in range(1, 2000):
    ts = env.step(0)  # Standing still loses every point.
    total += ts.reward
    if ts.last():
      break
  assert ts.last() and ts.discount == 0.0
  assert total == -21.0


def test_same_seed_same_episode_with_sticky_actions():
  def frames(seed):
    env = make_atari("Pong", seed=seed, sticky_actions=True)
    obs = [env.reset().observation]
    for t in range(80):
      obs.append(env.step((t // 5) % 6).observation)
    return np.stack(obs), env.ale.getEpisodeFrameNumber()
  (a, frame_a), (b, frame_b) = frames(5), frames(5)
  np.testing.assert_array_equal(a, b)
  assert frame_a == frame_b
  c, _ = frames(6)
  assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs, name", [
    (dict(frame_skip=0), "frame_skip"), (dict(noop_max=-1), "noop_max"),
    (dict(max_episode_steps=0), "max_episode_steps"),
    (dict(image_size=0), "image_size"), (dict(game="NotAGame"), "game"),
    (dict(sticky_actions=1), "sticky_actions"), (dict(seed=-3), "seed"),
    (dict(frame_stack=0), "frame_stack")])
def test_bad_arguments_raise(kwargs, name):
  with pytest.raises(ValueError, match=name):
    make_atari(**kwargs)


def test_bad_action_raises():
  env = make_atari("Pong", seed=0)
  env.reset()
  for action in [6, -1, 1.5]:
    with pytest.raises(ValueError, match="action"):
      env.step(action)


def test_make_environment_atari_names():
  from ftw.envs import make_environment  # pylint: disable=g-import-not-at-top
  for name in ["atari:Pong", "Pong"]:
    env = make_environment(name, seed=0, noop_max=0, image_size=32)
    assert env.reset().observation.shape == (32, 32, 3)
    env.step(0)
    assert env.ale.getEpisodeFrameNumber() == 4
  with pytest.raises(ValueError, match="name must be"):
    make_environment("atari:NotAGame", seed=0)


def test_frame_stack_holds_the_newest_frames_oldest_first():
  stacked = make_atari("Pong", seed=3, grayscale=True, frame_stack=4)
  single = make_atari("Pong", seed=3, grayscale=True)
  first = stacked.reset().observation
  assert first.shape == (84, 84, 4) and stacked.observation_spec().shape == (
      84, 84, 4)
  frames = [single.reset().observation[..., 0]]
  # The first observation repeats the first frame: no stale frames.
  for c in range(4):
    np.testing.assert_array_equal(first[..., c], frames[0])
  for step in range(70):
    action = [2, 3, 0][step % 3]
    obs = stacked.step(action).observation
    frames.append(single.step(action).observation[..., 0])
    expected = [frames[max(0, len(frames) - 4 + c)] for c in range(4)]
    for c in range(4):
      np.testing.assert_array_equal(obs[..., c], expected[c])
  assert not np.array_equal(obs[..., 0], obs[..., 3])  # Things moved.


def test_grayscale_is_the_pooled_emulator_luminance():
  env = make_atari("Pong", seed=0, noop_max=0, grayscale=True)
  env.reset()
  for _ in range(60):
    env.step(0)
  ale = env.ale
  state = ale.cloneState()
  ts = env.step(2)
  ale.restoreState(state)
  raw = []
  for _ in range(4):
    ale.act(ale.getMinimalActionSet()[2])
    raw.append(ale.getScreenGrayscale())
  pooled = np.maximum(raw[2], raw[3])
  assert np.abs(ts.observation[..., 0] - _box_resize(pooled, 84)[..., 0]
                ).max() <= 1.0
