"""Tests for ftw.envs.vector_env: batching, automatic resets, validation."""

import dm_env
import numpy as np
import pytest

from ftw.envs.catch import Catch
from ftw.envs.oar_wrapper import OARWrapper
from ftw.envs.vector_env import VectorEnv
from ftw.types import OAR

F, M, L = (int(dm_env.StepType.FIRST), int(dm_env.StepType.MID),
           int(dm_env.StepType.LAST))


def test_auto_reset_puts_first_rows_at_the_right_steps():
  # rows=3 ends every 2 steps, rows=4 every 3 steps.
  vec = VectorEnv([lambda: Catch(rows=3, seed=0), lambda: Catch(rows=4, seed=1)])
  assert vec.num_envs == 2
  types = [vec.reset().step_type.tolist()]
  for _ in range(7):
    types.append(vec.step(np.array([1, 1])).step_type.tolist())
  assert [t[0] for t in types] == [F, M, L, F, M, L, F, M]
  assert [t[1] for t in types] == [F, M, M, L, F, M, M, L]


def test_batched_values_match_individually_stepped_envs():
  seeds, rows = [3, 4, 5], [3, 4, 3]
  vec = VectorEnv([Catch(rows=r, seed=s) for r, s in zip(rows, seeds)])
  twins = [Catch(rows=r, seed=s) for r, s in zip(rows, seeds)]
  batch = vec.reset()
  singles = [t.reset() for t in twins]
  rng = np.random.default_rng(0)
  for _ in range(12):
    np.testing.assert_array_equal(
        batch.observation, np.stack([s.observation for s in singles]))
    for i, single in enumerate(singles):
      assert batch.step_type[i] == single.step_type
      if single.first():  # Batched FIRST rows: reward 0, discount 1.
        assert batch.reward[i] == 0.0 and batch.discount[i] == 1.0
      else:
        assert batch.reward[i] == single.reward
        assert batch.discount[i] == single.discount
    actions = rng.integers(0, 3, size=3)
    batch = vec.step(actions)
    singles = [t.step(a) for t, a in zip(twins, actions)]  # Auto-reset too.
  assert batch.step_type.dtype == np.int32
  assert batch.reward.dtype == np.float32 and batch.discount.dtype == np.float32


def test_action_of_a_resetting_env_is_ignored():
  def run(reset_action):
    vec = VectorEnv([Catch(rows=3, seed=9)])
    vec.reset()
    vec.step([1])
    assert vec.step([1]).step_type[0] == L
    ts = vec.step([reset_action])
    assert ts.step_type[0] == F
    return ts.observation
  np.testing.assert_array_equal(run(0), run(2))


def test_oar_structure_and_shapes_are_batched():
  n = 4
  vec = VectorEnv([lambda s=s: OARWrapper(Catch(rows=3, seed=s))
                   for s in range(n)])
  ts = vec.reset()
  assert isinstance(ts.observation, OAR)
  assert ts.observation.observation.shape == (n, 84, 84, 3)
  assert ts.observation.observation.dtype == np.uint8
  assert ts.observation.action.shape == (n,)
  assert ts.observation.action.dtype == np.int32
  assert ts.observation.reward.shape == (n,)
  assert ts.observation.reward.dtype == np.float32
  assert ts.step_type.shape == ts.reward.shape == ts.discount.shape == (n,)
  ts = vec.step(np.array([0, 1, 2, 0]))
  np.testing.assert_array_equal(ts.observation.action, [0, 1, 2, 0])
  assert isinstance(vec.observation_spec(), OAR)
  assert vec.action_spec().num_values == 3


def test_step_before_reset_resets():
  vec = VectorEnv([Catch(rows=3, seed=0), Catch(rows=3, seed=1)])
  np.testing.assert_array_equal(vec.step([1, 1]).step_type, [F, F])


@pytest.mark.parametrize("actions", [[1], [1, 1, 1], [[1], [1]], 1])
def test_bad_actions_shape_raises(actions):
  vec = VectorEnv([Catch(seed=0), Catch(seed=1)])
  vec.reset()
  with pytest.raises(ValueError, match=r"actions must have shape \(2,\)"):
    vec.step(actions)


@pytest.mark.parametrize("envs", [[], Catch(), [1], [lambda: 3]])
def test_bad_envs_raise(envs):
  with pytest.raises(ValueError, match="envs"):
    VectorEnv(envs)


def test_close_closes_every_env():
  closed = []

  class Closing(Catch):
    def close(self):
      closed.append(self)

  with VectorEnv([Closing(), Closing()]) as vec:
    vec.reset()
  assert len(closed) == 2
