"""A real short DPG run on gymnasium's Pendulum-v1 with launch.local."""

import os

from ftw.utils.loggers import read_csv
from launch import local

_SMALL = ["num_envs=2", "policy_layers=(16,)", "critic_layers=(16,)",
          "sequence_length=5", "batch_size=4", "min_replay_size=4",
          "samples_per_insert=16", "eval_episodes=2",
          "eval_every_seconds=3600"]


def test_dpg_pendulum_run_logs_checkpoints_and_resumes(tmp_path):
  logdir = str(tmp_path / "dpg")
  first = local.main(["--config=configs/pendulum_dpg.py", f"--logdir={logdir}",
                      "--max_learner_steps=15", *_SMALL])
  assert first["learner_steps"] == 15
  rows = read_csv(os.path.join(logdir, "learner", "logs.csv"))
  assert [int(r["learner_steps"]) for r in rows] == list(range(1, 16))
  for key in ("critic_loss", "policy_loss", "mean_q", "mean_abs_dq_da"):
    assert key in rows[0]
  # Pendulum rewards are in [-16.3, 0]: a 200-step episode in [-3300, 0].
  evaluation = read_csv(os.path.join(logdir, "evaluator", "logs.csv"))
  assert evaluation and float(evaluation[-1]["episode_length"]) == 200
  assert -3300 <= float(evaluation[-1]["episode_return"]) <= 0
  second = local.main(["--config=configs/pendulum_dpg.py", f"--logdir={logdir}",
                       "--max_learner_steps=18", "--resume", *_SMALL])
  assert second["learner_steps"] == 18
