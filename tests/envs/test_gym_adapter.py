"""Tests for ftw.envs.gym_adapter on real gymnasium environments."""

import dm_env
from dm_env import specs
import gymnasium as gym
import numpy as np
import pytest

from ftw.envs.gym_adapter import GymnasiumToDmEnv, space_to_spec


def test_cartpole_specs():
  env = GymnasiumToDmEnv(gym.make("CartPole-v1"), seed=0)
  obs_spec = env.observation_spec()
  assert isinstance(obs_spec, specs.BoundedArray)
  assert obs_spec.shape == (4,) and obs_spec.dtype == np.float32
  np.testing.assert_allclose(obs_spec.maximum[[0, 2]], [4.8, 0.41887903])
  action_spec = env.action_spec()
  assert isinstance(action_spec, specs.DiscreteArray)
  assert action_spec.num_values == 2 and action_spec.dtype == np.int32
  assert env.reward_spec().dtype == np.float32
  env.close()


def test_matches_raw_gymnasium_and_termination_has_discount_zero():
  env = GymnasiumToDmEnv(gym.make("CartPole-v1"), seed=3)
  raw = gym.make("CartPole-v1")
  raw_obs, _ = raw.reset(seed=3)
  ts = env.reset()
  assert ts.first() and ts.reward is None and ts.discount is None
  np.testing.assert_array_equal(ts.observation, raw_obs)
  # Pushing right every step topples the pole within a few dozen steps.
  for _ in range(200):
    ts = env.step(1)
    raw_obs, raw_reward, terminated, truncated, _ = raw.step(1)
    np.testing.assert_array_equal(ts.observation, raw_obs)
    env.observation_spec().validate(ts.observation)
    env.reward_spec().validate(ts.reward)
    env.discount_spec().validate(ts.discount)
    assert ts.reward == raw_reward
    if terminated:
      break
    assert ts.mid() and ts.discount == 1.0
  assert terminated and not truncated
  assert ts.last() and ts.discount == 0.0
  # Stepping after LAST starts a new episode.
  assert env.step(0).first()


def test_truncation_is_last_with_discount_one():
  env = GymnasiumToDmEnv(gym.make("CartPole-v1", max_episode_steps=5), seed=0)
  ts = env.reset()
  step_types = []
  for t in range(5):
    ts = env.step(t % 2)  # Alternating pushes keep the pole up for 5 steps.
    step_types.append(ts.step_type)
  assert step_types == [dm_env.StepType.MID] * 4 + [dm_env.StepType.LAST]
  assert ts.discount == 1.0 and ts.reward == 1.0


def test_seed_reproduces_episodes():
  def first_observations(seed):
    env = GymnasiumToDmEnv(gym.make("CartPole-v1"), seed=seed)
    firsts = []
    for _ in range(3):
      firsts.append(env.reset().observation)
    return np.stack(firsts)
  np.testing.assert_array_equal(first_observations(11), first_observations(11))
  assert not np.array_equal(first_observations(11), first_observations(12))
  # Later resets continue the seeded stream instead of repeating it.
  firsts = first_observations(11)
  assert not np.array_equal(firsts[0], firsts[1])


@pytest.mark.parametrize("action", [2, -1, 0.5, np.array([1])])
def test_bad_discrete_action_raises(action):
  env = GymnasiumToDmEnv(gym.make("CartPole-v1"), seed=0)
  env.reset()
  with pytest.raises(ValueError, match="action"):
    env.step(action)


def test_box_actions_and_bad_action_shape():
  env = GymnasiumToDmEnv(gym.make("Pendulum-v1"), seed=0)
  spec = env.action_spec()
  assert isinstance(spec, specs.BoundedArray) and spec.shape == (1,)
  env.reset()
  ts = env.step(np.array([0.5]))
  assert ts.mid() and ts.observation.shape == (3,)
  with pytest.raises(ValueError, match=r"action must have shape \(1,\)"):
    env.step(np.zeros(2))


def test_space_to_spec_nests_and_unsupported_space():
  space = gym.spaces.Dict({
      "pos": gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
      "id": gym.spaces.Discrete(4, start=1),
      "keys": gym.spaces.MultiBinary(3),
      "both": gym.spaces.Tuple((gym.spaces.MultiDiscrete([2, 5]),
                                gym.spaces.Discrete(3))),
  })
  spec = space_to_spec(space)
  assert spec["pos"].shape == (2,) and spec["pos"].dtype == np.float32
  assert (spec["id"].minimum, spec["id"].maximum) == (1, 4)
  assert spec["keys"].shape == (3,) and spec["keys"].maximum.max() == 1
  np.testing.assert_array_equal(spec["both"][0].maximum, [1, 4])
  assert spec["both"][1].maximum == 2
  action_spec = space_to_spec(gym.spaces.Discrete(3), as_action=True)
  assert isinstance(action_spec, specs.DiscreteArray)
  with pytest.raises(ValueError, match="space"):
    space_to_spec(gym.spaces.Text(5))
  with pytest.raises(ValueError, match="env"):
    GymnasiumToDmEnv("CartPole-v1")


def test_make_environment_gym_name():
  from ftw.envs import make_environment  # pylint: disable=g-import-not-at-top
  env = make_environment("gym:CartPole-v1", seed=3, max_episode_steps=2)
  raw_obs, _ = gym.make("CartPole-v1").reset(seed=3)
  np.testing.assert_array_equal(env.reset().observation, raw_obs)
  env.step(0)
  ts = env.step(1)
  assert ts.last() and ts.discount == 1.0
