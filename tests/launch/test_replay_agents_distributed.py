"""Real short Ray runs of the replay-based agents: R2D2 (Catch, two actors
with Ape-X epsilons) and DPG (Pendulum-v1) through launch.distributed."""

import os

import pytest
import ray

import ftw  # noqa: F401
from agents.dpg.config import DPGConfig
from agents.r2d2.builder import R2D2Builder
from agents.r2d2.config import R2D2Config
from ftw.utils.loggers import read_csv
from launch import distributed

_R2D2 = dict(environment="catch",
             environment_kwargs={"rows": 5, "columns": 3, "image_size": 12},
             num_envs=2, conv_filters=((4, 4, 2),), torso_hidden_size=8,
             hidden_size=8, head_hidden_size=8, sequence_length=5, burn_in=1,
             batch_size=4, min_replay_size=8, replay_size=100,
             samples_per_insert=8.0, eval_episodes=2,
             eval_every_seconds=600.0, max_learner_steps=6)
_DPG = dict(num_envs=2, policy_layers=(16,), critic_layers=(16,),
            sequence_length=5, batch_size=4, min_replay_size=4,
            samples_per_insert=16.0, eval_episodes=1,
            eval_every_seconds=600.0, max_learner_steps=6)


@pytest.fixture(scope="module")
def local_ray():
  # One Ray instance for both jobs (each job reuses it: _init_ray sees it),
  # of its own: another test process's cluster may be running beside it.
  ray.init(address="local", num_cpus=4,
           runtime_env={"env_vars": distributed._worker_env()},  # pylint: disable=protected-access
           log_to_driver=False)
  yield
  ray.shutdown()


def test_apex_epsilons_are_spread_over_every_row_of_every_actor():
  builder = R2D2Builder(R2D2Config(**_R2D2))
  rows = [builder.epsilons(actor_id=i, num_actors=2) for i in range(2)]
  # N = 4 rows in all: 0.4^(1 + 7 i / 3), actor 1 holding rows 2 and 3.
  expected = 0.4 ** (1 + 7 * __import__("numpy").arange(4) / 3)
  assert list(rows[0]) + list(rows[1]) == pytest.approx(list(expected))


@pytest.mark.parametrize("config, num_actors", [
    (R2D2Config(**_R2D2), 2), (DPGConfig(**_DPG), 1)])
def test_replay_agent_runs_on_ray(local_ray, tmp_path, config, num_actors):
  summary = distributed.train(config, str(tmp_path), num_actors=num_actors,
                              address="auto")
  assert summary["learner_steps"] >= 6
  for i in range(num_actors):
    assert summary[f"actor_{i}_steps"] > 0
    if config.AGENT == "r2d2":  # Catch episodes end within a few steps.
      assert read_csv(tmp_path / f"actor_{i}" / "logs.csv")
  assert summary["restarts"] == {n: 0 for n in summary["nodes"]}
  assert os.path.exists(summary["checkpoint"] + ".index")
  learner_rows = read_csv(tmp_path / "learner" / "logs.csv")
  assert len(learner_rows) >= 6
  evaluations = read_csv(tmp_path / "evaluator" / "logs.csv")
  assert len(evaluations) == 1
  assert float(evaluations[0]["episode_return"]) == summary["eval_return"]
