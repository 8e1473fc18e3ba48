"""R2D2Config and DPGConfig: derived fields, overrides and errors naming the
field; the launchers' dispatch from a config to its builder."""

import dataclasses

import pytest

from agents import registry
from agents.dpg.config import DPGConfig
from agents.ftw.config import FtwConfig
from agents.r2d2.config import R2D2Config
from launch import common


def test_sequence_period_is_derived_from_length_and_burn_in():
  config = R2D2Config(sequence_length=40, burn_in=10)
  assert config.sequence_period == 29
  assert config.replace(burn_in=20).sequence_period == 19
  assert config.replace(sequence_period=5).sequence_period == 5
  assert DPGConfig(sequence_length=8).sequence_period == 7


def test_every_field_has_a_docstring_line():
  for cls in (R2D2Config, DPGConfig):
    for field in dataclasses.fields(cls):
      # The class that declares it (the running fields: RunningConfig).
      owner = next(c for c in cls.__mro__
                   if field.name in c.__dict__.get("__annotations__", {}))
      source = open(__import__("inspect").getsourcefile(owner)).read()
      assert f"  {field.name}:" in source
      after = source.split(f"  {field.name}:", 1)[1].split("\n", 2)[1]
      assert after.strip().startswith('"""'), field.name


@pytest.mark.parametrize("overrides, name", [
    (dict(burn_in=9, sequence_length=10), "sequence_length"),
    (dict(burn_in=-1), "burn_in"),
    (dict(exploration="softmax"), "exploration"),
    (dict(epsilon=1.5), "epsilon"),
    (dict(min_replay_size=8, batch_size=16), "min_replay_size"),
    (dict(target_update_period=None), "target_update_period"),
    (dict(target_update_tau=0.01), "target_update_period"),
    (dict(target_update_period=None, target_update_tau=2.0),
     "target_update_tau"),
    (dict(td_target="expected"), "td_target"),
    (dict(samples_per_insert=0.0), "samples_per_insert"),
    (dict(conv_filters=((16, 8),)), "conv_filters"),
    (dict(core="dnc"), "core"),
    (dict(max_seconds=0), "max_seconds"),
    (dict(no_such_field=1), "no_such_field"),
])
def test_r2d2_config_errors_name_the_field(overrides, name):
  with pytest.raises(ValueError, match=name):
    R2D2Config().replace(**overrides)


@pytest.mark.parametrize("overrides, name", [
    (dict(policy_layers=()), "policy_layers"),
    (dict(exploration_sigma=0.0), "exploration_sigma"),
    (dict(target_update_tau=None), "target_update_tau"),
    (dict(dqda_clipping=-1.0), "dqda_clipping"),
    (dict(discount=1.2), "discount"),
])
def test_dpg_config_errors_name_the_field(overrides, name):
  with pytest.raises(ValueError, match=name):
    DPGConfig().replace(**overrides)


def test_configs_load_dispatch_and_parse_overrides():
  config = common.load_config("configs/catch_r2d2.py")
  assert isinstance(config, R2D2Config)
  assert registry.agent_name(config) == "r2d2"
  assert registry.agent_name(common.load_config("configs/pendulum_dpg.py")) == (
      "dpg")
  assert registry.agent_name(common.load_config("configs/pong_r2d2.py")) == (
      "r2d2")
  assert registry.agent_name(FtwConfig()) == "ftw"
  assert registry.actor_kwargs(FtwConfig(seed=3), 1, 2) == {"seed": 1003}
  assert registry.actor_kwargs(config, 1, 2) == {"actor_id": 1,
                                                 "num_actors": 2}
  parsed = common.parse_overrides(config, ["burn_in=2", "double_q=false",
                                           "target_update_tau=0.01",
                                           "target_update_period=none"])
  assert (parsed.burn_in, parsed.double_q, parsed.target_update_tau,
          parsed.target_update_period, parsed.sequence_period) == (
              2, False, 0.01, None, 7)
  with pytest.raises(ValueError, match="R2D2Config"):
    registry.agent_name(object())
