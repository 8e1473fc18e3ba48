"""Real short local runs of Catch and Atari Pong (the full-size Catch agent's
logs, checkpoint and resume are checked in test_learning.py, on the run that
shows it learns)."""

import logging
import multiprocessing
import os

import pytest

from ftw.utils import tf_threads
from ftw.utils.loggers import read_csv
from launch import local

# A small but complete FTW agent: torso, RPTH with shared DNC memory, pixel
# control, reward prediction, V-trace.
_SMALL = [
    "num_envs=4", "torso_hidden_size=32", "hidden_size=16",
    "num_dimensions=8", "rpth_period=2", "memory_size=8", "word_size=4",
    "num_reads=1", "head_hidden_size=16", "batch_size=4", "queue_size=8",
    "reward_prediction_batch_size=4", "eval_episodes=4",
    "eval_every_seconds=3600", "variable_update_period=2",
]


def test_a2c_with_lstm_core_runs(tmp_path):
  summary = local.main([
      "--config=configs/catch.py", f"--logdir={tmp_path}",
      "--max_learner_steps=3", "loss=a2c", "core=lstm", "memory_size=None",
      "pixel_control_cost=0", "reward_prediction_cost=0", *_SMALL])
  assert summary["learner_steps"] == 3
  rows = read_csv(os.path.join(tmp_path, "learner", "logs.csv"))
  assert "pixel_control_loss" not in rows[0] and "kl_loss" not in rows[0]


@pytest.mark.parametrize("stepping", [["env_processes=2", "env_threads=0"],
                                      ["env_threads=2"]])
def test_atari_pong_short_run(tmp_path, stepping, caplog):
  # With its environments in two worker processes (env_processes), which
  # end with the run, or in ale-py's vector environment (env_threads).
  caplog.set_level(logging.WARNING, logger="ftw.tf_threads")
  summary = local.main([
      "--config=configs/atari.py", f"--logdir={tmp_path}",
      "--max_learner_steps=2", "sequence_length=5", "core=lstm",
      "memory_size=None", *stepping,
      "environment_kwargs={'max_episode_steps': 40}", *_SMALL[:-4],
      "eval_episodes=1"])
  assert summary["learner_steps"] == 2
  assert not multiprocessing.active_children()
  assert os.path.exists(os.path.join(tmp_path, "learner", "logs.csv"))
  assert summary["checkpoint"]
  # The config's TensorFlow pools (1, 4) were asked for: they are this
  # process's if the run came before its first op, else a warning says so.
  pools = tf_threads.pools()
  assert pools == (1, 4) or ("launch.local: could not set intra_op_threads=1"
                             ", inter_op_threads=4" in caplog.text), pools


def test_bad_config_fails_at_start_naming_the_field(capsys):
  with pytest.raises(SystemExit):
    local.main(["--config=configs/catch.py", "batch_size=64"])
  assert "queue_size" in capsys.readouterr().err


def test_a_failing_evaluator_ends_the_run_with_its_error(tmp_path,
                                                        monkeypatch, capsys):
  # The evaluation thread's failure must stop the actor and the learner
  # (no step limit here: a run that went on would hit the test's timeout)
  # and reach the caller, after a checkpoint is saved. The stop comes while
  # the learner waits for its first batch: it must end by itself (stopping
  # the in-process server first kept it waiting until the join timeout).
  from agents.ftw import evaluator as evaluator_lib  # pylint: disable=g-import-not-at-top
  calls = []

  def failing_evaluate(self, should_stop=lambda: False):
    del self, should_stop
    calls.append(1)
    raise RuntimeError("the evaluation broke")

  monkeypatch.setattr(evaluator_lib.Evaluator, "evaluate", failing_evaluate)
  small = [a for a in _SMALL if not a.startswith("eval_every_seconds")]
  with pytest.raises(RuntimeError,
                     match="the evaluator failed: the evaluation broke"):
    local.main(["--config=configs/catch.py", f"--logdir={tmp_path}",
                "eval_every_seconds=0.5", *small])
  assert calls == [1]  # It was not called again after the failure.
  assert "the learner did not stop" not in capsys.readouterr().out
  assert any(f.endswith(".index")
             for f in os.listdir(tmp_path / "checkpoints"))


@pytest.mark.parametrize("how", ["ctrl_c", "sigterm"])
def test_a_stop_on_request_skips_the_final_evaluation(tmp_path, monkeypatch,
                                                      capsys, how):
  # A run stopped by its user ends without playing greedy episodes (on Pong
  # they took minutes after the stop); the checkpoint is still saved.
  import signal  # pylint: disable=g-import-not-at-top
  from agents.ftw import evaluator as evaluator_lib  # pylint: disable=g-import-not-at-top
  from ftw import environment_loop  # pylint: disable=g-import-not-at-top
  evaluations, steps = [], []
  real_step = environment_loop.EnvironmentLoop.step

  def evaluate(self, should_stop=lambda: False):
    del self, should_stop
    evaluations.append(1)
    return [{"episode_return": 0.0, "episode_length": 1, "episodes": 1}]

  def step(self):
    steps.append(1)
    if len(steps) == 30:
      if how == "ctrl_c":
        raise KeyboardInterrupt
      os.kill(os.getpid(), signal.SIGTERM)
    return real_step(self)

  monkeypatch.setattr(evaluator_lib.Evaluator, "evaluate", evaluate)
  monkeypatch.setattr(environment_loop.EnvironmentLoop, "step", step)
  # No limit: only the request stops it. An LSTM agent: the stop path is
  # the same, the start-up shorter.
  summary = local.main(["--config=configs/catch.py", f"--logdir={tmp_path}",
                        *_SMALL, "core=lstm", "memory_size=None",
                        "pixel_control_cost=0", "reward_prediction_cost=0"])
  out = capsys.readouterr().out
  assert not evaluations and summary["eval_return"] is None
  assert "no final evaluation" in out and "final evaluation:" not in out
  assert summary["checkpoint"]
