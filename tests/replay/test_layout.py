"""The replay layout module: extras in, item split out, nothing dropped."""

import numpy as np
import pytest
import tensorflow as tf

from ftw.replay import base
from ftw.replay import layout


def test_split_keeps_every_other_extra():
  extras = layout.actor_extras(np.zeros((2, 3)), ("h", "c"),
                               internal_reward=np.ones(2))
  step = base.Step(observation=1, action=2, reward=3, discount=4,
                   start_of_episode=5, extras=extras, mask=6)
  rest, state = layout.split_core_state(step)
  assert state == ("h", "c")
  assert set(rest.extras) == {layout.LOGITS_KEY, "internal_reward"}
  np.testing.assert_array_equal(rest.extras["internal_reward"], np.ones(2))
  assert rest.observation == 1 and rest.mask == 6


def test_reserved_keys_and_missing_state_are_errors():
  with pytest.raises(ValueError, match="reserved"):
    layout.actor_extras(1, 2, logits=3)
  step = base.Step(0, 0, 0, 0, 0, {layout.LOGITS_KEY: 1}, 0)
  with pytest.raises(ValueError, match="core_state"):
    layout.split_core_state(step)


def test_extras_spec_matches_actor_extras():
  spec = layout.extras_spec(6, (tf.TensorSpec([4]),))
  assert spec[layout.LOGITS_KEY] == tf.TensorSpec([6], tf.float32)
  assert set(spec) == {layout.LOGITS_KEY, layout.CORE_STATE_KEY}


def test_multi_discrete_logits_are_stored_concatenated():
  assert layout.num_logits(6) == 6 and layout.num_logits(np.int64(6)) == 6
  assert layout.num_logits([5, 3, 3]) == 11
  spec = layout.extras_spec((5, 3, 3), (tf.TensorSpec([4]),))
  assert spec[layout.LOGITS_KEY] == tf.TensorSpec([11], tf.float32)
  for bad in (0, [], [3, 0], "ab", 2.5):
    with pytest.raises(ValueError, match="num_actions"):
      layout.num_logits(bad)
