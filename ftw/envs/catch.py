"""Catch: a ball falls down a small grid; a paddle on the bottom row catches it.

The grid has `rows` x `columns` cells. A ball starts in a random column of the
top row and falls one row per step; the paddle sits on the bottom row and moves
left / stays / moves right (actions 0, 1, 2), clipped at the walls. When the
ball reaches the bottom row, after `rows - 1` steps, the episode ends with
reward +1 if the paddle is in the ball's column and -1 otherwise (discount 0);
every other step gives reward 0.

The observation is an RGB image, `image_size x image_size x 3` uint8: each cell
becomes a block of pixels (block edges at `(i * image_size) // rows`), black
background, white ball, coloured paddle; the ball is drawn over the paddle when
both share a cell. Rendering writes the two changed blocks into a preallocated
frame and returns a copy, so a step costs a few microseconds.
"""

from typing import Optional, Sequence

import dm_env
from dm_env import specs
import numpy as np

NUM_ACTIONS = 3  # 0: left, 1: stay, 2: right.
BALL_COLOUR = (255, 255, 255)
PADDLE_COLOUR = (0, 200, 255)


def _as_colour(value: Sequence[int], name: str) -> np.ndarray:
  colour = np.asarray(value)
  if (colour.shape != (3,) or not np.issubdtype(colour.dtype, np.integer)
      or colour.min() < 0 or colour.max() > 255):
    raise ValueError(f"{name} must be 3 integers in [0, 255], got {value!r}.")
  return colour.astype(np.uint8)


class Catch(dm_env.Environment):
  """The Catch game with pixel observations (see the module docstring)."""

  def __init__(self,
               rows: int = 10,
               columns: int = 5,
               image_size: int = 84,
               seed: Optional[int] = None,
               ball_colour: Sequence[int] = BALL_COLOUR,
               paddle_colour: Sequence[int] = PADDLE_COLOUR):
    """Creates the game.

    Args:
      rows: grid rows, >= 2; an episode lasts `rows - 1` steps.
      columns: grid columns, >= 1.
      image_size: side of the square RGB observation, >= max(rows, columns)
        so that every cell covers at least one pixel.
      seed: seeds the ball's starting columns; the same seed gives the same
        episodes. None draws fresh entropy.
      ball_colour: RGB of the ball.
      paddle_colour: RGB of the paddle.
    """
    if not isinstance(rows, (int, np.integer)) or rows < 2:
      raise ValueError(f"rows must be an int >= 2, got {rows!r}.")
    if not isinstance(columns, (int, np.integer)) or columns < 1:
      raise ValueError(f"columns must be an int >= 1, got {columns!r}.")
    if (not isinstance(image_size, (int, np.integer))
        or image_size < max(rows, columns)):
      raise ValueError(f"image_size must be an int >= max(rows, columns) = "
                       f"{max(rows, columns)}, got {image_size!r}.")
    self._rows = int(rows)
    self._columns = int(columns)
    self._image_size = int(image_size)
    self._ball_colour = _as_colour(ball_colour, "ball_colour")
    self._paddle_colour = _as_colour(paddle_colour, "paddle_colour")
    self._rng = np.random.default_rng(seed)
    # Pixel edges of each cell: cell i spans [edges[i], edges[i + 1]).
    self._row_edges = (np.arange(rows + 1) * image_size) // rows
    self._col_edges = (np.arange(columns + 1) * image_size) // columns
    self._row_slices = [slice(int(a), int(b))
                        for a, b in zip(self._row_edges[:-1], self._row_edges[1:])]
    self._col_slices = [slice(int(a), int(b))
                        for a, b in zip(self._col_edges[:-1], self._col_edges[1:])]
    self._frame = np.zeros((image_size, image_size, 3), np.uint8)
    self._ball_row = 0
    self._ball_col = 0
    self._paddle_col = self._columns // 2
    self._reset_next_step = True

  @property
  def rows(self) -> int:
    return self._rows

  @property
  def columns(self) -> int:
    return self._columns

  @property
  def ball_position(self) -> tuple:
    """(row, column) of the ball."""
    return self._ball_row, self._ball_col

  @property
  def paddle_column(self) -> int:
    return self._paddle_col

  def cell_bounds(self, row: int, column: int) -> tuple:
    """Pixel bounds (top, bottom, left, right) of a cell, ends exclusive."""
    return (int(self._row_edges[row]), int(self._row_edges[row + 1]),
            int(self._col_edges[column]), int(self._col_edges[column + 1]))

  def _paint(self, row: int, column: int, colour) -> None:
    self._frame[self._row_slices[row], self._col_slices[column]] = colour

  def _render(self) -> np.ndarray:
    self._paint(self._rows - 1, self._paddle_col, self._paddle_colour)
    self._paint(self._ball_row, self._ball_col, self._ball_colour)
    return self._frame.copy()

  def reset(self) -> dm_env.TimeStep:
    self._frame[:] = 0
    self._ball_row = 0
    self._ball_col = int(self._rng.integers(self._columns))
    self._paddle_col = self._columns // 2
    self._reset_next_step = False
    return dm_env.TimeStep(dm_env.StepType.FIRST, None, None, self._render())

  def step(self, action) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    try:
      move = int(action.__index__()) - 1  # Rejects floats; accepts np ints.
    except (AttributeError, TypeError):
      move = None
    if move is None or not -1 <= move <= 1:
      raise ValueError(f"action must be an integer in [0, {NUM_ACTIONS}), "
                       f"got {action!r}.")
    # Erase the two blocks that may move, then advance the state.
    self._paint(self._ball_row, self._ball_col, 0)
    self._paint(self._rows - 1, self._paddle_col, 0)
    self._paddle_col = min(max(self._paddle_col + move, 0), self._columns - 1)
    self._ball_row += 1
    observation = self._render()
    if self._ball_row == self._rows - 1:
      self._reset_next_step = True
      caught = self._ball_col == self._paddle_col
      reward = np.float32(1.0 if caught else -1.0)
      return dm_env.TimeStep(dm_env.StepType.LAST, reward, np.float32(0.0),
                             observation)
    return dm_env.TimeStep(dm_env.StepType.MID, np.float32(0.0),
                           np.float32(1.0), observation)

  def observation_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((self._image_size, self._image_size, 3),
                              np.uint8, 0, 255, name="pixels")

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(NUM_ACTIONS, dtype=np.int32, name="action")

  def reward_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, -1.0, 1.0, name="reward")

  def discount_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")
