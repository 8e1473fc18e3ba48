"""A real population job on Ray (2 agents, Melting Pot arenas, Reverb,
TensorFlow learners): it plays rated matches, performs an exploit/explore
step, writes its logs and checkpoints, and resumes with the population
intact (weights, settings, Elo, lineage, counts), restarting an agent node
whose process died."""

import os

import numpy as np
import pytest
import ray

from ftw.utils.loggers import read_csv
from configs import ctf_population
from launch import population as population_launch

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _configs():
  # RPTH without its DNC memory, which nothing here depends on: the memory's
  # ops are most of each learner's trace (~7 s of ~10 s on 2 cores).
  config = ctf_population.get_config().replace(
      num_envs=2, torso_hidden_size=16, hidden_size=16, num_dimensions=8,
      rpth_period=2, memory_size=None, head_hidden_size=16,
      conv_filters=((8, 8, 4),), residual_filters=(), batch_size=2,
      queue_size=16, sequence_length=5, reward_prediction_batch_size=4,
      variable_update_period=2, checkpoint_every_seconds=3600.0,
      log_every_seconds=1.0, max_seconds=240.0, intra_op_threads=1,
      inter_op_threads=2,
      environment_kwargs={"num_players": 2, "action_mode": "multi_discrete",
                          "episode_length": 16})
  # Threshold just under 1: the first ready check of either agent copies
  # the other (any finite Elo gap gives a win probability below it).
  population = ctf_population.get_population_config().replace(
      population_size=2, pbt_interval=2, pbt_ready=2, pbt_min_matches=1,
      pbt_threshold=0.999, log_every_seconds=0.0)
  return config, population


def test_population_exploits_logs_and_resumes(tmp_path):
  config, population = _configs()
  logdir = str(tmp_path)
  seen = {}

  def until_an_exploit(job):
    summary = job.call("controller", "summary", 10) or {}
    seen.update(summary)
    return sum(summary.get("exploits", [0])) >= 1 and min(
        job.learner_steps().values()) >= 4

  first = population_launch.train(config, population, logdir, num_actors=1,
                                   on_poll=until_an_exploit, poll_seconds=1.0,
                                   final_eval_episodes=1)
  assert first["stop_reason"] == "stop requested", first
  pop = first["population"]
  assert sum(pop["exploits"]) >= 1 and sum(pop["matches"]) >= 2
  assert first["actor_steps"] > 0
  for i in range(2):
    assert first["checkpoints"][f"agent_{i}"], first["checkpoints"]
    # Its training loop ended (before, one waiting on an empty queue hung
    # on the replay server stopped under it, and was left behind).
    assert first["nodes"][f"agent_{i}"]["running"] is False
    assert first["nodes"][f"agent_{i}"]["closed"] is True
    assert os.path.isdir(os.path.join(logdir, f"agent_{i}", "checkpoints"))
  assert first["nodes"]["actor_0"]["env_closed"] is True
  # Agent nodes (learners) get the config's TensorFlow pools; actors one
  # thread each (they share the cores).
  for i in range(2):
    assert tuple(first["nodes"][f"agent_{i}"]["tf_threads"]) == (1, 2)
  assert tuple(first["nodes"]["actor_0"]["tf_threads"]) == (1, 1)

  folder = os.path.join(logdir, "population")
  lineage = read_csv(os.path.join(folder, "lineage.csv"))
  copies = [r for r in lineage if r["copied_from"] != ""]
  assert len(copies) >= 1
  copy = copies[0]
  assert {copy["agent"], copy["copied_from"]} == {"0", "1"}
  assert "learning_rate" in copy and "rpth_period" in copy
  elo_rows = read_csv(os.path.join(folder, "elo.csv"))
  assert {r["agent"] for r in elo_rows} == {"0", "1"}
  ratings = [float(r["elo"]) for r in elo_rows[-2:]]
  # Team Elo is zero-sum for equal teams: the ratings stay centred.
  assert np.mean(ratings) == pytest.approx(population.initial_elo, abs=1e-6)
  assert os.path.getsize(os.path.join(folder, "elo.png")) > 0
  # Every agent's checkpoint played the random team and an untrained one.
  evals = read_csv(os.path.join(folder, "final_eval.csv"))
  assert [(r["agent"], r["opponent"]) for r in evals] == [
      ("0", "random"), ("0", "checkpoint"), ("1", "random"),
      ("1", "checkpoint")]
  assert all(float(r["episodes"]) == 1 for r in evals)
  assert len(first["final_eval"]) == 4

  # Resume: the same population goes on from where it stopped; an agent
  # node whose process dies is restarted by Ray, restores its checkpoint,
  # trains on and still copies its peer (every check exploits here).
  killed = {}

  def kill_an_agent_then_watch(job):
    status = job.statuses["agent_1"]
    if not killed:
      killed.update(pid=status["pid"], steps=status["learner_steps"])
      ray.kill(job.handles["agent_1"], no_restart=False)
      return False
    return (status["pid"] != killed["pid"] and
            status["learner_steps"] > killed["steps"] and
            status["exploits"] >= 1)

  second = population_launch.train(config, population, logdir, num_actors=1,
                                   resume=True,
                                   on_poll=kill_an_agent_then_watch,
                                   poll_seconds=1.0)
  assert second["stop_reason"] == "stop requested", second
  assert second["restarts"]["agent_1"] == 1  # The kill; no failure after.
  assert second["nodes"]["agent_1"]["error"] is None
  assert second["nodes"]["controller"]["restored"]
  for i in range(2):
    status = second["nodes"][f"agent_{i}"]
    assert status["restored_from"], status
    assert status["running"] is False
    assert status["learner_steps"] >= first["learner_steps"][f"agent_{i}"]
  assert second["population"]["matches"] >= pop["matches"]
  assert sum(second["population"]["exploits"]) >= sum(pop["exploits"])
  assert second["actor_steps"] >= first["actor_steps"]
  # The lineage was appended to, not rewritten.
  assert read_csv(os.path.join(folder, "lineage.csv"))[:len(lineage)] == lineage


def test_overrides_go_to_the_config_that_has_the_field():
  rest, population = population_launch.split_overrides(
      ["pbt_interval=7", "entropy_cost=0.5", "--elo_k=16", "--seed=3"],
      ctf_population.get_population_config())
  assert population.pbt_interval == 7 and population.elo_k == 16.0
  # `seed` is a field of both configs: both get it.
  assert population.seed == 3 and rest == ["entropy_cost=0.5", "--seed=3"]
  with pytest.raises(ValueError, match="pbt_threshold must be"):
    population_launch.split_overrides(["pbt_threshold=1.5"], population)


def test_a_population_needs_a_team_game_and_evolvable_names():
  config, population = _configs()
  with pytest.raises(ValueError, match="'catch' is not one"):
    population_launch.PopulationJob(config.replace(
        environment="catch", environment_kwargs={}, internal_reward_weights=None),
                                    population, "/tmp/unused", 1)
  with pytest.raises(ValueError, match="which are not evolvable"):
    population_launch.PopulationJob(
        config, population.replace(evolve=("discount",)), "/tmp/unused", 1)
