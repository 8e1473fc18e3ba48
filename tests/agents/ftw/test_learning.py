"""Learning regression: the default agent learns Catch.

`make run`'s agent (configs/catch.py: FtwTorso + RPTH with a shared DNC
memory + pixel control + reward prediction, V-trace) trained by
launch.local for a fixed number of learner steps must reach a positive
greedy return (a random policy scores about -0.6 on Catch; the agent was
measured at +1.0 after ~150 steps).
"""

from launch import local


def test_default_agent_learns_catch(tmp_path):
  summary = local.main([
      "--config=configs/catch.py", f"--logdir={tmp_path}",
      "--max_learner_steps=250", "--seed=1", "eval_every_seconds=3600",
      "eval_episodes=32"])
  assert summary["learner_steps"] == 250
  assert summary["eval_return"] > 0.0, summary
