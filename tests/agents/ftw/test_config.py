"""FtwConfig validation and command-line overrides name the bad field."""

import pytest

from agents.ftw.config import FtwConfig
from launch import common


def test_defaults_are_valid_and_period_is_t_minus_one():
  config = FtwConfig()
  assert config.sequence_period == config.sequence_length - 1
  assert config.replace(sequence_length=10).sequence_period == 9


@pytest.mark.parametrize("field,value,message", [
    ("queue_size", 10, "queue_size"),
    ("batch_size", 0, "batch_size"),
    ("core", "gru", "core"),
    ("env_processes", -1, r"env_processes must be an int in \[0, num_envs=16\]"),
    ("env_processes", 17, "env_processes"),
    ("env_processes", True, "env_processes"),
    ("torso_dtype", "float16", "torso_dtype"),
    ("loss", "ppo", "loss"),
    ("discount", 1.5, "discount"),
    ("sequence_length", 1, "sequence_length"),
    ("pixel_control_cell_size", 3, "pixel_control_cell_size"),
    ("pixel_control_cell_size", 5, "20x20"),
    ("max_seconds", -3.0, "max_seconds"),
    ("max_learner_steps", 0, "max_learner_steps"),
    ("max_actor_steps", -1, "max_actor_steps"),
    ("samples_per_insert", 0.0, "samples_per_insert"),
    ("reward_prediction_zero_probability", 0.0,
     "reward_prediction_zero_probability"),
    ("conv_filters", (), "conv_filters"),
    ("residual_filters", ((64, 3),), "residual_filters"),
    ("reward_prediction_batch_size", 5, "reward_prediction_batch_size"),
    ("learning_rate", 0.0, "learning_rate"),
    ("final_entropy_cost", -0.01, "final_entropy_cost"),
    # Without max_learner_steps the schedule has no end.
    ("final_entropy_cost", 0.001, "needs max_learner_steps"),
])
def test_bad_values_name_the_field(field, value, message):
  with pytest.raises(ValueError, match=message):
    FtwConfig().replace(**{field: value})


def test_env_processes_are_refused_for_a_team_game():
  with pytest.raises(ValueError, match="env_processes must be 0 for a team"):
    FtwConfig(environment="ctf", num_envs=2, env_processes=1)


def test_batch_larger_than_queue_fails():
  with pytest.raises(ValueError, match="queue_size"):
    FtwConfig(batch_size=64, queue_size=64)


def test_unknown_field_is_named():
  with pytest.raises(ValueError, match="bogus"):
    FtwConfig().replace(bogus=1)


def test_command_line_overrides_are_typed():
  config = common.parse_overrides(
      FtwConfig(), ["batch_size=8", "--learning_rate=1e-3", "memory_size=None",
                    "core=lstm", "environment_kwargs={'rows': 6}"])
  assert config.batch_size == 8 and isinstance(config.batch_size, int)
  assert config.learning_rate == 1e-3
  assert config.memory_size is None
  assert config.core == "lstm"
  assert config.environment_kwargs == {"rows": 6}


def test_command_line_errors():
  with pytest.raises(ValueError, match="unknown config field 'bogus'"):
    common.parse_overrides(FtwConfig(), ["bogus=1"])
  with pytest.raises(ValueError, match="batch_size.*int"):
    common.parse_overrides(FtwConfig(), ["batch_size=many"])
  with pytest.raises(ValueError, match="field=value"):
    common.parse_overrides(FtwConfig(), ["batch_size"])


def test_shipped_configs_load():
  for path in ("configs/catch.py", "configs/atari.py", "configs/atari_ftw.py"):
    assert isinstance(common.load_config(path), FtwConfig)
  with pytest.raises(ValueError, match="no such file"):
    common.load_config("configs/missing.py")


def test_parser_exits_with_field_name(capsys):
  parser = common.make_parser("test")
  with pytest.raises(SystemExit):
    common.parse(parser, ["--config=configs/catch.py", "batch_size=100"])
  assert "queue_size" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--max_seconds=-3"], "max_seconds"),
    (["--logdir=/proc/no/such/dir"], "--logdir"),
    (["environment=NotAnEnvironment"], "environment"),
])
def test_bad_command_lines_stop_with_one_line_naming_the_flag(
    capsys, argv, message):
  parser = common.make_parser("test")
  with pytest.raises(SystemExit):
    common.parse(parser, ["--config=configs/catch.py", *argv])
  err = capsys.readouterr().err
  assert message in err and "Traceback" not in err


def test_a_field_checked_against_a_limit_flag_is_validated_with_it(tmp_path):
  # learning_rate_schedule=linear needs max_learner_steps: given as the
  # --max_learner_steps flag it counts (the config is validated once).
  args, config = common.parse(common.make_parser("test"), [
      "--config=configs/catch.py", f"--logdir={tmp_path}",
      "learning_rate_schedule=linear", "--max_learner_steps=800",
      "max_seconds=5", "--max_seconds=7"])
  assert config.learning_rate_schedule == "linear"
  assert config.max_learner_steps == 800
  assert config.max_seconds == 7.0  # The flag wins over the field.
  assert args.logdir == str(tmp_path)


def test_tuple_fields_parse_from_the_command_line():
  config = common.parse_overrides(
      FtwConfig(), ["conv_filters=((16, 8, 4), (32, 4, 2))",
                    "residual_filters=()"])
  assert config.conv_filters == ((16, 8, 4), (32, 4, 2))
  assert config.residual_filters == ()


def test_network_defaults_have_one_source():
  """FtwConfig's defaults build the network make_ftw_network builds when
  asked for nothing else (same variables, same shapes)."""
  from agents.ftw.builder import FtwBuilder  # pylint: disable=g-import-not-at-top
  from ftw.tf.networks.factory import make_ftw_network  # pylint: disable=g-import-not-at-top
  builder = FtwBuilder(FtwConfig(environment="catch"))
  from_config = builder.make_network()
  plain = make_ftw_network(builder.num_actions)
  outputs, _ = plain.unroll(builder._dummy_oar((1, 1)), plain.initial_state(1))  # pylint: disable=protected-access
  plain.pixel_control_values(outputs.features)
  plain.reward_prediction_logits(builder._dummy_oar((1, 3)).observation)  # pylint: disable=protected-access
  shapes = lambda net: sorted((v.name, tuple(v.shape)) for v in net.variables)
  assert shapes(from_config) == shapes(plain)


def test_limit_reached_names_the_first_limit():
  from agents.ftw.limits import limit_reached  # pylint: disable=g-import-not-at-top
  config = FtwConfig(max_learner_steps=10, max_actor_steps=100,
                     max_seconds=5.0)
  assert limit_reached(config, {"learner_steps": 9, "actor_steps": 99},
                       4.9) is None
  assert limit_reached(config, {"learner_steps": 10}) == (
      "max_learner_steps reached")
  assert limit_reached(config, {"actor_steps": 100}) == (
      "max_actor_steps reached")
  assert limit_reached(config, {}, 5.0) == "max_seconds reached"
  assert limit_reached(config, {}) is None  # No time given: not checked.
  assert limit_reached(FtwConfig(), {"learner_steps": 10**9}, 1e9) is None
