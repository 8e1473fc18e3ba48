"""Tests of ftw.tf.losses.pixel_control (UNREAL pixel control)."""

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tf.losses import pixel_control


def hand_frames():
  """[2, 1, 6, 6, 2] uint8 frames; the central 4x4 gives cell rewards [[4, 1], [0, 255]]."""
  frames = np.zeros((2, 1, 6, 6, 2), np.uint8)
  frames[1, 0, 0, :, :] = 100         # Border rows/columns: cropped away.
  frames[1, 0, :, 5, :] = 77
  inner = frames[:, 0, 1:5, 1:5, :]   # View on the central 4x4.
  inner[1, 0:2, 0:2, :] = 4           # Cell (0, 0): mean change 4.
  inner[1, 0, 2, 1] = 8               # Cell (0, 1): one of 8 values changes by 8.
  inner[0, 2:4, 2:4, :] = 255         # Cell (1, 1): 255 -> 0 (uint8 would wrap to 1).
  return frames


def test_rewards_hand_computed_with_crop():
  frames = hand_frames()[:, :, 1:5, 1:5, :]
  rewards = pixel_control.pixel_control_rewards(frames, cell_size=2)
  assert rewards.dtype == tf.float32
  np.testing.assert_allclose(rewards.numpy()[0, 0], [[4.0, 1.0], [0.0, 255.0]])


def test_rewards_crop_in_the_same_pass_as_cropping_first():
  frames = hand_frames()
  rewards = pixel_control.pixel_control_rewards(
      frames, cell_size=2, crop_height_dim=(1, 5), crop_width_dim=(1, -1))
  np.testing.assert_array_equal(rewards.numpy()[0, 0], [[4.0, 1.0], [0.0, 255.0]])
  # Uncropped, the border changes count too (row 0: 100, column 5: 77).
  whole = pixel_control.pixel_control_rewards(frames, cell_size=2)[0, 0].numpy()
  change = np.abs(frames[1, 0].astype(int) - frames[0, 0].astype(int))
  np.testing.assert_allclose(whole, change.reshape(3, 2, 3, 2, 2).mean((1, 3, 4)))
  assert whole[0, 0] == (4 * 100 + 2 * 4) / 8


def test_rewards_in_a_traced_function_with_unknown_batch_and_time():
  frames = np.random.default_rng(5).integers(0, 256, (3, 2, 8, 8, 2), np.uint8)
  eager = pixel_control.pixel_control_rewards(frames, 4, (None, None), (0, 8))
  traced = tf.function(
      lambda x: pixel_control.pixel_control_rewards(x, 4),
      input_signature=[tf.TensorSpec([None, None, 8, 8, 2], tf.uint8)])
  np.testing.assert_array_equal(traced(frames).numpy(), eager.numpy())
  # Known sizes stay known while tracing (pixel_control_loss checks the
  # action values against them).
  static = tf.function(lambda x: pixel_control.pixel_control_rewards(
      x, 4, (2, 82), (2, 82))).get_concrete_function(
          tf.TensorSpec([21, 32, 84, 84, 4], tf.uint8))
  assert static.structured_outputs.shape == (20, 32, 20, 20)


def test_rewards_errors_name_the_argument():
  frames = np.zeros((2, 1, 6, 6, 2), np.uint8)
  with pytest.raises(ValueError, match=r"crop_height_dim.*\(start, stop\)"):
    pixel_control.pixel_control_rewards(frames, 2, crop_height_dim=(1,))
  with pytest.raises(ValueError, match=r"crop_width_dim.*\(start, stop\)"):
    pixel_control.pixel_control_rewards(frames, 2, crop_width_dim=(1.5, 4))
  with pytest.raises(ValueError, match="crop_width_dim.*empty frame"):
    pixel_control.pixel_control_rewards(frames, 2, crop_width_dim=(4, 4))
  with pytest.raises(ValueError, match="height 3 after `crop_height_dim` "
                     r"\(1, 4\) is not divisible by `cell_size` 2"):
    pixel_control.pixel_control_rewards(frames, 2, crop_height_dim=(1, 4))
  with pytest.raises(ValueError, match="cell_size"):
    pixel_control.pixel_control_rewards(frames, 0)
  with pytest.raises(ValueError, match="observations"):
    pixel_control.pixel_control_rewards(frames[0], 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_uint8_rewards_equal_those_of_the_same_frames_in_other_dtypes(dtype):
  rng = np.random.default_rng(3)
  frames = rng.integers(0, 256, size=(3, 2, 8, 12, 4)).astype(np.uint8)
  frames[1, 0] = 255  # Extremes: 0 -> 255 -> 0 must not wrap around.
  frames[2, 0] = 0
  frames[0, 0] = 0
  uint8 = pixel_control.pixel_control_rewards(frames, cell_size=4)
  other = pixel_control.pixel_control_rewards(frames.astype(dtype), cell_size=4)
  assert uint8.dtype == tf.float32 and uint8.shape == (2, 2, 2, 3)
  assert other.dtype == (tf.float64 if dtype == np.float64 else tf.float32)
  np.testing.assert_allclose(uint8.numpy(), other.numpy(), rtol=1e-6)
  np.testing.assert_allclose(uint8.numpy()[:, 0], 255.0)
  rewards, _ = np_pixel_control(frames, np.zeros((2, 2), np.int32),
                                np.zeros((3, 2, 2, 3, 1)), 4, np.zeros((2, 2)))
  np.testing.assert_allclose(uint8.numpy(), rewards, rtol=1e-5)


def test_q_loss_on_given_rewards_equals_the_loss_on_frames():
  rng = np.random.default_rng(4)
  frames = rng.integers(0, 256, size=(4, 2, 8, 8, 3)).astype(np.uint8)
  q = rng.normal(size=(4, 2, 4, 4, 3)).astype(np.float32)
  actions = rng.integers(0, 3, size=(3, 2)).astype(np.int32)
  discounts = np.full((3, 2), 0.9, np.float32)
  discounts[1, 1] = 0.0
  on_frames = pixel_control.pixel_control_loss(frames, actions, q, 2, discounts,
                                               scale=0.5)
  rewards = pixel_control.pixel_control_rewards(frames, 2)
  on_rewards = pixel_control.pixel_control_q_loss(rewards, actions, q, discounts,
                                                  scale=0.5)
  for a, b in zip(on_frames, on_rewards):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_q_loss_errors_name_the_argument():
  rewards = tf.zeros([3, 2, 4, 4])
  q = tf.zeros([4, 2, 4, 4, 3])
  actions = tf.zeros([3, 2], tf.int32)
  with pytest.raises(ValueError, match="rewards"):
    pixel_control.pixel_control_q_loss(tf.zeros([3, 2, 4]), actions, q, 0.9)
  with pytest.raises(ValueError, match="action_values.*rewards"):
    pixel_control.pixel_control_q_loss(rewards, actions, q[:, :, :3], 0.9)
  with pytest.raises(ValueError, match="actions"):
    pixel_control.pixel_control_q_loss(rewards, actions[:2], q, 0.9)
  with pytest.raises(ValueError, match="discount_factor"):
    pixel_control.pixel_control_q_loss(rewards, actions, q, tf.zeros([2, 2]))


def test_loss_hand_computed_with_crop():
  q = np.zeros((2, 1, 2, 2, 2), np.float32)
  q[0, 0, :, :, 1] = [[1, 2], [3, 4]]                 # Taken action 1 at step 0.
  q[0, 0, :, :, 0] = 50.0                             # Not taken: ignored.
  q[1, 0, :, :, 0] = [[10, -5], [2, 1]]
  q[1, 0, :, :, 1] = [[3, 0], [-1, 2]]                # Bootstrap max: [[10, 0], [2, 2]].
  out = pixel_control.pixel_control_loss(
      hand_frames(), actions=[[1]], action_values=q, cell_size=2, discount_factor=0.5,
      scale=2.0, crop_height_dim=(1, 5), crop_width_dim=(1, 5))
  # targets = r + 0.5 * bootstrap = [[9, 1], [1, 256]]; td = [[8, -1], [-2, 252]].
  np.testing.assert_allclose(out.targets.numpy()[0, 0], [[9, 1], [1, 256]])
  np.testing.assert_allclose(out.td_errors.numpy()[0, 0], [[8, -1], [-2, 252]])
  np.testing.assert_allclose(out.loss.numpy(), [2.0 * 0.5 * (64 + 1 + 4 + 252 ** 2)])
  assert out[0] is out.loss


def np_pixel_control(frames, actions, q, cell, discounts):
  frames = frames.astype(np.float64)
  T, B, H, W, C = frames.shape[0] - 1, frames.shape[1], *frames.shape[2:]
  rewards = np.zeros((T, B, H // cell, W // cell))
  for t in range(T):
    for i in range(H // cell):
      for j in range(W // cell):
        a = frames[t, :, i * cell:(i + 1) * cell, j * cell:(j + 1) * cell]
        b = frames[t + 1, :, i * cell:(i + 1) * cell, j * cell:(j + 1) * cell]
        rewards[t, :, i, j] = np.abs(b - a).mean(axis=(1, 2, 3))
  loss = np.zeros(B)
  for b in range(B):
    g = q[T, b].max(-1)
    for t in reversed(range(T)):
      g = rewards[t, b] + discounts[t, b] * g
      loss[b] += 0.5 * ((g - q[t, b, :, :, actions[t, b]]) ** 2).sum()
  return rewards, loss


def test_random_against_numpy_with_episode_end():
  rng = np.random.default_rng(0)
  T, B, cell = 3, 2, 2
  frames = rng.integers(0, 256, size=(T + 1, B, 8, 6, 3)).astype(np.uint8)
  q = rng.normal(size=(T + 1, B, 3, 3, 4)).astype(np.float32)
  actions = rng.integers(0, 4, size=(T, B)).astype(np.int32)
  discounts = np.full((T, B), 0.9, np.float32)
  discounts[1, 0] = 0.0
  out = pixel_control.pixel_control_loss(frames, actions, q, cell, discounts,
                                         crop_height_dim=(1, 7), crop_width_dim=(None, None))
  rewards, loss = np_pixel_control(frames[:, :, 1:7], actions, q, cell, discounts)
  np.testing.assert_allclose(out.rewards.numpy(), rewards, rtol=1e-5)
  np.testing.assert_allclose(out.loss.numpy(), loss, rtol=1e-4)


def test_gradient_reaches_only_taken_q_values_before_bootstrap():
  rng = np.random.default_rng(1)
  frames = rng.integers(0, 256, size=(3, 2, 4, 4, 1)).astype(np.uint8)
  q = tf.Variable(rng.normal(size=(3, 2, 2, 2, 3)).astype(np.float32))
  actions = np.array([[0, 2], [1, 1]], np.int32)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(pixel_control.pixel_control_loss(frames, actions, q, 2, 0.9).loss)
  grad = tape.gradient(loss, q).numpy()
  assert np.all(grad[2] == 0)                           # Bootstrap step: no gradient.
  taken = np.zeros(grad.shape, bool)
  for t in range(2):
    for b in range(2):
      taken[t, b, :, :, actions[t, b]] = True
  assert np.all(grad[~taken] == 0)
  assert np.all(grad[taken] != 0)


def test_errors_name_the_argument():
  frames = np.zeros((3, 1, 84, 84, 3), np.uint8)
  q = np.zeros((3, 1, 20, 20, 4), np.float32)
  actions = np.zeros((2, 1), np.int32)
  crop = dict(crop_height_dim=(2, 82), crop_width_dim=(2, 82))
  out = pixel_control.pixel_control_loss(frames, actions, q, 4, 0.9, **crop)
  assert out.loss.shape == (1,)
  with pytest.raises(ValueError, match="not divisible by `cell_size`"):
    pixel_control.pixel_control_loss(frames, actions, q, 3, 0.9, **crop)
  with pytest.raises(ValueError, match="action_values"):   # Without cropping: 21x21 cells.
    pixel_control.pixel_control_loss(frames, actions, q, 4, 0.9)
  with pytest.raises(ValueError, match="action_values"):
    pixel_control.pixel_control_loss(frames, actions, q[:2], 4, 0.9, **crop)
  with pytest.raises(ValueError, match="actions"):
    pixel_control.pixel_control_loss(frames, actions[:1], q, 4, 0.9, **crop)
  with pytest.raises(ValueError, match="discount_factor"):
    pixel_control.pixel_control_loss(frames, actions, q, 4, np.ones((3, 1)), **crop)
  with pytest.raises(ValueError, match="observations"):
    pixel_control.pixel_control_loss(frames[:, 0], actions, q, 4, 0.9, **crop)
  with pytest.raises(ValueError, match="crop_height_dim"):
    pixel_control.pixel_control_loss(frames, actions, q, 4, 0.9, crop_height_dim=(5, 5))


def test_multi_discrete_is_the_sum_of_one_q_learning_per_group():
  rng = np.random.default_rng(2)
  T, B, cell, sizes = 3, 2, 2, (3, 2)
  frames = rng.integers(0, 256, size=(T + 1, B, 4, 6, 3)).astype(np.uint8)
  q = rng.normal(size=(T + 1, B, 2, 3, sum(sizes))).astype(np.float32)
  actions = np.stack([rng.integers(0, n, size=(T, B)) for n in sizes],
                     -1).astype(np.int32)
  discounts = np.full((T, B), 0.9, np.float32)
  discounts[0, 1] = 0.0
  out = pixel_control.pixel_control_loss(frames, actions, q, cell, discounts,
                                         action_sizes=list(sizes))
  assert out.targets.shape == out.td_errors.shape == (T, B, 2, 3, 2)
  expected = 0.0
  for g, q_g in enumerate(np.split(q, [sizes[0]], axis=-1)):
    rewards, loss = np_pixel_control(frames, actions[..., g], q_g, cell,
                                     discounts)
    expected = expected + loss
  np.testing.assert_allclose(out.rewards.numpy(), rewards, rtol=1e-5)
  np.testing.assert_allclose(out.loss.numpy(), expected, rtol=1e-4)


def test_multi_discrete_errors_name_the_argument():
  frames = np.zeros((3, 1, 4, 4, 1), np.uint8)
  q = np.zeros((3, 1, 2, 2, 5), np.float32)
  actions = np.zeros((2, 1, 2), np.int32)
  with pytest.raises(ValueError, match=r"action_values.*sum of action_sizes"):
    pixel_control.pixel_control_loss(frames, actions, q[..., :4], 2, 0.9,
                                     action_sizes=[3, 2])
  with pytest.raises(ValueError, match=r"actions.*G = 2 action groups"):
    pixel_control.pixel_control_loss(frames, actions[..., :1], q, 2, 0.9,
                                     action_sizes=[3, 2])
  with pytest.raises(ValueError, match=r"actions.*\[T, B, G\]"):
    pixel_control.pixel_control_loss(frames, actions[..., 0], q, 2, 0.9,
                                     action_sizes=[3, 2])
  with pytest.raises(ValueError, match="action_sizes"):
    pixel_control.pixel_control_loss(frames, actions, q, 2, 0.9,
                                     action_sizes=[3, 0])
