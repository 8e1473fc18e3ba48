"""Learner-side cost of the FTW core (RPTH + shared DNC memory) on Pong.

Forward + backward of the recurrent unroll alone, at the full agent's sizes
(configs/atari_ftw.py: T=20, hidden 256, latent 128, memory 64x32, 2 reads,
1 write; B=16 unless --batch_size), inside tf.function, after a warm-up:
  now      the DNC ops as shipped;
  before   the ops this file's figures replaced, patched back in for the
           same run: tf.reduce_prod over heads (its gradient is transposes
           plus two cumprods), the general einsum for link reads and
           tf.nn.softmax (oneDNN's kernel, slow on these small tensors);
  no DNC   RPTH without memory, to show what the memory costs.
Prints ms per unroll and samples (T x B) per second, and the ratios.

Usage: .venv/bin/python bench/dnc.py [--repeats 10] [--batch_size 16]
       [--rounds 3]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import contextlib
import time

import tensorflow as tf

import _common
from agents.ftw.builder import FtwBuilder
from configs import atari_ftw
from ftw.tf.networks.dnc import addressing
from ftw.tf.networks.rpth import RPTHInput
from ftw.tf.networks import unroll


@contextlib.contextmanager
def before_ops():
  """Temporarily restores the replaced DNC ops (the baseline)."""
  product = addressing.product
  reads = addressing.TemporalLinkage.directional_read_weights

  def einsum_reads(self, link, prev_read_weights, forward):
    del self
    pattern = 'bkij,brj->brki' if forward else 'bkji,brj->brki'
    return tf.einsum(pattern, link, prev_read_weights)

  softmax = addressing.softmax
  addressing.product = lambda x, axis: tf.reduce_prod(x, axis=axis)
  addressing.softmax = lambda x: tf.nn.softmax(x, axis=-1)
  addressing.TemporalLinkage.directional_read_weights = einsum_reads
  try:
    yield
  finally:
    addressing.product = product
    addressing.softmax = softmax
    addressing.TemporalLinkage.directional_read_weights = reads


def unroll_ms(config, batch_size, repeats):
  """ms of one forward + backward unroll of the core over [T, B]."""
  network = FtwBuilder(config).make_network()
  core = network.core
  t = config.sequence_length
  embed_size = 256 + 6 + 1  # Torso output, one-hot action, reward.
  embeddings = tf.random.normal([t, batch_size, embed_size], seed=0)
  noise = tf.random.normal([t, batch_size, network.latent_noise_size], seed=1)
  state = core.initial_state(batch_size)

  def loss(embeddings):
    outputs, _ = unroll.dynamic_unroll(core, RPTHInput(embeddings, noise),
                                       state)
    return tf.add_n([tf.reduce_sum(tf.square(x))
                     for x in tf.nest.flatten(outputs) if x.dtype.is_floating])

  loss(embeddings)  # Creates the variables.

  @tf.function
  def step(embeddings):
    with tf.GradientTape() as tape:
      value = loss(embeddings)
    return tape.gradient(value, core.trainable_variables)

  step(embeddings)
  step(embeddings)
  start = time.perf_counter()
  for _ in range(repeats):
    step(embeddings)
  return 1e3 * (time.perf_counter() - start) / repeats


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--repeats", type=int, default=10)
  parser.add_argument("--batch_size", type=int, default=16)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  print(_common.load_line("start"), flush=True)
  config = atari_ftw.get_config()
  samples = config.sequence_length * args.batch_size
  # Rounds alternate the variants; the best round of each is reported, so
  # a burst of load from another process does not decide the ratio.
  before, now, no_dnc = [], [], []
  for _ in range(args.rounds):
    with before_ops():
      before.append(unroll_ms(config, args.batch_size, args.repeats))
    now.append(unroll_ms(config, args.batch_size, args.repeats))
    no_dnc.append(unroll_ms(config.replace(memory_size=None),
                            args.batch_size, args.repeats))
  before, now, no_dnc = min(before), min(now), min(no_dnc)
  rows = [[name, f"{ms:.1f}", f"{1e3 * samples / ms:.0f}",
           f"{before / ms:.2f}x"]
          for name, ms in (("before", before), ("now", now),
                           ("no DNC", no_dnc))]
  print(f"\nRPTH core unroll, forward + backward, T={config.sequence_length} "
        f"B={args.batch_size}")
  print(_common.format_table(["core", "ms", "samples/s", "before/this"],
                             rows))
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  main()
