"""ftw.envs.atari_vector.AleVectorEnv on the real ALE (Pong): the batches of
VectorEnv(OARWrapper(AtariEnv)), from ale-py's C++ vector environment."""

import dm_env
import numpy as np
import pytest

from agents.ftw.builder import FtwBuilder
from configs import atari as atari_config
from ftw import envs
from ftw.envs.atari_vector import AleVectorEnv
from ftw.envs.oar_wrapper import make_oar_environment

_GRAY4 = dict(frame_skip=4, noop_max=0, grayscale=True, frame_stack=4)
FIRST, MID, LAST = (int(t) for t in (dm_env.StepType.FIRST,
                                     dm_env.StepType.MID,
                                     dm_env.StepType.LAST))


def _python_vector(n, **kwargs):
  return envs.make_vector_environment(
      lambda seed: make_oar_environment("Pong", seed, kwargs), 0, n)


@pytest.mark.parametrize("kwargs", [_GRAY4, dict(grayscale=False,
                                                 image_size=42)])
def test_specs_are_those_of_the_python_environments(kwargs):
  with AleVectorEnv("Pong", 2, seed=0, **kwargs) as fast:
    slow = _python_vector(2, **kwargs)
    assert fast.observation_spec() == slow.observation_spec()
    assert fast.action_spec() == slow.action_spec()
    assert fast.reward_spec() == slow.reward_spec()
    assert fast.discount_spec() == slow.discount_spec()
    ts = fast.reset()
    assert ts.observation.observation.shape == (
        2, *slow.observation_spec().observation.shape)
    for t in range(3):
      ts = fast.step(np.array([t % 6, 1]))
      for i in range(2):
        one = dm_env.TimeStep(*(np.asarray(x)[i] for x in ts[:3]),
                              observation=type(ts.observation)(
                                  *(x[i] for x in ts.observation)))
        fast.reward_spec().validate(one.reward)
        fast.discount_spec().validate(one.discount)
        for spec, value in zip(fast.observation_spec(), one.observation):
          spec.validate(value)
    slow.close()


def test_first_frame_matches_the_python_environment():
  # Same game start (no no-ops); only the resize filter differs (OpenCV's
  # area averaging against PIL's box filter).
  with AleVectorEnv("Pong", 1, seed=0, **_GRAY4) as fast:
    slow = _python_vector(1, **_GRAY4)
    a = fast.reset().observation.observation.astype(int)
    b = slow.reset().observation.observation.astype(int)
    assert a.shape == b.shape == (1, 84, 84, 4)
    assert np.abs(a - b).mean() < 1.0 and np.abs(a - b).max() <= 16
    slow.close()


def test_reset_and_steps_carry_the_oar_and_the_stack():
  with AleVectorEnv("Pong", 3, seed=1, **_GRAY4) as env:
    ts = env.reset()
    assert list(ts.step_type) == [FIRST] * 3
    assert not ts.reward.any() and (ts.discount == 1).all()
    assert not ts.observation.action.any() and not ts.observation.reward.any()
    stack = ts.observation.observation
    # The first observation repeats the episode's first frame k times.
    assert all((stack[..., j] == stack[..., 0]).all() for j in range(4))
    for t in range(6):
      actions = np.array([t % 6, 2, 5], np.int64)
      ts = env.step(actions)
      assert list(ts.step_type) == [MID] * 3
      np.testing.assert_array_equal(ts.observation.action, actions)
      assert ts.observation.action.dtype == np.int32
      np.testing.assert_array_equal(ts.observation.reward, ts.reward)
      new = ts.observation.observation
      # Oldest first: the stack shifts by one frame per step.
      np.testing.assert_array_equal(new[..., :3], stack[..., 1:])
      stack = new
    assert not (stack[..., 3] == stack[..., 0]).all()  # The paddles moved.


def test_step_limit_truncates_then_the_next_step_starts_an_episode():
  # 5 agent steps of 4 frames: LAST (discount 1) at the fifth step.
  with AleVectorEnv("Pong", 2, seed=0, max_episode_steps=5, **_GRAY4) as env:
    env.reset()
    types = [list(env.step(np.array([1, 2])).step_type) for _ in range(4)]
    assert types == [[MID, MID]] * 4
    ts = env.step(np.array([1, 2]))
    assert list(ts.step_type) == [LAST, LAST]
    assert (ts.discount == 1).all()
    ts = env.step(np.array([3, 3]))  # Ignored: the games reset.
    assert list(ts.step_type) == [FIRST, FIRST]
    assert not ts.reward.any() and (ts.discount == 1).all()
    assert not ts.observation.action.any()
    stack = ts.observation.observation
    assert all((stack[..., j] == stack[..., 0]).all() for j in range(4))
    assert list(env.step(np.array([1, 1])).step_type) == [MID, MID]


def test_a_game_over_ends_with_discount_zero_after_21_points():
  with AleVectorEnv("Pong", 1, seed=0, frame_skip=8, noop_max=0,
                    grayscale=True) as env:
    env.reset()
    rng = np.random.default_rng(0)
    rewards = []
    for _ in range(5000):
      ts = env.step(rng.integers(0, 6, 1))
      rewards.append(float(ts.reward[0]))
      if ts.step_type[0] == LAST:
        break
    assert ts.step_type[0] == LAST and ts.discount[0] == 0.0
    rewards = np.array(rewards)
    assert set(np.unique(rewards)) <= {-1.0, 0.0, 1.0}
    assert 21 in ((rewards == -1).sum(), (rewards == 1).sum())


def test_same_seed_same_games_other_seed_other_no_ops():
  def run(seed):
    with AleVectorEnv("Pong", 2, seed=seed, noop_max=30,
                      grayscale=True) as env:
      frames = [env.reset().observation.observation]
      for t in range(20):
        frames.append(env.step(np.array([t % 6, 3])).observation.observation)
      return np.stack(frames)
  first, again, other = run(3), run(3), run(4)
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)


@pytest.mark.parametrize("actions, match", [
    (np.array([0]), r"shape \(2,\)"),
    (np.array([[0, 1]]), r"shape \(2,\)"),
    (np.array([0.0, 1.0]), "integer array"),
    (np.array([0, 6]), r"in \[0, 6\)"),
    (np.array([-1, 0]), r"in \[0, 6\)"),
])
def test_bad_actions_are_refused(actions, match):
  with AleVectorEnv("Pong", 2, seed=0) as env:
    env.reset()
    with pytest.raises(ValueError, match=match):
      env.step(actions)


@pytest.mark.parametrize("kwargs, match", [
    (dict(game="NoSuchGame"), "game must name an ALE game"),
    (dict(num_envs=0), "num_envs must be an int >= 1"),
    (dict(num_threads=0), "num_threads must be an int >= 1"),
    (dict(frame_stack=0), "frame_stack must be an int >= 1"),
    (dict(grayscale="yes"), "grayscale must be a bool"),
])
def test_bad_arguments_are_refused(kwargs, match):
  arguments = {"game": "Pong", "num_envs": 2, **kwargs}
  with pytest.raises(ValueError, match=match):
    AleVectorEnv(**arguments)


def test_builder_and_config_take_env_threads():
  config = atari_config.get_config().replace(num_envs=4, env_threads=2)
  builder = FtwBuilder(config)
  env = builder.make_environment(seed=0)
  assert isinstance(env, AleVectorEnv) and env.num_envs == 4
  assert env.reset().observation.observation.shape == (4, 84, 84, 4)
  env.close()
  python = builder.make_environment(seed=0, num_envs=2, threads=0)
  assert not isinstance(python, AleVectorEnv) and python.num_envs == 2
  python.close()
  with pytest.raises(ValueError, match="choose one of them"):
    builder.make_environment(seed=0, processes=2)
  with pytest.raises(ValueError, match="env_threads must be an int >= 0"):
    config.replace(env_threads=-1)
  with pytest.raises(ValueError, match="choose one of them"):
    config.replace(env_threads=1, env_processes=2)
  with pytest.raises(ValueError, match="env_threads is for Atari games"):
    config.replace(environment="catch", environment_kwargs={})
  with pytest.raises(ValueError, match="must be an Atari game"):
    envs.make_atari_vector_environment("catch", 0, 2, 1)
