"""ftw.envs.action_spaces: action specs to a policy's num_actions."""

from dm_env import specs
import numpy as np
import pytest

from ftw.envs.action_spaces import num_actions_from_spec


def _bounded(shape, maximum, minimum=0, dtype=np.int32):
  return specs.BoundedArray(shape, dtype, minimum=minimum, maximum=maximum)


def test_discrete_and_multi_discrete_specs():
  assert num_actions_from_spec(specs.DiscreteArray(6)) == 6
  # Capture the Flag's move, turn, fire.
  assert num_actions_from_spec(_bounded((3,), [4, 2, 2])) == [5, 3, 3]
  assert num_actions_from_spec(_bounded((2,), 1)) == [2, 2]
  assert num_actions_from_spec(_bounded((), 3)) == 4


@pytest.mark.parametrize("spec", [
    _bounded((2,), [3, 3], minimum=1), _bounded((2,), 1.0, dtype=np.float32),
    _bounded((2, 2), 1), _bounded((0,), 1), specs.Array((2,), np.int32)],
    ids=["minimum-1", "float", "rank-2", "no-groups", "unbounded"])
def test_other_specs_are_refused_with_what_is_expected(spec):
  with pytest.raises(ValueError, match=r"DiscreteArray.*multi-discrete.*\[G\]"):
    num_actions_from_spec(spec)
