"""Next-symbol models of a^n b^n and their training loop.

`NextSymbolModel` (embedding -> a recurrent core -> logits over the
alphabet), the masked cross-entropy on the deterministic steps, evaluation
by n, and `train` (Adam, gradient clipping, periodic evaluation); the
launcher `launch.formal_language` compares a stack RNN with an LSTM of
similar size with them.
"""

import math
import time
from typing import Dict, Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw.tasks import formal_language as anbn
from ftw.tf.networks import unroll


class NextSymbolModel(snt.Module):
  """One-hot symbols -> recurrent core -> logits over the next symbol."""

  def __init__(self, core: snt.RNNCore, name: str = "next_symbol_model"):
    super().__init__(name=name)
    self._core = core
    self._head = snt.Linear(anbn.VOCAB_SIZE, name="head")

  @property
  def core(self) -> snt.RNNCore:
    return self._core

  def __call__(self, symbols: tf.Tensor) -> tf.Tensor:
    """`symbols` `[T, B]` int32 -> logits `[T, B, VOCAB_SIZE]`."""
    inputs = tf.one_hot(symbols, anbn.VOCAB_SIZE)
    state = self._core.initial_state(tf.shape(symbols)[1])
    outputs, _ = unroll.dynamic_unroll(self._core, inputs, state)
    return snt.BatchApply(self._head)(outputs)


def num_params(module: snt.Module) -> int:
  return int(sum(np.prod(v.shape) for v in module.trainable_variables))


def lstm_hidden_size_for(num_params: int) -> int:
  """LSTM size whose model (LSTM + head) has about `num_params` parameters.

  LSTM: 4 (H (3 + H) + H); head: 3 H + 3; total 4 H^2 + 19 H + 3.
  """
  return max(1, round((-19 + math.sqrt(19 ** 2 + 16 * (num_params - 3))) / 8))


def masked_cross_entropy(logits, targets, mask):
  losses = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
  return tf.reduce_sum(losses * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def evaluate(model: NextSymbolModel, ns: Sequence[int]) -> Dict[str, float]:
  """Accuracy on the deterministic steps of one sequence per n in `ns`.

  The models are deterministic, so one sequence per n is the whole test set.
  Returns the per-step accuracy and the fraction of sequences with every
  deterministic step right.
  """
  ns = list(ns)
  batch = anbn.anbn_batch(ns)
  logits = model(tf.constant(batch.inputs))
  correct = (np.argmax(logits.numpy(), axis=-1) == batch.targets)
  det = batch.deterministic.astype(bool)
  step_acc = float(correct[det].mean())
  seq_ok = np.all(correct | ~det, axis=0)
  # Largest n such that the sequences of every n in ns up to it are right.
  solved = 0
  for n, ok in sorted(zip(ns, seq_ok)):
    if not ok:
      break
    solved = n
  return {"step_accuracy": step_acc, "sequence_accuracy": float(seq_ok.mean()),
          "solved_up_to_n": solved}


def train(model: NextSymbolModel, args, label: str,
          max_seconds: float) -> Dict[str, object]:
  """Trains `model` for at most `args.max_steps` steps or `max_seconds`."""
  rng = np.random.default_rng(args.seed)
  optimizer = snt.optimizers.Adam(args.learning_rate)
  length = 2 * args.train_max_n
  spec = tf.TensorSpec([length, args.batch_size], tf.int32)
  fspec = tf.TensorSpec([length, args.batch_size], tf.float32)

  @tf.function(input_signature=[spec, spec, fspec])
  def train_step(inputs, targets, mask):
    with tf.GradientTape() as tape:
      loss = masked_cross_entropy(model(inputs), targets, mask)
    variables = model.trainable_variables
    grads, _ = tf.clip_by_global_norm(tape.gradient(loss, variables),
                                      args.grad_clip)
    optimizer.apply(grads, variables)
    return loss

  train_ns = range(args.train_min_n, args.train_max_n + 1)
  start = time.time()
  step, losses = 0, []
  while step < args.max_steps and time.time() - start < max_seconds:
    batch = anbn.sample_anbn_batch(rng, args.batch_size, args.train_min_n,
                                   args.train_max_n, length)
    losses.append(float(train_step(batch.inputs, batch.targets, batch.mask)))
    step += 1
    if step % args.eval_every == 0:
      acc = evaluate(model, train_ns)
      print(f"[{label}] step {step:5d}  {time.time() - start:6.1f}s  loss "
            f"{np.mean(losses[-args.eval_every:]):.4f}  train-range det. acc "
            f"{acc['step_accuracy']:.3f} (seq {acc['sequence_accuracy']:.2f})",
            flush=True)
  return {"steps": step, "seconds": time.time() - start,
          "final_loss": float(np.mean(losses[-20:])) if losses else float("nan")}
