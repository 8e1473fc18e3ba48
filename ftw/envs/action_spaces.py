"""What an environment's action spec means to a softmax policy.

A policy network takes `num_actions`: an int A for one discrete action
(actions int []), or the sizes [A_1, ..., A_G] of G independent action groups
for a multi-discrete action (actions int [G], e.g. Capture the Flag's
move, turn, fire = [5, 3, 3]).
"""

from typing import Any, List, Union

from dm_env import specs
import numpy as np


def num_actions_from_spec(spec: Any) -> Union[int, List[int]]:
  """The policy's `num_actions` for a dm_env action spec.

  A `DiscreteArray` (or a scalar integer `BoundedArray` with minimum 0) of
  A actions gives A; an integer `BoundedArray` of shape [G] with minimum 0
  and maximum [m_1, ..., m_G] (or one maximum for all) is multi-discrete,
  G action groups of m_g + 1 actions: [m_1 + 1, ..., m_G + 1].

  Raises:
    ValueError: for any other spec, saying what is expected.
  """
  if isinstance(spec, specs.DiscreteArray):
    return int(spec.num_values)
  if (isinstance(spec, specs.BoundedArray) and
      np.issubdtype(spec.dtype, np.integer) and len(spec.shape) <= 1 and
      np.all(spec.minimum == 0) and np.all(spec.maximum >= 0)):
    maximum = np.broadcast_to(spec.maximum, spec.shape)
    if not spec.shape:
      return int(maximum) + 1
    if spec.shape[0] >= 1:
      return [int(m) + 1 for m in maximum]
  raise ValueError(
      "the environment must have a discrete action spec (a DiscreteArray) or "
      "a multi-discrete one (an integer BoundedArray of shape [G] with "
      f"minimum 0, one maximum per action group), got {spec!r}")
