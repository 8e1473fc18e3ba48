"""Tests for ftw.envs.catch: dynamics, rewards, rendering, seeding, specs."""

from absl.testing import absltest
from dm_env import test_utils
import numpy as np
import pytest

from ftw.envs.catch import BALL_COLOUR, PADDLE_COLOUR, Catch

LEFT, STAY, RIGHT = 0, 1, 2


class CatchConformsToDmEnv(test_utils.EnvironmentTestMixin, absltest.TestCase):
  """dm_env's own conformance checks (specs of every step, reset rules)."""

  def make_object_under_test(self):
    return Catch(rows=4, columns=3, seed=0)


def test_ball_falls_and_paddle_moves_and_clips():
  env = Catch(rows=6, columns=5, seed=1)
  env.reset()
  ball_col = env.ball_position[1]
  assert env.ball_position[0] == 0 and env.paddle_column == 2
  # Left, left, left (clipped at the wall), right, stay.
  for step, (action, paddle) in enumerate(
      [(LEFT, 1), (LEFT, 0), (LEFT, 0), (RIGHT, 1), (STAY, 1)], start=1):
    ts = env.step(action)
    assert env.ball_position == (step, ball_col)
    assert env.paddle_column == paddle
  assert ts.last()
  env.reset()
  for action, paddle in [(RIGHT, 3), (RIGHT, 4), (RIGHT, 4)]:
    env.step(action)
    assert env.paddle_column == paddle


def _play(env, follow_ball):
  """Plays one episode chasing (or fleeing) the ball; returns the timesteps."""
  timesteps = [env.reset()]
  while not timesteps[-1].last():
    ball, paddle = env.ball_position[1], env.paddle_column
    toward = STAY if ball == paddle else (RIGHT if ball > paddle else LEFT)
    if follow_ball:
      action = toward
    elif ball != paddle:  # Move away from the ball's column (clipped).
      action = LEFT if ball > paddle else RIGHT
    else:
      action = LEFT if paddle > 0 else RIGHT
    timesteps.append(env.step(action))
  return timesteps


@pytest.mark.parametrize("rows", [3, 5, 10])  # 3: the paddle can reach any column.
@pytest.mark.parametrize("follow_ball, final_reward", [(True, 1.0),
                                                        (False, -1.0)])
def test_reward_only_at_final_step_and_episode_length(rows, follow_ball,
                                                      final_reward):
  env = Catch(rows=rows, columns=5, seed=rows)
  for _ in range(5):
    timesteps = _play(env, follow_ball)
    assert len(timesteps) - 1 == rows - 1  # Steps after the FIRST.
    assert timesteps[0].first() and timesteps[0].reward is None
    for ts in timesteps[1:-1]:
      assert ts.mid() and ts.reward == 0.0 and ts.discount == 1.0
    last = timesteps[-1]
    assert last.last() and last.reward == final_reward and last.discount == 0.0
    assert env.ball_position[0] == rows - 1


def test_step_after_last_starts_new_episode():
  env = Catch(rows=3, seed=0)
  # A fresh environment's first step is a reset (dm_env convention).
  assert env.step(STAY).first()
  assert env.step(STAY).mid()
  assert env.step(STAY).last()
  ts = env.step(STAY)
  assert ts.first() and env.ball_position[0] == 0 and env.paddle_column == 2


def test_render_matches_block_image_when_size_divides():
  rows, columns, size = 6, 4, 24  # Cells of 4 x 6 pixels.
  env = Catch(rows=rows, columns=columns, image_size=size, seed=3)
  ts = env.reset()
  for action in [LEFT, RIGHT, RIGHT, None]:
    grid = np.zeros((rows, columns, 3), np.uint8)
    grid[rows - 1, env.paddle_column] = PADDLE_COLOUR
    grid[env.ball_position] = BALL_COLOUR
    expected = np.repeat(np.repeat(grid, size // rows, 0), size // columns, 1)
    np.testing.assert_array_equal(ts.observation, expected)
    if action is not None:
      ts = env.step(action)


def test_render_84_pixels_ball_and_paddle_blocks():
  env = Catch(seed=5)  # 10 x 5 cells on 84 x 84: blocks of 8-9 x 16-17.
  ts = env.reset()
  ts = env.step(RIGHT)
  obs = ts.observation
  assert obs.shape == (84, 84, 3) and obs.dtype == np.uint8
  row, col = env.ball_position
  assert row == 1
  ball = np.all(obs == BALL_COLOUR, axis=-1)
  paddle = np.all(obs == PADDLE_COLOUR, axis=-1)
  # Cell edges by hand: rows (i * 84) // 10, columns (j * 84) // 5.
  row_edges = [0, 8, 16, 25, 33, 42, 50, 58, 67, 75, 84]
  col_edges = [0, 16, 33, 50, 67, 84]
  expected_ball = np.zeros((84, 84), bool)
  expected_ball[row_edges[1]:row_edges[2],
                col_edges[col]:col_edges[col + 1]] = True
  np.testing.assert_array_equal(ball, expected_ball)
  assert env.paddle_column == 3
  expected_paddle = np.zeros((84, 84), bool)
  expected_paddle[75:84, 50:67] = True
  np.testing.assert_array_equal(paddle, expected_paddle)
  # Nothing else is drawn.
  assert not np.any(obs[~(ball | paddle)])


def test_observations_are_independent_copies():
  env = Catch(rows=4, seed=0)
  first = env.reset().observation
  kept = first.copy()
  env.step(LEFT)
  np.testing.assert_array_equal(first, kept)


def test_same_seed_same_episodes_and_different_seed_differs():
  def ball_columns(seed):
    env = Catch(rows=3, columns=5, seed=seed)
    cols = []
    for _ in range(30):
      env.reset()
      cols.append(env.ball_position[1])
    return cols
  assert ball_columns(7) == ball_columns(7)
  assert ball_columns(7) != ball_columns(8)
  assert set(ball_columns(7)) == set(range(5))


def test_specs_validate_every_timestep():
  env = Catch(rows=4, columns=3, image_size=12, seed=0)
  assert env.observation_spec().shape == (12, 12, 3)
  assert env.action_spec().num_values == 3
  rng = np.random.default_rng(0)
  ts = env.reset()
  for _ in range(30):
    env.observation_spec().validate(ts.observation)
    if not ts.first():
      env.reward_spec().validate(ts.reward)
      env.discount_spec().validate(ts.discount)
    ts = env.step(env.action_spec().generate_value() + rng.integers(3))


@pytest.mark.parametrize("action", [3, -1, 1.0, "1", np.array([1])])
def test_bad_action_raises(action):
  env = Catch(seed=0)
  env.reset()
  with pytest.raises(ValueError, match="action"):
    env.step(action)


def test_accepts_numpy_integer_actions():
  env = Catch(seed=0)
  env.reset()
  env.step(np.int32(0))
  env.step(np.array(2))
  assert env.paddle_column == 2


@pytest.mark.parametrize("kwargs, name", [
    (dict(rows=1), "rows"), (dict(columns=0), "columns"),
    (dict(rows=10, image_size=9), "image_size"),
    (dict(ball_colour=(256, 0, 0)), "ball_colour"),
    (dict(paddle_colour=(1, 2)), "paddle_colour")])
def test_bad_constructor_arguments_raise(kwargs, name):
  with pytest.raises(ValueError, match=name):
    Catch(**kwargs)


def test_make_environment_catch_and_bad_name():
  from ftw.envs import make_environment  # pylint: disable=g-import-not-at-top
  env = make_environment("catch", seed=2, rows=4)
  twin = Catch(rows=4, seed=2)
  np.testing.assert_array_equal(env.reset().observation,
                                twin.reset().observation)
  with pytest.raises(ValueError, match="name"):
    make_environment("", seed=0)
