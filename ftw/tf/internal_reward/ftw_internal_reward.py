"""Internal rewards of the FTW agent (Jaderberg et al. 2019).

FTW does not train on the game's win/loss signal directly. Each agent owns a
vector of weights w that maps the game-point events it observes at a step
(flag captured, flag picked up, opponent tagged, ...) to a scalar internal
reward r_int = w . rho. The weights are not learned by gradient descent; they
are evolved by population based training (PBT), which copies and perturbs them
between agents. This module holds those weights as a tf.Variable so that they
are saved in checkpoints, can be read inside tf.function, and can be replaced
in place by PBT (see `assign`) without re-tracing anything.

A scalar weight is also supported: it then simply scales the reward (scalar or
vector) element-wise.
"""

from typing import Optional, Sequence, Union

import numpy as np
import sonnet as snt
import tensorflow as tf

WeightsLike = Union[float, Sequence[float], np.ndarray]


def _as_weights_array(weights: WeightsLike, argname: str) -> np.ndarray:
  """Converts `weights` to a float32 array of rank 0 or 1, or raises."""
  try:
    array = np.asarray(weights, dtype=np.float32)
  except (TypeError, ValueError) as e:
    raise ValueError(
        f'{argname} must be a float or a sequence of floats, got {weights!r}.'
    ) from e
  if array.ndim > 1:
    raise ValueError(
        f'{argname} must be a float or a 1-D sequence of floats, got shape '
        f'{array.shape}.')
  if array.ndim == 1 and array.shape[0] == 0:
    raise ValueError(f'{argname} must not be empty.')
  if not np.all(np.isfinite(array)):
    raise ValueError(f'{argname} must be finite, got {array}.')
  return array


# Weights are non-trainable by default; asking for trainable_variables then
# must give an empty tuple rather than Sonnet's "no variables yet" error.
@snt.allow_empty_variables
class InternalRewards(snt.Module):
  """Weights mapping game-point events to a scalar internal reward.

  Shapes:
    weights: [] (scalar) or [R] (one weight per game-point event).
    __call__(rewards):
      scalar weights: rewards [B] or [B, R'] -> rewards * w, same shape.
      vector weights: rewards [B, R] -> rewards . w, shape [B].
  """

  def __init__(self,
               initial_weights: WeightsLike,
               trainable: bool = False,
               name: str = 'internal_rewards'):
    """Initializes the InternalRewards module.

    Args:
      initial_weights: Initial weight(s): a float, or a sequence of R floats
        (one per game-point event).
      trainable: Whether the weights are a trainable variable. FTW evolves
        them with PBT rather than gradients, hence the default False.
      name: Name for the module.

    Raises:
      ValueError: If `initial_weights` is not a finite float or non-empty 1-D
        sequence of finite floats, or `trainable` is not a bool.
    """
    super().__init__(name=name)
    array = _as_weights_array(initial_weights, 'initial_weights')
    if not isinstance(trainable, bool):
      raise ValueError(f'trainable must be a bool, got {trainable!r}.')
    self._weights = tf.Variable(array, trainable=trainable, name='weights')

  @property
  def weights(self) -> tf.Variable:
    """The weight variable, shape [] or [R]."""
    return self._weights

  @property
  def num_rewards(self) -> Optional[int]:
    """R for a weight vector, None for a scalar weight."""
    shape = self._weights.shape
    return None if shape.rank == 0 else int(shape[0])

  @property
  def is_scalar(self) -> bool:
    return self._weights.shape.rank == 0

  def assign(self, new_weights: WeightsLike) -> None:
    """Replaces the weights in place (e.g. after a PBT exploit/explore step).

    Args:
      new_weights: Weights with the same shape as the current ones.

    Raises:
      ValueError: If the shape differs from the current weights' shape.
    """
    array = _as_weights_array(new_weights, 'new_weights')
    if array.shape != tuple(self._weights.shape):
      raise ValueError(
          f'new_weights must have shape {tuple(self._weights.shape)}, got '
          f'{array.shape}.')
    self._weights.assign(array)

  def __call__(self, rewards: tf.Tensor) -> tf.Tensor:
    """Computes the internal reward.

    Args:
      rewards: float [B] or [B, R] (any leading dims for a vector weight).

    Returns:
      For scalar weights: rewards * w (same shape as `rewards`).
      For a weight vector of size R: sum_i rewards[..., i] * w[i], shape [...].

    Raises:
      ValueError: For a weight vector when `rewards` is a scalar per batch
        element (rank < 2) or its last dimension is not R.
    """
    rewards = tf.convert_to_tensor(rewards)
    if not rewards.dtype.is_floating:
      rewards = tf.cast(rewards, tf.float32)
    weights = tf.cast(self._weights, rewards.dtype)
    if self.is_scalar:
      return rewards * weights
    num_rewards = self.num_rewards
    if rewards.shape.rank is None or rewards.shape.rank < 2:
      raise ValueError(
          f'rewards must have shape [B, {num_rewards}] for a vector of '
          f'{num_rewards} internal reward weights, got {rewards.shape}. A '
          'scalar reward with a weight vector is not supported.')
    if rewards.shape[-1] != num_rewards:
      raise ValueError(
          f'rewards must have last dimension {num_rewards} (the number of '
          f'internal reward weights), got shape {rewards.shape}.')
    return tf.reduce_sum(rewards * weights, axis=-1)
