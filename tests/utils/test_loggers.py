"""CSV, terminal and TensorBoard loggers write what they are given."""

import io
import os

import numpy as np
import pytest

from ftw.utils import loggers


def test_csv_logger_writes_rows_and_adds_new_columns(tmp_path):
  logger = loggers.CSVLogger(str(tmp_path))
  logger.write({"steps": 1, "loss": np.float32(0.5)})
  logger.write({"steps": 2, "loss": 0.25, "return": np.array(3.0)})
  rows = loggers.read_csv(logger.path)
  assert [r["steps"] for r in rows] == ["1", "2"]
  assert rows[0]["return"] == "" and float(rows[1]["return"]) == 3.0
  assert float(rows[0]["loss"]) == 0.5


def test_csv_logger_appends_after_restart(tmp_path):
  loggers.CSVLogger(str(tmp_path)).write({"steps": 1})
  loggers.CSVLogger(str(tmp_path)).write({"steps": 2})
  rows = loggers.read_csv(tmp_path / "logs.csv")
  assert [r["steps"] for r in rows] == ["1", "2"]


def test_read_csv_of_a_missing_file_raises_unless_missing_ok(tmp_path):
  missing = tmp_path / "none" / "logs.csv"
  with pytest.raises(FileNotFoundError):
    loggers.read_csv(missing)
  assert loggers.read_csv(missing, missing_ok=True) == []
  (tmp_path / "header_only.csv").write_text("a,b\n")
  assert loggers.read_csv(tmp_path / "header_only.csv") == []


def test_terminal_logger_rate_limits():
  stream = io.StringIO()
  logger = loggers.TerminalLogger("actor", time_delta=3600, stream=stream)
  logger.write({"a": 1.23456})
  logger.write({"a": 2})
  assert stream.getvalue() == "[actor] a = 1.235\n"


def test_make_logger_writes_csv_and_tensorboard(tmp_path):
  logger = loggers.make_logger("learner", str(tmp_path), "learner_steps",
                               print_every_seconds=float("inf"))
  logger.write({"learner_steps": 7, "loss": 1.5})
  logger.close()
  folder = tmp_path / "learner"
  assert loggers.read_csv(folder / "logs.csv")[0]["loss"] == "1.5"
  assert any(name.startswith("events.out.tfevents")
             for name in os.listdir(folder))


def test_tensorboard_tags_are_prefixed_by_the_rows_string_fields(tmp_path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  logger = loggers.TensorBoardLogger(str(tmp_path), "actor_steps")
  logger.write({"actor_steps": 5, "opponent": "random", "win_rate": 0.25})
  logger.write({"actor_steps": 5, "opponent": "checkpoint", "win_rate": 0.5})
  logger.close()
  tags = {}
  for name in os.listdir(tmp_path):
    for event in tf.compat.v1.train.summary_iterator(str(tmp_path / name)):
      for value in event.summary.value:
        tags[value.tag] = float(tf.make_ndarray(value.tensor))
  assert tags["random/win_rate"] == 0.25
  assert tags["checkpoint/win_rate"] == 0.5
  assert "win_rate" not in tags and "random/actor_steps" in tags
