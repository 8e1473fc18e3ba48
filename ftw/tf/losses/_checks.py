"""Entry checks shared by the loss functions: ranks and static shapes.

The checks look at static shapes only, so they cost nothing at run time and
work the same eagerly and while `tf.function` traces. Dimensions unknown at
trace time are not compared.
"""

import numbers
from typing import List, Optional, Sequence, Union

import tensorflow as tf

Ranks = Union[int, Sequence[int]]


def to_float(value, name: str, dtype: Optional[tf.DType] = None) -> tf.Tensor:
  """Converts `value` to a floating tensor (float32 unless `dtype` is given)."""
  tensor = tf.convert_to_tensor(value)
  target = dtype or (tensor.dtype if tensor.dtype.is_floating else tf.float32)
  if not (tensor.dtype.is_floating or tensor.dtype.is_integer or tensor.dtype == tf.bool):
    raise ValueError(f"`{name}` must be numeric, got dtype {tensor.dtype.name}.")
  return tf.cast(tensor, target) if tensor.dtype != target else tensor


def to_int(value, name: str) -> tf.Tensor:
  """Converts `value` to an int32 tensor; refuses floating input (actions)."""
  tensor = tf.convert_to_tensor(value)
  if not tensor.dtype.is_integer:
    raise ValueError(f"`{name}` must be an integer tensor, got dtype {tensor.dtype.name}.")
  return tf.cast(tensor, tf.int32) if tensor.dtype != tf.int32 else tensor


def check_rank(tensor: tf.Tensor, rank: Ranks, name: str, shape_doc: str = "") -> None:
  """Raises ValueError unless `tensor` has (one of) the given static rank(s)."""
  ranks = (rank,) if isinstance(rank, int) else tuple(rank)
  actual = tensor.shape.rank
  if actual is None or actual in ranks:
    return
  expected = " or ".join(str(r) for r in ranks)
  suffix = f" {shape_doc}" if shape_doc else ""
  raise ValueError(
      f"`{name}` must have rank {expected}{suffix}, got shape {tensor.shape}.")


def check_min_rank(tensor: tf.Tensor, rank: int, name: str, shape_doc: str = "") -> None:
  """Raises ValueError if `tensor` has a static rank below `rank`."""
  actual = tensor.shape.rank
  if actual is not None and actual < rank:
    suffix = f" {shape_doc}" if shape_doc else ""
    raise ValueError(
        f"`{name}` must have rank >= {rank}{suffix}, got shape {tensor.shape}.")


def check_shape(tensor: tf.Tensor, expected: Sequence[Optional[int]], name: str,
                expected_doc: str) -> None:
  """Raises ValueError unless the static shape of `tensor` matches `expected`.

  Args:
    tensor: the tensor to check.
    expected: expected dimensions; None matches anything.
    name: the argument's name, quoted in the error.
    expected_doc: how the expected shape is written in the error, e.g. "[T, B]".
  """
  shape = tensor.shape
  if shape.rank is None:
    return
  if shape.rank != len(expected):
    raise ValueError(f"`{name}` must have shape {expected_doc} "
                     f"(expected {_fmt(expected)}), got {shape}.")
  for actual, want in zip(shape.as_list(), expected):
    if actual is not None and want is not None and actual != want:
      raise ValueError(f"`{name}` must have shape {expected_doc} "
                       f"(expected {_fmt(expected)}), got {shape}.")


def check_same_shape(reference: tf.Tensor, reference_name: str, tensor: tf.Tensor,
                     name: str) -> None:
  """Raises ValueError unless `tensor` has the static shape of `reference`."""
  if reference.shape.rank is None:
    return
  check_shape(tensor, reference.shape.as_list(), name, f"of `{reference_name}`")


def check_action_sizes(sizes, name: str) -> List[int]:
  """The actions per group of a multi-discrete action, as a list of ints."""
  is_size = lambda n: (isinstance(n, numbers.Integral) and
                       not isinstance(n, bool) and n > 0)
  if (isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or
      not sizes or not all(is_size(n) for n in sizes)):
    raise ValueError(f"`{name}` must be a non-empty sequence of positive ints "
                     f"(the number of actions of each group), got {sizes!r}.")
  return [int(n) for n in sizes]


def _fmt(dims: Sequence[Optional[int]]) -> str:
  return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"
