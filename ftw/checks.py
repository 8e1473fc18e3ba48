"""Argument checks shared by every part of ftw (no TensorFlow needed).

Each check returns the value (normalised: numpy integers become ints) or
raises a ValueError that names the argument and says what was expected.
"""

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
