"""Loggers: terminal progress lines, CSV files and TensorBoard summaries.

Every node logs into its own folder `<logdir>/<label>/`: `logs.csv` holds one
row per `write` (columns fixed by the first row, later new keys are added as
the file is rewritten), TensorBoard events sit beside it, and the terminal
shows a rate-limited one-line summary.
"""

import csv
import numbers
import os
import sys
import time
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

Data = Mapping[str, Any]


def _scalar(value: Any) -> Any:
  if isinstance(value, np.ndarray) and value.size == 1:
    return value.item()
  if isinstance(value, np.generic):
    return value.item()
  return value


def _format(value: Any) -> str:
  if isinstance(value, float):
    return f"{value:.4g}"
  return str(value)


class Logger:
  """Writes dictionaries of scalars somewhere."""

  def write(self, data: Data):
    raise NotImplementedError

  def close(self):
    pass


class TerminalLogger(Logger):
  """Prints `[label] key = value | ...`, at most once every `time_delta` s."""

  def __init__(self, label: str, time_delta: float = 0.0, stream=None):
    self._label = label
    self._time_delta = time_delta
    self._last = -float("inf")
    self._stream = stream or sys.stdout

  def write(self, data: Data):
    now = time.monotonic()
    if now - self._last < self._time_delta:
      return
    self._last = now
    items = " | ".join(f"{k} = {_format(_scalar(v))}"
                       for k, v in sorted(data.items()))
    print(f"[{self._label}] {items}", file=self._stream, flush=True)


class CSVLogger(Logger):
  """Appends rows to `<directory>/logs.csv`; survives restarts (appends)."""

  def __init__(self, directory: str, filename: str = "logs.csv"):
    os.makedirs(directory, exist_ok=True)
    self.path = os.path.join(directory, filename)
    self._fields: Optional[List[str]] = None
    if os.path.exists(self.path) and os.path.getsize(self.path) > 0:
      with open(self.path, newline="") as f:
        self._fields = next(csv.reader(f), None)

  def write(self, data: Data):
    row = {k: _scalar(v) for k, v in data.items()}
    if self._fields is None:
      self._fields = sorted(row)
      with open(self.path, "w", newline="") as f:
        csv.DictWriter(f, self._fields).writeheader()
    missing = [k for k in row if k not in self._fields]
    if missing:
      self._add_columns(missing)
    with open(self.path, "a", newline="") as f:
      csv.DictWriter(f, self._fields).writerow(row)

  def _add_columns(self, new_fields: List[str]):
    rows = read_csv(self.path)
    self._fields = self._fields + sorted(new_fields)
    with open(self.path, "w", newline="") as f:
      writer = csv.DictWriter(f, self._fields)
      writer.writeheader()
      writer.writerows(rows)


def read_csv(path: str, missing_ok: bool = False) -> List[Dict[str, str]]:
  """The rows of a CSV log (e.g. a `logs.csv`), each a dict from the header's
  column names to the row's strings; [] for a missing file if `missing_ok`."""
  if missing_ok and not os.path.exists(path):
    return []
  with open(path, newline="") as f:
    return list(csv.DictReader(f))


class TensorBoardLogger(Logger):
  """Writes every numeric value as a scalar summary against `step_key`.

  String values name the row: they prefix its tags ("random/win_rate"), so
  rows of different kinds at the same step (an evaluation against several
  opponents) draw separate curves.
  """

  def __init__(self, directory: str, step_key: str):
    import tensorflow as tf  # Imported here: CSV/terminal logging needs no TF.
    self._tf = tf
    self._writer = tf.summary.create_file_writer(directory)
    self._step_key = step_key
    self._fallback_step = 0

  def write(self, data: Data):
    self._fallback_step += 1
    step = int(_scalar(data.get(self._step_key, self._fallback_step)))
    prefix = "".join(f"{v}/" for v in data.values() if isinstance(v, str))
    with self._writer.as_default():
      for key, value in data.items():
        value = _scalar(value)
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
          self._tf.summary.scalar(prefix + key, value, step=step)
    self._writer.flush()

  def close(self):
    self._writer.close()


class Dispatcher(Logger):
  """Sends each write to several loggers."""

  def __init__(self, loggers: List[Logger]):
    self._loggers = loggers

  def write(self, data: Data):
    for logger in self._loggers:
      logger.write(data)

  def close(self):
    for logger in self._loggers:
      logger.close()


def make_logger(label: str, logdir: Optional[str], step_key: str,
                print_every_seconds: Optional[float] = 10.0,
                tensorboard: bool = True) -> Logger:
  """Terminal + CSV + TensorBoard logger for one node, in `<logdir>/<label>`.

  `print_every_seconds=None` leaves the terminal out (e.g. when a progress
  line already summarises this node).
  """
  loggers: List[Logger] = []
  if print_every_seconds is not None:
    loggers.append(TerminalLogger(label, print_every_seconds))
  if logdir:
    directory = os.path.join(logdir, label)
    loggers.append(CSVLogger(directory))
    if tensorboard:
      loggers.append(TensorBoardLogger(directory, step_key))
  return Dispatcher(loggers)
