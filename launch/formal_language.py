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
from typing import Dict, List, Optional

import sonnet as snt
import tensorflow as tf

from ftw.tasks import formal_language_training as training
from ftw.tf.networks.memory import StackRNN


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
  except RuntimeError as e:  # TensorFlow already started (e.g. under pytest).
    print(f"[formal_language] keeping TensorFlow's threads: {e}", flush=True)
  tf.random.set_seed(args.seed)

  stack_model = training.NextSymbolModel(
      StackRNN(args.hidden_size, args.stack_depth, args.item_size,
               controller=args.controller), name="stack_rnn_model")
  stack_model(tf.zeros([1, 1], tf.int32))  # builds the variables
  lstm_size = training.lstm_hidden_size_for(training.num_params(stack_model))
  lstm_model = training.NextSymbolModel(snt.LSTM(lstm_size), name="lstm_model")
  lstm_model(tf.zeros([1, 1], tf.int32))
  candidates = {"stack": stack_model, "lstm": lstm_model}

  buckets = {
      "train_range": range(args.train_min_n, args.train_max_n + 1),
      "longer": range(args.train_max_n + 1, args.test_max_n + 1)}
  print(f"a^n b^n: train n in [{args.train_min_n}, {args.train_max_n}], "
        f"test longer n in [{args.train_max_n + 1}, {args.test_max_n}]; "
        f"stack RNN ({args.controller}, hidden {args.hidden_size}, item "
        f"{args.item_size}, depth {args.stack_depth}) "
        f"{training.num_params(stack_model)} params; LSTM({lstm_size}) "
        f"{training.num_params(lstm_model)} params", flush=True)

  buckets["all"] = range(1, args.test_max_n + 1)

  def evaluate_buckets(model, result):
    for bucket, ns in buckets.items():
      result[bucket] = training.evaluate(model, ns)
    return result

  results = {}
  for name in args.models:
    model = candidates[name]
    result = training.train(model, args, name, args.max_seconds / len(args.models))
    result["params"] = training.num_params(model)
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
