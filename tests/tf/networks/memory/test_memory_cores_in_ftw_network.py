"""The memory cores as the core of FtwNetwork, in place of RPTH."""

import numpy as np
import pytest
import tensorflow as tf

from ftw.types import OAR
from ftw.tf.networks.embedding import OAREmbedding
from ftw.tf.networks.ftw_network import FtwNetwork
from ftw.tf.networks.memory import (AdditiveAttention, CounterCore, StackRNN,
                                    WindowAttentionCore, WindowCore)
from ftw.tf.networks.vision import FtwTorso

A, T, B, H = 3, 3, 2, 8  # actions, time, batch, torso size
D = H + A + 1  # embedding: torso features, one-hot action, reward

CORES = {
    "stack_rnn": (lambda: StackRNN(6, stack_depth=4, item_size=2), 8),
    "window": (lambda: WindowCore(2, D, flatten_output=True), 2 * D),
    "window_attention": (
        lambda: WindowAttentionCore(3, 4, AdditiveAttention(5)), 8),
    "counter": (lambda: CounterCore(4, concat_inputs=True), D + 5),
}


@pytest.mark.parametrize("name", sorted(CORES))
def test_memory_core_in_ftw_network(name):
  make_core, feature_size = CORES[name]
  torso = FtwTorso(conv_filters=((4, 3, 2),), residual_filters=((4, 3, 1),),
                   hidden_size=H)
  net = FtwNetwork(OAREmbedding(torso, A), make_core(), A, head_hidden_size=8,
                   pixel_control=False, reward_prediction=False)
  rng = np.random.RandomState(0)
  inputs = OAR(tf.constant(rng.randint(0, 256, [T, B, 12, 12, 3]), tf.uint8),
               tf.constant(rng.randint(0, A, [T, B]), tf.int32),
               tf.constant(rng.randn(T, B), tf.float32))
  with tf.GradientTape() as tape:
    output, final_state = net.unroll(inputs, net.initial_state(B))
    loss = tf.reduce_sum(output.value) + tf.reduce_sum(output.policy_logits)
  assert output.policy_logits.shape == [T, B, A]
  assert output.features.shape == [T, B, feature_size]
  core_variables = {id(v) for v in net.core.trainable_variables}
  grads = tape.gradient(loss, net.trainable_variables)
  for var, grad in zip(net.trainable_variables, grads):
    if id(var) in core_variables:
      assert grad is not None and np.abs(grad.numpy()).sum() > 0, var.name
  # Stepping one step at a time gives the unroll's result.
  state = net.initial_state(B)
  for t in range(T):
    step_output, state = net(OAR(*(x[t] for x in inputs)), state)
    np.testing.assert_allclose(step_output.policy_logits,
                               output.policy_logits[t], atol=1e-5)
  tf.nest.map_structure(
      lambda u, s: np.testing.assert_allclose(u, s, atol=1e-5), final_state,
      state)
