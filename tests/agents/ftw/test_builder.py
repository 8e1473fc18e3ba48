"""FtwBuilder: specs computed once and handed to other builders."""

import pytest

from agents.ftw.builder import FtwBuilder
from agents.ftw.config import FtwConfig

_CONFIG = FtwConfig(environment="catch", core="lstm", memory_size=None,
                    hidden_size=8, torso_hidden_size=8, head_hidden_size=8)


def test_a_builder_given_specs_builds_no_probe_environment_or_network(
    monkeypatch):
  specs = FtwBuilder(_CONFIG).specs
  assert specs.action_spec.num_values == 3
  assert specs.observation_spec.observation.shape == (84, 84, 3)
  assert [s.shape for s in specs.core_state_spec] == [(8,), (8,)]

  def no_environment(*unused_args, **unused_kwargs):
    raise AssertionError("built a probe environment")

  def no_network(*unused_args, **unused_kwargs):
    raise AssertionError("built a network to learn the core-state spec")

  monkeypatch.setattr(FtwBuilder, "_make_single_env", no_environment)
  monkeypatch.setattr(FtwBuilder, "make_network", no_network)
  builder = FtwBuilder(_CONFIG, specs)
  tables = builder.make_replay_tables()
  assert tables[0].name == "sequence_queue"
  assert builder.num_actions == 3
  signature = builder.sequence_signature()
  assert signature.extras["core_state"] == specs.core_state_spec


def test_specs_must_describe_a_discrete_action():
  specs = FtwBuilder(_CONFIG).specs
  bad = specs._replace(action_spec=specs.observation_spec.reward)
  with pytest.raises(ValueError, match="discrete action spec"):
    FtwBuilder(_CONFIG, bad)


def test_env_processes_step_the_same_environments_in_workers():
  import numpy as np  # pylint: disable=g-import-not-at-top
  from ftw.envs.process_vector_env import ProcessVectorEnv  # pylint: disable=g-import-not-at-top
  from ftw.envs.vector_env import VectorEnv  # pylint: disable=g-import-not-at-top
  builder = FtwBuilder(_CONFIG.replace(num_envs=3, env_processes=2))
  in_thread = builder.make_environment(seed=5, processes=0)
  assert isinstance(in_thread, VectorEnv)
  with builder.make_environment(seed=5) as workers:  # The config's 2.
    assert isinstance(workers, ProcessVectorEnv)
    assert workers.num_processes == 2
    first = workers.reset()
    np.testing.assert_array_equal(first.observation.observation,
                                  in_thread.reset().observation.observation)
    for _ in range(10):
      actions = np.array([0, 1, 2], np.int32)
      a, b = workers.step(actions), in_thread.step(actions)
      np.testing.assert_array_equal(a.observation.observation,
                                    b.observation.observation)
      np.testing.assert_array_equal(a.reward, b.reward)
      np.testing.assert_array_equal(a.step_type, b.step_type)
  # More processes than environments: one per environment.
  with builder.make_environment(seed=0, num_envs=1) as single:
    assert single.num_processes == 1


@pytest.mark.parametrize("fast", [False, True])
def test_torso_dtype_auto_follows_the_cpu(monkeypatch, fast):
  from ftw.tf.networks import vision  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(vision, "cpu_has_fast_bfloat16", lambda: fast)
  config = _CONFIG.replace(torso_dtype="auto")
  network = FtwBuilder(config).make_network(create_variables=False)
  expected = "bfloat16" if fast else "float32"
  assert network.embed.torso.compute_dtype.name == expected
