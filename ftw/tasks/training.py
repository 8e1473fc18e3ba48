"""Supervised training of a sequence model on the copy tasks.

`train(config)` runs the loop: sample a batch, take an optimiser step with
the global gradient norm clipped, print progress, append to
`<logdir>/progress.csv` and TensorBoard (`<logdir>/tensorboard`), evaluate on a
fixed set of max-length sequences, checkpoint to `<logdir>/checkpoints`
(`--resume` continues its step counter) and save PNGs of one evaluation
sequence to `<logdir>/plots`.
"""

import csv
import dataclasses
import os
import time
from typing import Dict, Optional

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw.tasks import plots
from ftw.tasks.copy import CopyTask, RepeatCopyTask
from ftw.tasks.models import CORES, MemorySizes, SequenceModel

TASKS = ("copy", "repeat_copy")
OPTIMIZERS = ("adam", "rmsprop")
_CSV_FIELDS = ("step", "run_seconds", "steps_per_second", "loss", "bit_error",
               "eval_loss", "eval_bit_error")


@dataclasses.dataclass
class TrainConfig:
  """Everything one training run needs; see `launch/memory_task.py` flags.

  max_steps counts optimiser steps in total, across resumes; max_seconds
  caps this invocation's training loop (start-up and tracing excluded).
  The evaluation set is eval_batches fixed batches at max_length words.
  """
  task: str = "copy"
  core: str = "dnc"
  num_bits: int = 6
  min_length: int = 1
  max_length: int = 8
  min_repeats: int = 1
  max_repeats: int = 2
  batch_size: int = 16
  hidden_size: int = 64
  memory_size: int = 16
  word_size: int = 16
  num_reads: int = 1
  num_writes: int = 1
  optimizer: str = "adam"
  learning_rate: float = 1e-3
  max_grad_norm: float = 50.0
  max_steps: int = 10_000
  max_seconds: Optional[float] = None
  eval_every: int = 200
  eval_batches: int = 4
  log_every: int = 50
  target_bit_error: float = 0.01
  stop_at_target: bool = False
  logdir: str = "runs/memory_task"
  seed: int = 0
  resume: bool = False

  def validate(self):
    """Raises ValueError naming the first bad field."""
    if self.task not in TASKS:
      raise ValueError(f"task must be one of {TASKS}, got {self.task!r}.")
    if self.core not in CORES:
      raise ValueError(f"core must be one of {CORES}, got {self.core!r}.")
    if self.optimizer not in OPTIMIZERS:
      raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}.")
    for name in ("max_steps", "eval_every", "eval_batches", "log_every"):
      if getattr(self, name) < 1:
        raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
    if not self.learning_rate > 0:
      raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}.")
    if self.max_seconds is not None and not self.max_seconds > 0:
      raise ValueError(f"max_seconds must be > 0 or None, got {self.max_seconds}.")


def check_logdir(config: TrainConfig):
  """Refuses to start afresh over an earlier run's logs and checkpoints."""
  if config.resume:
    return
  checkpoint_dir = os.path.join(config.logdir, "checkpoints")
  if tf.train.latest_checkpoint(checkpoint_dir) or os.path.exists(
      os.path.join(config.logdir, "progress.csv")):
    raise ValueError(f"logdir {config.logdir!r} already holds a run: pass --resume "
                     f"(resume=True) to continue it, or choose a new logdir.")


def make_task(config: TrainConfig, seed: int) -> RepeatCopyTask:
  common = dict(num_bits=config.num_bits, min_length=config.min_length,
                max_length=config.max_length, batch_size=config.batch_size, seed=seed)
  if config.task == "copy":
    return CopyTask(**common)
  return RepeatCopyTask(min_repeats=config.min_repeats,
                        max_repeats=config.max_repeats, **common)


def _format_seconds(seconds: float) -> str:
  seconds = int(round(seconds))
  return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else (
      f"{seconds // 60}m{seconds % 60:02d}s")


class Trainer:
  """Model, optimiser, data, logs and checkpoints of one run."""

  def __init__(self, config: TrainConfig):
    config.validate()
    check_logdir(config)
    checkpoint_dir = os.path.join(config.logdir, "checkpoints")
    self.config = config
    self.task = make_task(config, seed=config.seed)
    sizes = MemorySizes(config.hidden_size, config.memory_size, config.word_size,
                        config.num_reads, config.num_writes)
    tf.random.set_seed(config.seed)
    self.model = SequenceModel(config.core, config.num_bits, sizes)
    self.optimizer = (snt.optimizers.Adam(config.learning_rate)
                      if config.optimizer == "adam" else
                      snt.optimizers.RMSProp(config.learning_rate, epsilon=1e-10))
    self.step = tf.Variable(0, dtype=tf.int64, name="step")
    # Fixed evaluation set at the longest length (what the target is measured on).
    eval_task = make_task(config, seed=config.seed + 10_000)
    self.eval_set = [eval_task.sample(length=config.max_length)
                     for _ in range(config.eval_batches)]
    b = config.batch_size
    signature = [tf.TensorSpec([None, b, self.task.input_size], tf.float32),
                 tf.TensorSpec([None, b, self.task.target_size], tf.float32),
                 tf.TensorSpec([None, b], tf.float32)]
    self._train_step = tf.function(self._train_step_fn, input_signature=signature)
    self._eval_step = tf.function(self._eval_step_fn, input_signature=signature)

    os.makedirs(config.logdir, exist_ok=True)
    # Build variables (model and optimiser slots) before restoring.
    self._build()
    checkpoint = tf.train.Checkpoint(step=self.step, model=self.model,
                                     optimizer=self.optimizer)
    self.manager = tf.train.CheckpointManager(
        checkpoint, checkpoint_dir, max_to_keep=3)
    if config.resume and self.manager.latest_checkpoint:
      checkpoint.restore(self.manager.latest_checkpoint).assert_consumed()
    # Resumed runs draw fresh batches instead of replaying the first ones.
    self.task = make_task(config, seed=config.seed + int(self.step.numpy()) * 7919)
    self.writer = tf.summary.create_file_writer(os.path.join(config.logdir, "tensorboard"))

  def _build(self):
    batch = self.task.sample(length=1)
    self.model(batch.inputs)
    zeros = [tf.zeros_like(v) for v in self.model.trainable_variables]
    lr = self.optimizer.learning_rate
    self.optimizer.learning_rate = 0.0  # creates slots without moving weights
    self.optimizer.apply(zeros, self.model.trainable_variables)
    self.optimizer.learning_rate = lr
    if hasattr(self.optimizer, "step"):
      self.optimizer.step.assign(0)

  def _train_step_fn(self, inputs, targets, mask):
    variables = self.model.trainable_variables
    with tf.GradientTape() as tape:
      logits = self.model(inputs)
      loss = self.task.cost(logits, targets, mask)
    grads = tape.gradient(loss, variables)
    grads, _ = tf.clip_by_global_norm(grads, self.config.max_grad_norm)
    self.optimizer.apply(grads, variables)
    self.step.assign_add(1)
    return loss, self.task.bit_error(logits, targets, mask)

  def _eval_step_fn(self, inputs, targets, mask):
    logits = self.model(inputs)
    return self.task.cost(logits, targets, mask), self.task.bit_error(logits, targets, mask)

  def evaluate(self) -> Dict[str, float]:
    results = [self._eval_step(*batch) for batch in self.eval_set]
    loss, error = np.mean([[float(l), float(e)] for l, e in results], axis=0)
    return {"eval_loss": float(loss), "eval_bit_error": float(error)}

  def save_plot(self) -> str:
    """PNG of the first evaluation sequence at the current step."""
    batch = self.eval_set[0]
    logits, states = self.model.trace(batch.inputs)
    folder = os.path.join(self.config.logdir, "plots")
    os.makedirs(folder, exist_ok=True)
    step = int(self.step.numpy())
    path = os.path.join(folder, f"{self.config.core}_{self.config.task}_step{step:07d}.png")
    return plots.plot_sequence(
        path, batch.inputs[:, 0], batch.targets[:, 0], 1 / (1 + np.exp(-logits[:, 0])),
        batch.mask[:, 0], plots.memory_panels(states),
        title=f"{self.config.core} on {self.config.task}, step {step}")

  def _log(self, row: Dict[str, float]):
    path = os.path.join(self.config.logdir, "progress.csv")
    new_file = not os.path.exists(path)
    with open(path, "a", newline="") as f:
      writer = csv.DictWriter(f, fieldnames=_CSV_FIELDS)
      if new_file:
        writer.writeheader()
      writer.writerow({k: row.get(k, "") for k in _CSV_FIELDS})
    with self.writer.as_default(step=int(row["step"])):
      for key, value in row.items():
        if key not in ("step", "run_seconds") and value != "":
          tf.summary.scalar(key, value)
    self.writer.flush()

  def run(self, print_fn=print) -> Dict[str, float]:
    """Trains until max_steps, max_seconds or (optionally) the target error."""
    c = self.config
    start_step = int(self.step.numpy())
    start = time.time()
    window_start, window_step = start, start_step
    losses, errors = [], []
    result = {"start_step": start_step, "steps_to_target": None,
              "seconds_to_target": None}
    print_fn(f"[memory_task] {c.core} on {c.task}: {c.num_bits} bits, length "
             f"{c.min_length}-{c.max_length}, batch {c.batch_size}, "
             f"{sum(int(np.prod(v.shape)) for v in self.model.trainable_variables)} "
             f"parameters, from step {start_step}")
    step = start_step
    while step < c.max_steps:
      if c.max_seconds is not None and time.time() - start >= c.max_seconds:
        break
      loss, error = self._train_step(*self.task.sample())
      step += 1
      losses.append(float(loss))
      errors.append(float(error))
      evaluating = step % c.eval_every == 0 or step == c.max_steps
      if step % c.log_every and not evaluating:
        continue
      now = time.time()
      rate = (step - window_step) / max(now - window_start, 1e-9)
      window_start, window_step = now, step
      row = {"step": step, "run_seconds": round(now - start, 2),
             "steps_per_second": rate, "loss": np.mean(losses),
             "bit_error": np.mean(errors)}
      losses, errors = [], []
      if evaluating:
        row.update(self.evaluate())
        self.manager.save(checkpoint_number=step)
      self._log(row)
      remaining = (c.max_steps - step) / max(rate, 1e-9)
      if c.max_seconds is not None:
        remaining = min(remaining, c.max_seconds - (now - start))
      line = (f"step {step:6d} | {rate:6.1f} steps/s | loss {row['loss']:8.4f} | "
              f"bit err {row['bit_error']:.4f}")
      if evaluating:
        line += f" | eval bit err {row['eval_bit_error']:.4f}"
      print_fn(line + f" | ETA {_format_seconds(max(remaining, 0))}", flush=True)
      if evaluating and result["steps_to_target"] is None and (
          row["eval_bit_error"] < c.target_bit_error):
        result.update(steps_to_target=step, seconds_to_target=now - start)
        print_fn(f"[memory_task] eval bit error {row['eval_bit_error']:.4f} < "
                 f"{c.target_bit_error} at step {step} ({(now - start) / 60:.1f} min)")
        if c.stop_at_target:
          break
    final = self.evaluate()
    if int(self.manager.latest_checkpoint.rsplit("-", 1)[-1]
           if self.manager.latest_checkpoint else -1) != step:
      self.manager.save(checkpoint_number=step)
    result.update(final, step=step, seconds=time.time() - start, plot=self.save_plot(),
                  checkpoint=self.manager.latest_checkpoint)
    reached = ("not reached" if result["steps_to_target"] is None else
               f"reached at step {result['steps_to_target']} "
               f"({result['seconds_to_target'] / 60:.1f} min)")
    print_fn(f"[memory_task] done at step {step} after {result['seconds'] / 60:.1f} min: "
             f"eval bit error {final['eval_bit_error']:.4f} (target < {c.target_bit_error}: "
             f"{reached}); plot {result['plot']}")
    return result


def train(config: TrainConfig, print_fn=print) -> Dict[str, float]:
  """Builds a `Trainer` for `config` and runs it; returns the run's figures."""
  return Trainer(config).run(print_fn=print_fn)
