"""Learning regression: the default agent learns Catch, logs, checkpoints
and resumes.

`make run`'s agent (configs/catch.py: FtwTorso + RPTH with a shared DNC
memory + pixel control + reward prediction, V-trace) trained by
launch.local for 150 learner steps must reach a greedy return above
+0.25 over 32 episodes (more than 20 balls caught; a random policy scores
about -0.6 on Catch, a perfect one +1). When the actor picks up new weights
depends on thread timing, so runs of one seed differ: seed 1 gave +1.0,
+1.0 and +0.5 at step 150 and +0.5 at step 100 (2-core AVX2 machine).
The same run's logs and checkpoint are then checked, and a second run
resumes from it (one run of the full-size agent serves both: each launch
of it costs ~15 s of start-up and tracing on a 2-core machine).
"""

import os

import pytest

from ftw.utils.loggers import read_csv
from launch import local

_STEPS = 150


def test_default_agent_learns_catch_logs_checkpoints_and_resumes(tmp_path):
  logdir = str(tmp_path)
  args = ["--config=configs/catch.py", f"--logdir={logdir}", "--seed=1",
          "eval_every_seconds=3600", "eval_episodes=32"]
  first = local.main([*args, f"--max_learner_steps={_STEPS}"])
  assert first["learner_steps"] == _STEPS
  assert first["eval_return"] > 0.25, first
  # Every sequence is trained once: the actor produced at least B*(T-1)
  # transitions per learner step (B=16, T=10).
  assert first["actor_steps"] >= _STEPS * 16 * 9
  assert first["checkpoint"] and os.path.exists(first["checkpoint"] + ".index")

  learner_rows = read_csv(os.path.join(logdir, "learner", "logs.csv"))
  assert [int(r["learner_steps"]) for r in learner_rows] == list(
      range(1, _STEPS + 1))
  for key in ("total_loss", "policy_loss", "pixel_control_loss",
              "reward_prediction_loss", "kl_loss", "kl_prior_loss"):
    assert key in learner_rows[0]
  evaluator_rows = read_csv(os.path.join(logdir, "evaluator", "logs.csv"))
  assert [int(r["episodes"]) for r in evaluator_rows] == [32]
  assert float(evaluator_rows[0]["episode_return"]) == pytest.approx(
      first["eval_return"])
  assert int(evaluator_rows[0]["learner_steps"]) == _STEPS
  actor_rows = read_csv(os.path.join(logdir, "actor", "logs.csv"))
  assert actor_rows and all(
      float(r["episode_length"]) == 9.0 for r in actor_rows)
  assert any(f.startswith("events.out.tfevents")
             for f in os.listdir(os.path.join(logdir, "learner")))

  second = local.main([*args, f"--max_learner_steps={_STEPS + 2}",
                       "--resume"])
  assert second["learner_steps"] == _STEPS + 2  # Continued, not from 0.
  assert second["actor_steps"] > first["actor_steps"]
  learner_rows = read_csv(os.path.join(logdir, "learner", "logs.csv"))
  assert [int(r["learner_steps"]) for r in learner_rows] == list(
      range(1, _STEPS + 3))
  # The resumed agent plays as well as the one that was saved.
  assert second["eval_return"] > 0.25, second
