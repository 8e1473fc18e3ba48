"""PopulationConfig validates its fields and `replace` names unknown ones."""

import subprocess
import sys

import pytest

from ftw.population.config import PopulationConfig


def test_defaults_are_valid_and_normalised():
  config = PopulationConfig(perturb_factors=[0.5, 2], evolve=["learning_rate"])
  assert config.perturb_factors == (0.5, 2.0)
  assert config.evolve == ("learning_rate",)
  assert PopulationConfig().matchmaking_sigma == pytest.approx(1 / 6)


def test_replace_overrides_and_rejects_unknown_fields():
  config = PopulationConfig().replace(population_size=8, pbt_threshold=0.6)
  assert (config.population_size, config.pbt_threshold) == (8, 0.6)
  with pytest.raises(ValueError, match=r"\['populaton_size'\]"):
    PopulationConfig().replace(populaton_size=8)


@pytest.mark.parametrize("field, value", [
    ("population_size", 1), ("population_size", 2.0), ("elo_k", 0),
    ("elo_scale", -1.0), ("initial_elo", float("nan")),
    ("matchmaking_sigma", 0.0), ("pbt_interval", 0), ("pbt_ready", -1),
    ("pbt_threshold", 0.0), ("pbt_threshold", 1.0), ("pbt_min_matches", -1),
    ("perturb_probability", 0.0), ("perturb_probability", 1.5),
    ("perturb_factors", (1.2, 1.2)), ("perturb_factors", (0.0, 1.2)),
    ("perturb_factors", (0.8,)), ("evolve", "learning_rate"),
    ("evolve", ("a", "a")), ("evolve_internal_rewards", 1),
    ("initial_spread", 0.5), ("seed", -1), ("log_every_seconds", -1.0),
])
def test_bad_values_raise_naming_the_field(field, value):
  with pytest.raises(ValueError, match=field):
    PopulationConfig(**{field: value})


def test_the_package_imports_without_tensorflow():
  # conftest imports TensorFlow here, so import in a fresh interpreter.
  code = ("import sys; import ftw.population.controller; "
          "print(sorted(m for m in ('tensorflow', 'matplotlib', 'ray') "
          "if m in sys.modules))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True)
  assert out.stdout.strip() == "[]"
