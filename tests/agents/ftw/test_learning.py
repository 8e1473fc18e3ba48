"""Learning regression: the default agent learns Catch.

`make run`'s agent (configs/catch.py: FtwTorso + RPTH with a shared DNC
memory + pixel control + reward prediction, V-trace) trained by
launch.local for a fixed number of learner steps must reach a greedy
return above +0.5 (a random policy scores about -0.6 on Catch, a perfect
one +1). Measured on seeds 1 and 2 (greedy evaluation of 32 episodes
every 4 s): above +0.5 from learner step ~60-80, +1.0 from step ~120-140.
"""

from launch import local


def test_default_agent_learns_catch(tmp_path):
  summary = local.main([
      "--config=configs/catch.py", f"--logdir={tmp_path}",
      "--max_learner_steps=150", "--seed=1", "eval_every_seconds=3600",
      "eval_episodes=32"])
  assert summary["learner_steps"] == 150
  assert summary["eval_return"] > 0.5, summary
