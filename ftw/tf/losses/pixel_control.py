"""Pixel control auxiliary loss (Jaderberg et al. 2016, "UNREAL", section 3.1).

The frame is split into a grid of cells of `cell_size` x `cell_size` pixels;
the pseudo-reward of a cell is the mean absolute change of its pixels (over
all channels) between consecutive frames. A spatial Q-function
Q(x, a) [H', W', N] per step learns to maximise these rewards with n-step
Q-learning (lambda = 1) over the whole sequence, bootstrapped from
max_a Q(x_T, a) of the last step. FTW (Jaderberg et al. 2019) keeps it as an
auxiliary task on 84x84 frames cropped to their central 80x80 (20x20 cells).

Multi-discrete actions (G groups of A_1, ..., A_G actions): one spatial
Q-function per group, Q_g(x, a_g), the groups' Q-values concatenated along
the last axis [..., A_1 + ... + A_G]; each is trained on its own group's
action with the same pseudo-rewards and bootstrapped from its own max, and
the losses are summed (action branching, Tavakoli et al. 2018). The joint
action space would need A_1 * ... * A_G Q-values per cell.
"""

import collections
import functools
from typing import Optional, Sequence, Tuple, Union

import tensorflow as tf

from ftw.tf.losses import _checks
from ftw.tf.losses import returns as returns_lib

PixelControlOutput = collections.namedtuple(
    "PixelControlOutput", ["loss", "rewards", "targets", "td_errors"])

CropDim = Tuple[Optional[int], Optional[int]]


def pixel_control_rewards(observations: tf.Tensor, cell_size: int,
                          crop_height_dim: CropDim = (None, None),
                          crop_width_dim: CropDim = (None, None)
                          ) -> tf.Tensor:
  """Pseudo-rewards: mean absolute pixel change per cell between frames.

  The crop, the differences and the cell sums run as one XLA-compiled pass
  over the frames (`_cell_changes`). uint8 frames are differenced as int16
  (exact, no wrap-around), so their rewards are exact. For a learner's batch
  of Pong frames ([21, 32, 84, 84, 4] uint8, cropped to 80x80, 2-core Xeon
  with AMX) 6.6 ms, where the crop, uint8 max - min, a cast and an average
  pooling as separate ops took 33.1 ms (`bench/pixel_input.py`; converting,
  transposing and selecting float frames first, the learner before that,
  ~4x more).

  Args:
    observations: [T+1, B, H, W, C] frames (any numeric dtype; integers
      such as uint8 are converted to float32 without rescaling).
    cell_size: side of the square cells; must divide the cropped H and W.
    crop_height_dim: (start, stop) slice of the frame height taken first,
      e.g. (2, 82) for the central 80 rows of 84; (None, None) keeps all.
    crop_width_dim: (start, stop) slice of the frame width, likewise.

  Returns:
    [T, B, H_crop / cell_size, W_crop / cell_size] float rewards (float64
    for float64 frames, else float32), no gradient.

  Raises:
    ValueError: on a wrong rank, a bad crop, or a cropped frame size not
      divisible by cell_size.
  """
  observations = tf.convert_to_tensor(observations)
  if observations.dtype != tf.uint8:
    observations = _checks.to_float(observations, "observations")
  _checks.check_rank(observations, 5, "observations", "[T+1, B, H, W, C]")
  if not isinstance(cell_size, int) or cell_size < 1:
    raise ValueError(f"`cell_size` must be a positive int, got {cell_size!r}.")
  crops = []
  for axis, name, crop in ((2, "crop_height_dim", crop_height_dim),
                           (3, "crop_width_dim", crop_width_dim)):
    if not isinstance(crop, (tuple, list)) or len(crop) != 2 or not all(
        c is None or isinstance(c, int) for c in crop):
      raise ValueError(f"`{name}` must be a (start, stop) pair of ints or "
                       f"None, got {crop!r}.")
    size = observations.shape[axis]
    if size is not None:
      size = len(range(size)[slice(*crop)])
      if size == 0:
        raise ValueError(f"`{name}` {tuple(crop)} leaves an empty frame "
                         f"(observations {observations.shape}).")
      if size % cell_size:
        raise ValueError(
            f"`observations` {('height', 'width')[axis - 2]} {size} after "
            f"`{name}` {tuple(crop)} is not divisible by `cell_size` "
            f"{cell_size} (shape {observations.shape}).")
    crops.append(tuple(crop))
  return _cell_changes(tf.stop_gradient(observations), cell_size, *crops)


@functools.partial(tf.function, jit_compile=True, autograph=False)
def _cell_changes(observations: tf.Tensor, cell_size: int, rows: CropDim,
                  cols: CropDim) -> tf.Tensor:
  """[T+1, B, H, W, C] frames -> [T, B, H' / c, W' / c] mean |change| of
  the cropped frames (H', W') per cell of c x c pixels and all channels."""
  frames = observations[:, :, rows[0]:rows[1], cols[0]:cols[1], :]
  if frames.dtype == tf.uint8:
    frames = tf.cast(frames, tf.int16)
  change = tf.abs(frames[1:] - frames[:-1])  # [T, B, H', W', C]
  dtype = tf.float64 if change.dtype == tf.float64 else tf.float32
  change = tf.reduce_sum(tf.cast(change, dtype), axis=-1)
  # Shape inference keeps the sizes static where the frames' are.
  t, b, h, w = tf.unstack(tf.shape(change))
  cells = tf.reshape(change, [t, b, h // cell_size, cell_size,
                              w // cell_size, cell_size])
  per_cell = tf.cast(cell_size * cell_size * tf.shape(frames)[-1], dtype)
  return tf.reduce_sum(cells, axis=[3, 5]) / per_cell


def pixel_control_loss(observations: tf.Tensor,
                       actions: tf.Tensor,
                       action_values: tf.Tensor,
                       cell_size: int,
                       discount_factor: Union[float, tf.Tensor],
                       scale: float = 1.0,
                       crop_height_dim: CropDim = (None, None),
                       crop_width_dim: CropDim = (None, None),
                       action_sizes: Optional[Sequence[int]] = None
                       ) -> PixelControlOutput:
  """Per-sequence pixel control loss.

  Args:
    observations: [T+1, B, H, W, C] frames; the first T+1 frames of the
      sequence (frame t+1 is the result of action t).
    actions: [T, B] integer actions taken ([T, B, G] with `action_sizes`).
    action_values: [T+1, B, H', W', N] spatial Q-values Q(x_t, .) for every
      cell; step T provides only the bootstrap max_a Q(x_T, a). With
      `action_sizes`, N = A_1 + ... + A_G: the groups' Q-values concatenated.
    cell_size: side of the cells in pixels, (H_crop, W_crop) = cell_size *
      (H', W').
    discount_factor: scalar or [T, B] discount (0 where an episode ended).
    scale: multiplier of the loss.
    crop_height_dim: (start, stop) slice of the frame height taken before
      computing rewards, e.g. (2, 82) for the central 80 rows of 84.
    crop_width_dim: (start, stop) slice of the frame width, likewise.
    action_sizes: None for a single discrete action; [A_1, ..., A_G] for a
      multi-discrete one (one Q-function per group, losses summed).

  Returns:
    PixelControlOutput with `loss` [B] = scale * sum over time and cells (and
    groups) of 0.5 * td^2, plus `rewards` [T, B, H', W'], `targets`
    (stop-gradient) and `td_errors`, each [T, B, H', W'] ([T, B, H', W', G]
    with `action_sizes`). Gradient reaches only Q(x_t, a_t) for t < T.

  Raises:
    ValueError: on mismatched ranks or shapes (cropped frame vs cells vs
      action values), or bad crop dims.
  """
  observations = tf.convert_to_tensor(observations)
  _checks.check_rank(observations, 5, "observations", "[T+1, B, H, W, C]")
  if action_sizes is not None:
    action_sizes = _checks.check_action_sizes(action_sizes, "action_sizes")
  # The rewards check the crop (and the cell size against it).
  rewards = pixel_control_rewards(observations, cell_size, crop_height_dim,
                                  crop_width_dim)  # [T, B, H', W']
  # The Q-loss checks the rest; this error names the crop and cell size.
  action_values = _checks.to_float(action_values, "action_values")
  grid = rewards.shape.as_list()[2:4]
  num_values = None if action_sizes is None else sum(action_sizes)
  _checks.check_shape(action_values, observations.shape.as_list()[:2]
                      + grid + [num_values],
                      "action_values",
                      "[T+1, B, H_crop / cell_size, W_crop / cell_size, N] "
                      f"(observations {observations.shape} cropped to "
                      f"{tuple(crop_height_dim)} x {tuple(crop_width_dim)}, "
                      f"cell_size {cell_size}"
                      + ("" if action_sizes is None else
                         f", N = sum of action_sizes {action_sizes}") + ")")
  return pixel_control_q_loss(rewards, actions, action_values, discount_factor,
                              scale=scale, action_sizes=action_sizes)


def pixel_control_q_loss(rewards: tf.Tensor,
                         actions: tf.Tensor,
                         action_values: tf.Tensor,
                         discount_factor: Union[float, tf.Tensor],
                         scale: float = 1.0,
                         action_sizes: Optional[Sequence[int]] = None
                         ) -> PixelControlOutput:
  """The Q-learning half of `pixel_control_loss`, on given pseudo-rewards.

  For callers that make the rewards themselves (e.g. from uint8 frames, or
  zeroed where a frame is padding).

  Args:
    rewards: [T, B, H', W'] pseudo-rewards (`pixel_control_rewards`).
    actions: [T, B] integer actions taken ([T, B, G] with `action_sizes`).
    action_values: [T+1, B, H', W', N] spatial Q-values (see
      `pixel_control_loss`).
    discount_factor: scalar or [T, B] discount (0 where an episode ended).
    scale: multiplier of the loss.
    action_sizes: None for a single discrete action; [A_1, ..., A_G] for a
      multi-discrete one.

  Returns:
    PixelControlOutput, as `pixel_control_loss`.

  Raises:
    ValueError: on mismatched ranks or shapes.
  """
  rewards = _checks.to_float(rewards, "rewards")
  _checks.check_rank(rewards, 4, "rewards", "[T, B, H', W']")
  action_values = _checks.to_float(action_values, "action_values")
  _checks.check_rank(action_values, 5, "action_values", "[T+1, B, H', W', N]")
  actions = _checks.to_int(actions, "actions")
  steps, batch = rewards.shape[0], rewards.shape[1]
  steps_plus_one = None if steps is None else steps + 1
  num_values = None if action_sizes is None else sum(action_sizes)
  _checks.check_shape(action_values,
                      [steps_plus_one, batch] + rewards.shape[2:4].as_list()
                      + [num_values], "action_values",
                      f"[T+1, B, H', W', N] (rewards {rewards.shape}"
                      + ("" if action_sizes is None else
                         f", N = sum of action_sizes {action_sizes}") + ")")
  if action_sizes is None:
    _checks.check_shape(actions, [steps, batch], "actions", "[T, B]")
  else:
    action_sizes = _checks.check_action_sizes(action_sizes, "action_sizes")
    _checks.check_shape(actions, [steps, batch, len(action_sizes)], "actions",
                        f"[T, B, G] with G = {len(action_sizes)} action groups")

  discounts = _checks.to_float(discount_factor, "discount_factor", rewards.dtype)
  if discounts.shape.rank not in (None, 0):
    _checks.check_shape(discounts, [steps, batch], "discount_factor", "scalar or [T, B]")
    discounts = discounts[:, :, None, None]
  discounts = tf.broadcast_to(discounts, tf.shape(rewards))

  if action_sizes is None:
    targets, td_errors = _q_learning(action_values, actions, rewards, discounts)
    loss = scale * tf.reduce_sum(0.5 * tf.square(td_errors), axis=[0, 2, 3])
    return PixelControlOutput(loss=loss, rewards=rewards, targets=targets,
                              td_errors=td_errors)
  groups = [_q_learning(q, actions[..., g], rewards, discounts) for g, q in
            enumerate(tf.split(action_values, action_sizes, axis=-1))]
  targets = tf.stack([t for t, _ in groups], axis=-1)  # [T, B, H', W', G]
  td_errors = tf.stack([d for _, d in groups], axis=-1)
  loss = scale * tf.reduce_sum(0.5 * tf.square(td_errors), axis=[0, 2, 3, 4])
  return PixelControlOutput(loss=loss, rewards=rewards, targets=targets,
                            td_errors=td_errors)


def _q_learning(action_values, actions, rewards, discounts):
  """(targets, td_errors) [T, B, H', W'] of Q [T+1, B, H', W', N], a [T, B]."""
  num_actions = tf.shape(action_values)[-1]
  taken = tf.one_hot(actions, num_actions, dtype=action_values.dtype)
  # Step T only bootstraps: a zero row there, rather than slicing Q to its
  # first T steps, keeps the product's gradient dense (the slice's gradient
  # writes a zero-padded copy of all [T+1, B, H', W', N] values).
  taken = tf.pad(taken, [[0, 1], [0, 0], [0, 0]])[:, :, None, None, :]
  q_taken = tf.reduce_sum(action_values * taken, axis=-1)[:-1]  # [T, B, H', W']
  bootstrap = tf.reduce_max(tf.stop_gradient(action_values[-1]), axis=-1)
  # With lambda = 1 only the last bootstrap value enters the returns.
  bootstrap_values = tf.broadcast_to(bootstrap[None], tf.shape(rewards))
  targets = returns_lib.n_step_bootstrapped_returns(
      rewards, discounts, bootstrap_values, n=None, lambda_=1.0)
  return targets, targets - q_taken
