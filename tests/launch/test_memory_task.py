"""Short real runs of launch.memory_task for each core, and a resume."""

import csv
import os

import numpy as np
import pytest
import tensorflow as tf

import ftw  # noqa: F401
from ftw.tasks import plots
from ftw.tasks.models import MemorySizes, SequenceModel
from ftw.tasks.training import Trainer, TrainConfig
from launch import memory_task

_TINY = ["--num_bits=3", "--min_length=1", "--max_length=3", "--batch_size=2",
         "--hidden_size=8", "--memory_size=4", "--word_size=4", "--eval_every=10",
         "--log_every=5", "--eval_batches=1"]


def _rows(logdir):
  with open(os.path.join(logdir, "progress.csv")) as f:
    return list(csv.DictReader(f))


def _summary_tags(logdir):
  tags = set()
  folder = os.path.join(logdir, "tensorboard")
  for name in os.listdir(folder):
    for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
      tags.update(v.tag for v in event.summary.value)
  return tags


def _saved_step(checkpoint_path):
  return int(tf.train.load_checkpoint(checkpoint_path).get_tensor(
      "step/.ATTRIBUTES/VARIABLE_VALUE"))


@pytest.mark.parametrize("core, task", [("dnc", "copy"), ("ntm", "repeat_copy")])
def test_memory_core_run_writes_logs_checkpoint_and_plot(tmp_path, core, task):
  logdir = str(tmp_path / core)
  result = memory_task.main(_TINY + [f"--core={core}", f"--task={task}",
                                     "--max_steps=20", f"--logdir={logdir}"])
  assert result["step"] == 20 and result["start_step"] == 0
  assert 0.0 <= result["eval_bit_error"] <= 1.0
  rows = _rows(logdir)
  assert [int(r["step"]) for r in rows] == [5, 10, 15, 20]
  assert rows[1]["eval_bit_error"] != "" and rows[0]["eval_bit_error"] == ""
  assert all(np.isfinite(float(r["loss"])) for r in rows)
  assert {"loss", "bit_error", "eval_bit_error", "steps_per_second"} <= _summary_tags(logdir)
  assert _saved_step(result["checkpoint"]) == 20
  with open(result["plot"], "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  assert os.path.getsize(result["plot"]) > 10_000


def test_lstm_run_and_resume_continue_the_step_counter(tmp_path):
  logdir = str(tmp_path / "lstm")
  args = _TINY + ["--core=lstm", f"--logdir={logdir}"]
  first = memory_task.main(args + ["--max_steps=10"])
  assert first["step"] == 10 and os.path.exists(first["plot"])
  # Restored weights reproduce the first run's final evaluation exactly.
  config = TrainConfig(**vars(memory_task.make_parser().parse_args(args + ["--resume"])))
  assert Trainer(config).evaluate()["eval_loss"] == pytest.approx(first["eval_loss"], rel=1e-6)
  resumed = memory_task.main(args + ["--max_steps=20", "--resume"])
  assert resumed["start_step"] == 10 and resumed["step"] == 20
  assert [int(r["step"]) for r in _rows(logdir)] == [5, 10, 15, 20]
  assert _saved_step(resumed["checkpoint"]) == 20



def test_reusing_a_logdir_without_resume_is_refused(tmp_path, capsys):
  logdir = tmp_path / "used"
  logdir.mkdir()
  (logdir / "progress.csv").write_text("step\n")
  with pytest.raises(SystemExit):
    memory_task.main(["--core=lstm", f"--logdir={logdir}"])
  assert "--resume" in capsys.readouterr().err


def test_memory_panels_show_usage_for_dnc_and_row_norms_for_ntm():
  inputs = np.zeros([3, 1, 5], np.float32)
  sizes = MemorySizes(hidden_size=4, memory_size=4, word_size=2, num_reads=2)
  titles = {}
  for core in ("dnc", "ntm", "lstm"):
    _, states = SequenceModel(core, 3, sizes).trace(inputs)
    panels = plots.memory_panels(states)
    titles[core] = [t for t, _ in panels]
    for _, image in panels:
      assert image.shape == (4, 3)  # [memory_size, T]
  assert titles["dnc"] == ["write weights (head 0)", "read weights (head 0)",
                           "read weights (head 1)", "usage"]
  assert titles["ntm"][-1] == "memory row norm"
  assert titles["lstm"] == []


@pytest.mark.parametrize("flag", ["--core=gru", "--max_steps=0", "--learning_rate=-1"])
def test_bad_flags_exit_with_a_message(flag, capsys):
  with pytest.raises(SystemExit):
    memory_task.main([flag])
  assert "error" in capsys.readouterr().err
