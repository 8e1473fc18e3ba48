"""Trains a stack RNN and an LSTM of similar size on a^n b^n next-symbol prediction.

As AgentNet's "Stack RNN for formal sequence modelling" example and Joulin &
Mikolov 2015: both models read `a^n b^n $` one symbol at a time and predict the
next. Accuracy is measured on the deterministic steps (after the first `b`:
the remaining b's and the end symbol), for n in the training range and for
longer n (generalisation).

  python -m launch.formal_language --max_seconds=300 --max_steps=3000
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's C++ start-up log)

import argparse
import math
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw.tasks import formal_language as anbn
from ftw.tf.networks.memory import StackRNN


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
    outputs, _ = snt.dynamic_unroll(self._core, inputs, state)
    return snt.BatchApply(self._head)(outputs)


def _num_params(module: snt.Module) -> int:
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


def _parse(argv: Optional[List[str]]):
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--max_seconds", type=float, default=300.0,
                 help="training time budget for both models together")
  p.add_argument("--max_steps", type=int, default=3000, help="per model")
  p.add_argument("--batch_size", type=int, default=32)
  p.add_argument("--train_min_n", type=int, default=1)
  p.add_argument("--train_max_n", type=int, default=10)
  p.add_argument("--test_max_n", type=int, default=30,
                 help="generalisation is tested for n in (train_max_n, this]")
  p.add_argument("--hidden_size", type=int, default=8, help="stack RNN")
  p.add_argument("--item_size", type=int, default=2)
  p.add_argument("--stack_depth", type=int, default=0,
                 help="0 means test_max_n + 10")
  p.add_argument("--controller", default="rnn", choices=["rnn", "lstm"])
  p.add_argument("--learning_rate", type=float, default=3e-3)
  p.add_argument("--grad_clip", type=float, default=1.0)
  p.add_argument("--eval_every", type=int, default=250)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--models", default="stack,lstm",
                 help="comma-separated subset of stack,lstm")
  p.add_argument("--threads", type=int, default=1,
                 help="TensorFlow intra/inter-op threads (shared machine)")
  args = p.parse_args(argv)
  models = [m for m in args.models.split(",") if m]
  if not models or any(m not in ("stack", "lstm") for m in models):
    p.error(f"--models must be a subset of stack,lstm, got {args.models!r}")
  if not 1 <= args.train_min_n <= args.train_max_n < args.test_max_n:
    p.error("need 1 <= train_min_n <= train_max_n < test_max_n")
  if args.max_steps < 1 or args.max_seconds <= 0 or args.eval_every < 1:
    p.error("max_steps, max_seconds and eval_every must be positive")
  args.models = models
  args.stack_depth = args.stack_depth or args.test_max_n + 10
  return args


def main(argv: Optional[List[str]] = None) -> Dict[str, Dict[str, object]]:
  """Trains and evaluates the models; returns their results by model name."""
  args = _parse(argv)
  try:
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
  except RuntimeError:
    pass  # TensorFlow already started (e.g. under pytest): keep its threads.
  tf.random.set_seed(args.seed)

  stack_model = NextSymbolModel(
      StackRNN(args.hidden_size, args.stack_depth, args.item_size,
               controller=args.controller), name="stack_rnn_model")
  stack_model(tf.zeros([1, 1], tf.int32))  # builds the variables
  lstm_size = lstm_hidden_size_for(_num_params(stack_model))
  lstm_model = NextSymbolModel(snt.LSTM(lstm_size), name="lstm_model")
  lstm_model(tf.zeros([1, 1], tf.int32))
  candidates = {"stack": stack_model, "lstm": lstm_model}

  buckets = {
      "train_range": range(args.train_min_n, args.train_max_n + 1),
      "longer": range(args.train_max_n + 1, args.test_max_n + 1)}
  print(f"a^n b^n: train n in [{args.train_min_n}, {args.train_max_n}], "
        f"test longer n in [{args.train_max_n + 1}, {args.test_max_n}]; "
        f"stack RNN ({args.controller}, hidden {args.hidden_size}, item "
        f"{args.item_size}, depth {args.stack_depth}) "
        f"{_num_params(stack_model)} params; LSTM({lstm_size}) "
        f"{_num_params(lstm_model)} params", flush=True)

  buckets["all"] = range(1, args.test_max_n + 1)

  def evaluate_buckets(model, result):
    for bucket, ns in buckets.items():
      result[bucket] = evaluate(model, ns)
    return result

  results = {}
  for name in args.models:
    model = candidates[name]
    result = train(model, args, name, args.max_seconds / len(args.models))
    result["params"] = _num_params(model)
    results[name] = evaluate_buckets(model, result)
    if name == "stack":  # Also with rounded actions, as Joulin & Mikolov test.
      model.core.discretize_controls = True
      results["stack_hard"] = evaluate_buckets(model, dict(result))
      model.core.discretize_controls = False

  print("\nmodel       params  steps  seconds  loss    | det. step acc (seq acc):"
        f" n<={args.train_max_n}  n in [{args.train_max_n + 1},"
        f"{args.test_max_n}] | all n correct up to")
  for name, r in results.items():
    tr, lo = r["train_range"], r["longer"]
    print(f"{name:10s}  {r['params']:6d}  {r['steps']:5d}  {r['seconds']:7.1f}"
          f"  {r['final_loss']:.4f}  | {tr['step_accuracy']:.3f} "
          f"({tr['sequence_accuracy']:.2f})   {lo['step_accuracy']:.3f} "
          f"({lo['sequence_accuracy']:.2f})  | n={r['all']['solved_up_to_n']}")
  return results


if __name__ == "__main__":
  main()
