"""Action resolvers: turn a batch of action values into actions.

AgentNet's resolvers (`EpsilonGreedyResolver`, `ProbabilisticResolver`) as
TensorFlow 2 functions any actor can call inside its `tf.function`, plus the
exploration schedules that feed them:

  greedy(q_values)                      argmax per row;
  epsilon_greedy(q_values, epsilons)    a uniform random action with
                                        probability epsilon (per row), else
                                        the argmax;
  boltzmann(q_values, temperature)      samples softmax(q / temperature);
  probabilistic(probabilities)          samples given probabilities;
  apex_epsilons(n, epsilon, alpha)      Ape-X's per-actor epsilons,
                                        eps_i = eps^(1 + alpha * i / (n - 1));
  LinearSchedule(start, end, steps)     epsilon (or temperature) decayed
                                        linearly with the actor's steps.

Values are [B, A] (one row per environment); actions are int32 [B].
"""

from typing import Optional

import numpy as np
import tensorflow as tf

from ftw import checks


def _values(q_values, name: str = "q_values") -> tf.Tensor:
  q_values = tf.convert_to_tensor(q_values)
  if not q_values.dtype.is_floating:
    raise ValueError(f"`{name}` must be floating, got {q_values.dtype.name}.")
  if q_values.shape.rank is not None and q_values.shape.rank != 2:
    raise ValueError(f"`{name}` must have shape [B, A], got {q_values.shape}.")
  return q_values


def greedy(q_values) -> tf.Tensor:
  """int32 [B]: the action of highest value in each row of [B, A]."""
  return tf.argmax(_values(q_values), axis=-1, output_type=tf.int32)


def epsilon_greedy(q_values, epsilons,
                   generator: Optional[tf.random.Generator] = None
                   ) -> tf.Tensor:
  """int32 [B]: per row, a uniform random action with probability epsilon.

  Args:
    q_values: [B, A] action values.
    epsilons: a scalar or [B] exploration rates in [0, 1].
    generator: optional `tf.random.Generator` (reproducible draws); the
      global TensorFlow seed is used otherwise.
  """
  q_values = _values(q_values)
  epsilons = tf.cast(tf.convert_to_tensor(epsilons), q_values.dtype)
  if epsilons.shape.rank is not None and epsilons.shape.rank > 1:
    raise ValueError(f"`epsilons` must be a scalar or [B], got shape "
                     f"{epsilons.shape}.")
  shape = tf.shape(q_values)
  if generator is None:
    uniform = tf.random.uniform([shape[0]], dtype=q_values.dtype)
    random_actions = tf.random.uniform([shape[0]], 0, shape[1], tf.int32)
  else:
    uniform = generator.uniform([shape[0]], dtype=q_values.dtype)
    random_actions = generator.uniform([shape[0]], 0, shape[1], tf.int32)
  explore = uniform < tf.broadcast_to(epsilons, [shape[0]])
  return tf.where(explore, random_actions, greedy(q_values))


def probabilistic(probabilities) -> tf.Tensor:
  """int32 [B]: samples each row's action from probabilities [B, A]."""
  probabilities = _values(probabilities, "probabilities")
  logits = tf.math.log(tf.maximum(probabilities, 1e-30))
  return tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0]


def boltzmann(q_values, temperature) -> tf.Tensor:
  """int32 [B]: samples softmax(q_values / temperature) per row."""
  q_values = _values(q_values)
  temperature = tf.cast(temperature, q_values.dtype)
  return tf.random.categorical(q_values / temperature, 1,
                               dtype=tf.int32)[:, 0]


def apex_epsilons(num_actors: int, epsilon: float = 0.4,
                  alpha: float = 7.0) -> np.ndarray:
  """Ape-X's exploration rates: eps_i = eps^(1 + alpha * i / (N - 1)).

  Actor 0 explores with `epsilon`, actor N - 1 with epsilon^(1 + alpha);
  one actor gets `epsilon`. Returns float32 [N].
  """
  num_actors = checks.check_int("num_actors", num_actors, 1)
  if not 0.0 <= epsilon <= 1.0:
    raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
  if not alpha >= 0.0:
    raise ValueError(f"alpha must be >= 0, got {alpha!r}")
  if num_actors == 1:
    return np.array([epsilon], np.float32)
  exponents = 1.0 + alpha * np.arange(num_actors) / (num_actors - 1)
  return np.power(float(epsilon), exponents).astype(np.float32)


class LinearSchedule:
  """value(step): `start` at step 0, linearly to `end` at `steps`, then flat."""

  def __init__(self, start: float, end: float, steps: int):
    self.start = float(start)
    self.end = float(end)
    self.steps = checks.check_int("steps", steps, 1)

  def __call__(self, step) -> float:
    fraction = min(max(float(step), 0.0) / self.steps, 1.0)
    return self.start + fraction * (self.end - self.start)
