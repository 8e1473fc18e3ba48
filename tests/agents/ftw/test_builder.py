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
