"""n-step Q-learning loss, optionally double Q-learning.

Watkins 1989; n-step form as in Mnih et al. 2016; double Q-learning from
van Hasselt et al. 2016. A time-major TensorFlow 2 version of AgentNet's
`agentnet.learning.qlearning.get_elementwise_objective`:

    G_t = r_t + g_t r_{t+1} + ... + g_t ... g_{t+n-1} V(x_{t+n}),
    V(x) = max_a Q_target(x, a)                          (plain)
    V(x) = Q_target(x, argmax_a Q(x, a))                 (double_q)
    loss_t = loss(G_t, Q(x_t, a_t)) * is_alive_t

with the `is_alive` and last-tick conventions of `_td`: tick T-1 only
bootstraps and has loss 0; g_t = gamma_t * is_alive_{t+1}. Every tick gets a
sliding-window n-step target (truncated at the end of the sequence).
"""

import collections
from typing import Optional, Union

import tensorflow as tf

from ftw.tf.losses import _td

QLearningOutput = collections.namedtuple(
    "QLearningOutput", ["loss", "targets", "action_values"])


def get_elementwise_objective(q_values: tf.Tensor,
                              actions: tf.Tensor,
                              rewards: tf.Tensor,
                              is_alive: Optional[tf.Tensor] = None,
                              q_values_target: Optional[tf.Tensor] = None,
                              double_q: bool = False,
                              n_steps: Optional[int] = 1,
                              gamma_or_gammas: Union[float, tf.Tensor] = 0.99,
                              loss_function: _td.LossFunction = "squared",
                              huber_delta: float = 1.0) -> QLearningOutput:
  """Elementwise n-step Q-learning loss.

  Args:
    q_values: [T, B, A] learned Q(x_t, .).
    actions: [T, B] integer actions taken.
    rewards: [T, B] rewards after the action at tick t.
    is_alive: [T, B] 1 while the episode runs, 0 after; None = always.
    q_values_target: [T, B, A] Q-values of a target network used for the
      bootstrap values; defaults to `q_values` (without gradient).
    double_q: pick the bootstrap action with the online `q_values` and
      evaluate it with `q_values_target`.
    n_steps: steps before bootstrapping; None for the whole sequence.
    gamma_or_gammas: discount, a scalar or a tensor that broadcasts to [T, B].
    loss_function: "squared" (0.5 x^2), "huber" or a callable
      f(targets, predictions) (AgentNet's loss_function convention).
    huber_delta: threshold of the Huber loss.

  Returns:
    QLearningOutput(loss [T, B], targets [T, B], action_values [T, B]):
    `action_values` are Q(x_t, a_t) (differentiable), `targets` G_t
    (stop-gradient). Gradient reaches only the taken actions' Q-values of
    ticks 0..T-2 (and of no dead tick).

  Raises:
    ValueError: on mismatched ranks or shapes.
  """
  q_values, actions, rewards, q_values_target = _td.check_q_inputs(
      q_values, actions, rewards, q_values_target)
  q_values_target = tf.stop_gradient(q_values_target)

  if double_q:
    best = tf.argmax(tf.stop_gradient(q_values), axis=-1, output_type=tf.int32)
    state_values = _td.select(q_values_target, best)
  else:
    state_values = tf.reduce_max(q_values_target, axis=-1)

  alive = _td.alive_mask(is_alive, rewards)
  gammas = _td.gammas(gamma_or_gammas, rewards)
  targets, mask = _td.sequence_targets(rewards, gammas, alive, state_values,
                                       None, n_steps)
  action_values = _td.select(q_values, actions)
  loss = _td.elementwise_loss(targets, action_values, loss_function, huber_delta) * mask
  return QLearningOutput(loss=loss, targets=targets, action_values=action_values)
