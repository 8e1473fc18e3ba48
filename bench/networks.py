"""Speed of the FTW network against a plain conv-LSTM baseline, same run.

Measures, each inside tf.function and after a warm-up:
  * one-step inference (`select_action`) at batch 1 and 16, in agent steps/s
    (calls/s x batch);
  * `unroll` forward + backward of a simple loss (sum of squared logits and
    values) at T=20, B=16, in samples/s (T x B per second).

FTW network: FtwTorso + OAREmbedding + RPTH (shared DNC memory) + policy/value
head, built by `make_ftw_network` with its defaults. Baseline: small
Atari-style conv torso (16x8x8/4, 32x4x4/2, linear 256) + snt.LSTM(256) +
linear policy and value heads, on the same OAR inputs.

Usage: .venv/bin/python bench/networks.py [--seconds 4]
"""

import ftw  # noqa: F401  (quiets TensorFlow's start-up log; import first)

import argparse
import time

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw.types import OAR
from ftw.tf.networks.factory import make_ftw_network
from ftw.tf.networks import unroll

NUM_ACTIONS = 6
OBS_SHAPE = (84, 84, 3)


class ConvLSTMBaseline(snt.RNNCore):
  """Small conv torso + LSTM(256) + linear heads, with FtwNetwork's methods."""

  def __init__(self, num_actions: int, name: str = 'conv_lstm_baseline'):
    super().__init__(name=name)
    self._num_actions = num_actions
    self._torso = snt.Sequential([
        lambda x: tf.cast(x, tf.float32) / 255.,
        snt.Conv2D(16, 8, stride=4, padding='VALID'), tf.nn.relu,
        snt.Conv2D(32, 4, stride=2, padding='VALID'), tf.nn.relu,
        snt.Flatten(), snt.Linear(256), tf.nn.relu])
    self._core = snt.LSTM(256)
    self._policy = snt.Linear(num_actions)
    self._value = snt.Linear(1)

  def _embed(self, inputs: OAR) -> tf.Tensor:
    return tf.concat([
        self._torso(inputs.observation),
        tf.one_hot(inputs.action, self._num_actions),
        tf.expand_dims(inputs.reward, -1)], axis=-1)

  def _heads(self, features):
    return self._policy(features), tf.squeeze(self._value(features), -1)

  def initial_state(self, batch_size: int, **kwargs):
    return self._core.initial_state(batch_size)

  def __call__(self, inputs: OAR, prev_state):
    features, state = self._core(self._embed(inputs), prev_state)
    return self._heads(features), state

  def select_action(self, inputs: OAR, state, greedy: bool = False):
    (logits, _), state = self(inputs, state)
    actions = tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0]
    return actions, logits, state

  def unroll(self, inputs: OAR, state):
    embeddings = snt.BatchApply(self._embed)(inputs)
    features, state = unroll.dynamic_unroll(self._core, embeddings, state)
    return snt.BatchApply(self._heads)(features), state


def _inputs(leading_shape, seed=0):
  rng = np.random.RandomState(seed)
  shape = tuple(leading_shape)
  return OAR(
      tf.constant(rng.randint(0, 256, shape + OBS_SHAPE), tf.uint8),
      tf.constant(rng.randint(0, NUM_ACTIONS, shape), tf.int32),
      tf.constant(rng.randn(*shape), tf.float32))


def _time(fn, seconds: float, warmup: int = 3) -> float:
  """Calls fn repeatedly for about `seconds`; returns calls per second."""
  for _ in range(warmup):
    fn()
  calls, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    fn()
    calls += 1
  return calls / (time.perf_counter() - start)


def bench_inference(net, batch_size: int, seconds: float) -> float:
  """Agent steps/s of select_action in tf.function, state fed back."""
  step = tf.function(net.select_action)
  inputs = _inputs([batch_size])
  state = [net.initial_state(batch_size)]

  def run():
    actions, _, state[0] = step(inputs, state[0])
    actions.numpy()  # Wait for the result, as an actor would.

  return _time(run, seconds) * batch_size


def _policy_value(output):
  """(logits, value) from either network's unroll output."""
  if isinstance(output, tuple) and hasattr(output, 'policy_logits'):
    return output.policy_logits, output.value
  return output


def bench_unroll(net, t: int, b: int, seconds: float) -> float:
  """Samples/s (T x B per second) of unroll forward + backward."""
  inputs = _inputs([t, b])
  state = net.initial_state(b)
  net.unroll(inputs, state)  # Create variables outside tf.function.
  variables = net.trainable_variables

  @tf.function
  def forward_backward():
    with tf.GradientTape() as tape:
      output, _ = net.unroll(inputs, state)
      logits, value = _policy_value(output)
      loss = tf.reduce_mean(logits ** 2) + tf.reduce_mean(value ** 2)
    grads = tape.gradient(loss, variables)
    return tf.add_n([tf.reduce_sum(g) for g in grads])

  return _time(lambda: forward_backward().numpy(), seconds) * t * b


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--seconds', type=float, default=4.0,
                      help='timing window per measurement')
  args = parser.parse_args()

  ftw_net = make_ftw_network(NUM_ACTIONS)
  baseline = ConvLSTMBaseline(NUM_ACTIONS)
  print(f'tf {tf.__version__}, intra-op threads '
        f'{tf.config.threading.get_intra_op_parallelism_threads() or "auto"}')
  print('FTW net: FtwTorso(256) + RPTH(period 10, hidden 256, z 256, DNC '
        '128x32, 1 read, 1 write) + heads 256')
  print('baseline: conv 16x8x8/4, 32x4x4/2, linear 256 + LSTM(256) + linear '
        'heads\n')
  print(f'{"measurement":<36}{"FTW":>12}{"baseline":>12}{"FTW/base":>10}')
  rows = [(f'select_action B={b} (steps/s)',
           lambda n, b=b: bench_inference(n, b, args.seconds))
          for b in (1, 16)]
  rows.append(('unroll fwd+bwd T=20 B=16 (samples/s)',
               lambda n: bench_unroll(n, 20, 16, args.seconds)))
  for label, measure in rows:
    ftw_rate, base_rate = measure(ftw_net), measure(baseline)
    print(f'{label:<36}{ftw_rate:>12.1f}{base_rate:>12.1f}'
          f'{ftw_rate / base_rate:>10.3f}', flush=True)


if __name__ == '__main__':
  main()
