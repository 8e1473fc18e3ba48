"""The torso's input path, op by op against XLA-compiled (pixel_input).

Times, for a learner's batch of Pong frames (T x B = 20 x 32 = 640 frames
of 84x84x4 uint8), what FtwTorso does before its first convolution
(scale, standardise, clip, cast) and the learner's merge of the batch into
the running statistics: once as separate TensorFlow ops in a tf.function
(how they ran before), once through `ftw/tf/networks/pixel_input.py`. Then
pixel control's pseudo-rewards for the same frames as sequences ([21, B,
84, 84, 4], the central 80x80, 4x4 cells): the crop, uint8 max - min, a
cast and an average pooling as separate ops (before), against
`pixel_control.pixel_control_rewards`'s one compiled pass. All with
configs/atari.py's TensorFlow pools, on the same random frames.

Usage: .venv/bin/python bench/pixel_input.py [--frames 640] [--repeats 20]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import os
import time

import _common
from configs import atari


def _ms(fn, repeats):
  fn()
  fn()  # Traced and compiled by now.
  start = time.perf_counter()
  for _ in range(repeats):
    fn()
  return 1e3 * (time.perf_counter() - start) / repeats


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--frames", type=int, default=640)
  parser.add_argument("--repeats", type=int, default=20)
  args = parser.parse_args()
  if args.frames < 1 or args.repeats < 1:
    parser.error("--frames and --repeats must be >= 1")
  _common.start_with_config_pools(atari.get_config())
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from ftw.tf.networks import normalization  # pylint: disable=g-import-not-at-top
  from ftw.tf.networks import pixel_input  # pylint: disable=g-import-not-at-top
  frames = tf.cast(tf.random.uniform([args.frames, 84, 84, 4], 0, 256,
                                     tf.int32), tf.uint8)
  weights = tf.ones([args.frames])
  norm = normalization.RunningMeanStd()
  norm.update(pixel_input.unit_pixels(frames))
  dtype = tf.bfloat16

  @tf.function(autograph=False)
  def input_ops(x):
    return tf.cast(norm(pixel_input.unit_pixels(x)), dtype)

  @tf.function(autograph=False)
  def merge_ops(x, w):
    return norm.merged(pixel_input.unit_pixels(x), w)

  from ftw.tf.losses import pixel_control  # pylint: disable=g-import-not-at-top
  sequences = tf.cast(tf.random.uniform(
      [21, max(args.frames // 20, 1), 84, 84, 4], 0, 256, tf.int32), tf.uint8)

  @tf.function(autograph=False)
  def reward_ops(x):
    x = x[:, :, 2:82, 2:82, :]
    later, earlier = x[1:], x[:-1]
    change = tf.cast(tf.maximum(later, earlier) - tf.minimum(later, earlier),
                     tf.float32)
    cells = tf.nn.avg_pool2d(tf.reshape(change, [-1, 80, 80, 4]), 4, 4,
                             "VALID")
    return tf.reshape(tf.reduce_mean(cells, -1), [20, -1, 20, 20])

  rows = []
  for name, ops, compiled in (
      ("standardise + cast", lambda: input_ops(frames),
       lambda: pixel_input.torso_input(frames, norm.mean, norm.variance,
                                       norm.epsilon, norm.clip, dtype)),
      ("merge statistics", lambda: merge_ops(frames, weights),
       lambda: pixel_input.merged_pixel_statistics(
           frames, weights, norm.count, norm.mean, norm.m2)),
      ("pixel-control rewards", lambda: reward_ops(sequences),
       lambda: pixel_control.pixel_control_rewards(
           sequences, 4, (2, 82), (2, 82)))):
    before, after = _ms(ops, args.repeats), _ms(compiled, args.repeats)
    rows.append([name, f"{before:.1f}", f"{after:.1f}",
                 f"{before / after:.2f}x"])
  print(f"\n{args.frames} frames of 84x84x4 ({sequences.shape[0]} x "
        f"{sequences.shape[1]} for the rewards), ms per call")
  print(_common.format_table(["path", "op by op", "XLA", "speed-up"], rows))
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  main()
