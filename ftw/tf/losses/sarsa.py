"""n-step SARSA loss (Rummery & Niranjan 1994; Sutton & Barto 2018, 7.2).

A time-major TensorFlow 2 version of AgentNet's
`agentnet.learning.sarsa.get_elementwise_objective`: the on-policy target
bootstraps from the Q-value of the action actually taken n ticks later,

    G_t = r_t + g_t r_{t+1} + ... + g_t ... g_{t+n-1} Q_target(x_{t+n}, a_{t+n}),
    loss_t = loss(G_t, Q(x_t, a_t)) * is_alive_t,

with the `is_alive` and last-tick conventions of `_td` (tick T-1 only
bootstraps and has loss 0; g_t = gamma_t * is_alive_{t+1}).
"""

import collections
from typing import Optional, Union

import tensorflow as tf

from ftw.tf.losses import _td

SarsaOutput = collections.namedtuple("SarsaOutput", ["loss", "targets", "action_values"])


def get_elementwise_objective(q_values: tf.Tensor,
                              actions: tf.Tensor,
                              rewards: tf.Tensor,
                              is_alive: Optional[tf.Tensor] = None,
                              q_values_target: Optional[tf.Tensor] = None,
                              n_steps: Optional[int] = 1,
                              gamma_or_gammas: Union[float, tf.Tensor] = 0.99,
                              loss_function: _td.LossFunction = "squared",
                              huber_delta: float = 1.0) -> SarsaOutput:
  """Elementwise n-step SARSA loss.

  Args:
    q_values: [T, B, A] learned Q(x_t, .).
    actions: [T, B] integer actions taken (also the bootstrap actions).
    rewards: [T, B] rewards after the action at tick t.
    is_alive: [T, B] 1 while the episode runs, 0 after; None = always.
    q_values_target: [T, B, A] target-network Q-values for the bootstrap;
      defaults to `q_values` (without gradient).
    n_steps: steps before bootstrapping; None for the whole sequence.
    gamma_or_gammas: discount, a scalar or a tensor that broadcasts to [T, B].
    loss_function: "squared" (0.5 x^2), "huber" or a callable
      f(targets, predictions).
    huber_delta: threshold of the Huber loss.

  Returns:
    SarsaOutput(loss [T, B], targets [T, B] stop-gradient,
    action_values [T, B] = Q(x_t, a_t), differentiable).

  Raises:
    ValueError: on mismatched ranks or shapes.
  """
  q_values, actions, rewards, q_values_target = _td.check_q_inputs(
      q_values, actions, rewards, q_values_target)

  state_values = _td.select(tf.stop_gradient(q_values_target), actions)
  alive = _td.alive_mask(is_alive, rewards)
  gammas = _td.gammas(gamma_or_gammas, rewards)
  targets, mask = _td.sequence_targets(rewards, gammas, alive, state_values,
                                       None, n_steps)
  action_values = _td.select(q_values, actions)
  loss = _td.elementwise_loss(targets, action_values, loss_function, huber_delta) * mask
  return SarsaOutput(loss=loss, targets=targets, action_values=action_values)
