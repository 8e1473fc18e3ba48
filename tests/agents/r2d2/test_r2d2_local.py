"""A real short R2D2 run on Catch with launch.local: logs, checkpoints,
resume."""

import os

from ftw.utils.loggers import read_csv
from launch import local

_SMALL = [
    "environment_kwargs={'rows': 5, 'columns': 3, 'image_size': 12}",
    "num_envs=4", "conv_filters=((4, 4, 2),)", "torso_hidden_size=16",
    "hidden_size=16", "head_hidden_size=16", "sequence_length=5", "burn_in=1",
    "batch_size=4", "min_replay_size=8", "replay_size=200",
    "samples_per_insert=8", "eval_episodes=4", "eval_every_seconds=3600",
    "target_update_period=3",
]


def test_r2d2_catch_run_logs_checkpoints_and_resumes(tmp_path):
  logdir = str(tmp_path / "r2d2")
  first = local.main(["--config=configs/catch_r2d2.py", f"--logdir={logdir}",
                      "--max_learner_steps=10", *_SMALL])
  assert first["learner_steps"] == 10
  assert first["checkpoint"] and os.path.exists(first["checkpoint"] + ".index")
  rows = read_csv(os.path.join(logdir, "learner", "logs.csv"))
  assert [int(r["learner_steps"]) for r in rows] == list(range(1, 11))
  # A hard target copy every 3 steps.
  assert [float(r["target_updated"]) for r in rows][:6] == [0, 0, 1, 0, 0, 1]
  assert all(float(r["importance_weight_min"]) <= 1.0 for r in rows)
  evaluation = read_csv(os.path.join(logdir, "evaluator", "logs.csv"))
  assert evaluation and -1.0 <= float(evaluation[-1]["episode_return"]) <= 1.0
  actor_rows = read_csv(os.path.join(logdir, "actor", "logs.csv"))
  assert all(float(r["episode_length"]) == 4.0 for r in actor_rows)

  second = local.main(["--config=configs/catch_r2d2.py", f"--logdir={logdir}",
                       "--max_learner_steps=13", "--resume", *_SMALL])
  assert second["learner_steps"] == 13  # Continued from 10.
  rows = read_csv(os.path.join(logdir, "learner", "logs.csv"))
  # The target updater's count was restored: copies stay every 3 steps.
  assert [(int(r["learner_steps"]), float(r["target_updated"]))
          for r in rows[-3:]] == [(11, 0.0), (12, 1.0), (13, 0.0)]
