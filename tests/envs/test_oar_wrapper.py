"""Tests for ftw.envs.oar_wrapper: previous action and reward in observations."""

from dm_env import specs
import gymnasium as gym
import numpy as np
import pytest

from ftw.envs.catch import Catch
from ftw.envs.gym_adapter import GymnasiumToDmEnv
from ftw.envs.oar_wrapper import OARWrapper
from ftw.types import OAR


def _check(ts, spec, action, reward):
  assert isinstance(ts.observation, OAR)
  spec.observation.validate(ts.observation.observation)
  spec.action.validate(ts.observation.action)
  spec.reward.validate(ts.observation.reward)
  assert ts.observation.action == action
  assert ts.observation.reward == reward


def test_previous_action_and_reward_across_episodes():
  rows = 4  # Three steps per episode.
  env = OARWrapper(Catch(rows=rows, seed=0))
  twin = Catch(rows=rows, seed=0)  # Same episodes, unwrapped.
  spec = env.observation_spec()
  ts, twin_ts = env.reset(), twin.reset()
  _check(ts, spec, 0, 0.0)
  np.testing.assert_array_equal(ts.observation.observation,
                                twin_ts.observation)
  actions = [2, 0, 1, 1, 2, 2, 0, 1]  # Two episodes, then one more FIRST.
  final_rewards = []
  for action in actions:
    ts, twin_ts = env.step(action), twin.step(action)
    assert ts.step_type == twin_ts.step_type
    np.testing.assert_array_equal(ts.observation.observation,
                                  twin_ts.observation)
    if twin_ts.first():  # Stepped after LAST: the episode restarted.
      _check(ts, spec, 0, 0.0)
    else:
      _check(ts, spec, action, twin_ts.reward)
      assert ts.reward == twin_ts.reward
      if ts.last():
        final_rewards.append(float(ts.observation.reward))
  assert ts.first() and len(final_rewards) == 2
  assert all(abs(r) == 1.0 for r in final_rewards)


def test_last_step_carries_final_reward():
  env = OARWrapper(Catch(rows=2, columns=1, seed=0))  # One step, always caught.
  env.reset()
  ts = env.step(1)
  assert ts.last() and ts.reward == 1.0
  assert ts.observation.reward == np.float32(1.0)
  assert ts.observation.reward.dtype == np.float32
  assert ts.observation.action.dtype == np.int32


def test_observation_spec_is_oar_of_specs():
  env = OARWrapper(Catch(rows=3, seed=0))
  spec = env.observation_spec()
  assert isinstance(spec, OAR)
  assert spec.observation.shape == (84, 84, 3)
  assert isinstance(spec.action, specs.DiscreteArray)
  assert spec.action.num_values == 3 and spec.action.dtype == np.int32
  assert spec.reward.shape == () and spec.reward.dtype == np.float32
  assert env.action_spec() == Catch().action_spec()
  # An int gives a DiscreteArray of that many actions.
  assert OARWrapper(Catch(), action_spec=7).observation_spec().action.num_values == 7


def test_wraps_gymnasium_env():
  env = OARWrapper(GymnasiumToDmEnv(gym.make("CartPole-v1"), seed=0))
  ts = env.reset()
  assert ts.observation.observation.shape == (4,)
  ts = env.step(np.int32(1))
  assert ts.observation.action == 1 and ts.observation.reward == 1.0


@pytest.mark.parametrize("action", [1.0, np.array([1, 0])])
def test_bad_action_raises(action):
  env = OARWrapper(Catch(seed=0))
  env.reset()
  with pytest.raises(ValueError, match="action"):
    env.step(action)


@pytest.mark.parametrize("action_spec", [0, "3", specs.Array((), np.float32)])
def test_bad_action_spec_raises(action_spec):
  with pytest.raises(ValueError, match="action_spec"):
    OARWrapper(Catch(), action_spec=action_spec)
