"""Checks for constructor arguments of ftw's networks.

Each check raises a ValueError that names the argument and says what was
expected, so a misconfigured agent fails at construction time instead of
producing a silently wrong network.
"""

import numbers
from typing import Any, Optional, Sequence, Tuple, Union

import tensorflow as tf

from ftw import checks


_is_int = checks.is_int
check_positive_int = checks.check_positive_int


def _is_real(value: Any) -> bool:
  return isinstance(value, numbers.Real) and not isinstance(value, bool)


NumActions = Union[int, Tuple[int, ...]]


def check_num_actions(name: str, value: Any) -> NumActions:
  """A discrete (int) or multi-discrete (sequence of ints) action space.

  Returns `value` as an int > 0, or a sequence of ints > 0 (one size per
  action group, e.g. [5, 3, 3] for move, turn, fire) as a tuple; numpy
  integers become ints. Anything else raises a ValueError naming `name`.
  """
  if _is_int(value) and value > 0:
    return int(value)
  if (isinstance(value, Sequence) and not isinstance(value, str) and value
      and all(_is_int(n) and n > 0 for n in value)):
    return tuple(int(n) for n in value)
  raise ValueError(
      f'{name} must be a positive int or a non-empty sequence of positive '
      f'ints (one per action group), got {value!r}.')


def action_sizes(num_actions: NumActions) -> Tuple[int, ...]:
  """The size of each action group: (A,) for a single discrete action."""
  return (num_actions,) if _is_int(num_actions) else tuple(num_actions)


def check_bool(name: str, value: Any) -> bool:
  """Returns `value` if it is a bool, else raises ValueError."""
  if not isinstance(value, bool):
    raise ValueError(f'{name} must be a bool, got {value!r}.')
  return value


def check_real(name: str, value: Any, minimum: float = 0.0,
               allow_equal: bool = True) -> float:
  """Returns `value` as a float if it is a real number >= (or >) `minimum`."""
  if not _is_real(value) or value != value:  # value != value rejects NaN.
    raise ValueError(f'{name} must be a real number, got {value!r}.')
  if value < minimum or (not allow_equal and value == minimum):
    relation = '>=' if allow_equal else '>'
    raise ValueError(f'{name} must be {relation} {minimum}, got {value!r}.')
  return float(value)


def check_optional_positive_real(name: str, value: Any) -> Optional[float]:
  """Returns None or `value` as a float if it is a real number > 0."""
  if value is None:
    return None
  return check_real(name, value, minimum=0.0, allow_equal=False)


def check_initializer(name: str, value: Any) -> None:
  """Raises ValueError unless `value` is None or a callable initializer."""
  if value is not None and not callable(value):
    raise ValueError(
        f'{name} must be None or a callable initializer (a Sonnet or Keras '
        f'initializer), got {value!r}.')


def check_name(value: Any) -> str:
  """Returns `value` if it is a non-empty str, else raises ValueError."""
  if not isinstance(value, str) or not value:
    raise ValueError(f'name must be a non-empty str, got {value!r}.')
  return value


def check_period(name: str, value: Any):
  """Returns a period: an int > 0, or a scalar integer tf.Variable > 0.

  A tf.Variable lets population-based training change the period later; its
  value is checked here and again (with a graph assertion) when it is used.
  It must be non-trainable so it stays out of the module's
  trainable_variables.
  """
  if isinstance(value, tf.Variable):
    if not value.dtype.is_integer or value.shape.rank != 0:
      raise ValueError(
          f'{name} must be a positive int or a scalar integer tf.Variable, '
          f'got a tf.Variable of dtype {value.dtype.name} and shape '
          f'{value.shape}.')
    if value.trainable:
      raise ValueError(
          f'{name} must be a tf.Variable created with trainable=False (it is '
          'a hyperparameter, not a weight).')
    if int(value.numpy()) <= 0:
      raise ValueError(
          f'{name} must be positive, got a tf.Variable with value '
          f'{int(value.numpy())}.')
    return value
  if not _is_int(value) or value <= 0:
    raise ValueError(
        f'{name} must be a positive int or a scalar integer tf.Variable, got '
        f'{value!r}.')
  return int(value)


def check_gradient_scale(name: str, value: Any):
  """Returns a gradient scale: a real >= 0 or a scalar float tf.Variable.

  A tf.Variable must be non-trainable (a hyperparameter, e.g. for PBT).
  """
  if isinstance(value, tf.Variable):
    if not value.dtype.is_floating or value.shape.rank != 0:
      raise ValueError(
          f'{name} must be a real number >= 0 or a scalar float tf.Variable, '
          f'got a tf.Variable of dtype {value.dtype.name} and shape '
          f'{value.shape}.')
    if value.trainable:
      raise ValueError(
          f'{name} must be a tf.Variable created with trainable=False (it is '
          'a hyperparameter, not a weight).')
    return value
  return check_real(name, value, minimum=0.0)
