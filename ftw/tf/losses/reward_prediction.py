"""Reward prediction auxiliary loss (Jaderberg et al. 2016, "UNREAL", 3.2).

A classifier predicts from a short history of frames whether the next
reward is zero, negative or positive. The class order matches
`ftw.tf.networks.auxiliary.RewardPrediction`: 0 zero, 1 negative, 2 positive.
"""

import tensorflow as tf

from ftw.tf.losses import _checks

NUM_CLASSES = 3
ZERO, NEGATIVE, POSITIVE = 0, 1, 2


def reward_to_class(rewards: tf.Tensor) -> tf.Tensor:
  """Maps rewards (any shape) to int32 classes: 0 zero, 1 negative, 2 positive."""
  rewards = _checks.to_float(rewards, "rewards")
  zeros = tf.zeros_like(rewards, dtype=tf.int32)
  classes = tf.where(rewards < 0, zeros + NEGATIVE, zeros + ZERO)
  return tf.where(rewards > 0, zeros + POSITIVE, classes)


def reward_prediction_loss(logits: tf.Tensor, rewards: tf.Tensor) -> tf.Tensor:
  """Cross-entropy of the predicted reward class.

  Args:
    logits: [B, 3] class logits (zero, negative, positive).
    rewards: [B] observed rewards; their classes are the labels.

  Returns:
    [B] cross-entropy losses, differentiable in `logits` only.

  Raises:
    ValueError: on a wrong rank or mismatched batch sizes.
  """
  logits = _checks.to_float(logits, "logits")
  _checks.check_shape(logits, [None, NUM_CLASSES], "logits", "[B, 3]")
  rewards = tf.convert_to_tensor(rewards)
  _checks.check_shape(rewards, [logits.shape[0] if logits.shape.rank else None],
                      "rewards", "[B] matching `logits`")
  labels = tf.stop_gradient(reward_to_class(rewards))
  return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
