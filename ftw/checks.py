"""Argument checks shared by every part of ftw (no TensorFlow needed).

Each check returns the value (normalised: numpy integers become ints) or
raises a ValueError that names the argument and says what was expected.
"""

import dataclasses
import numbers
from typing import Any


def is_int(value: Any) -> bool:
  """True for Python and numpy integers, False for bools."""
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int) -> int:
  """`value` as an int if it is an integer >= `minimum`, else ValueError."""
  if not is_int(value) or value < minimum:
    raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
  return int(value)


def check_positive_int(name: str, value: Any) -> int:
  """`value` as an int if it is an integer > 0, else ValueError."""
  if not is_int(value) or value <= 0:
    raise ValueError(f"{name} must be a positive int, got {value!r}.")
  return int(value)


def replace_fields(config, overrides: dict, derived_from=(),
                   derived: str = None, what: str = "config"):
  """A validated copy of dataclass `config` with `overrides`.

  Unknown names raise ValueError; a `derived` field (default None, derived
  in `__post_init__`) is derived again when a field in `derived_from`
  changes and `derived` itself is not overridden.
  """
  known = {f.name for f in dataclasses.fields(config)}
  unknown = sorted(set(overrides) - known)
  if unknown:
    raise ValueError(f"unknown {what} field(s) {unknown}; known fields: "
                     f"{sorted(known)}")
  values = {name: getattr(config, name) for name in known}
  if derived and derived not in overrides and any(
      k in overrides for k in derived_from):
    values[derived] = None
  values.update(overrides)
  return type(config)(**values)
