"""Checkpointer keeps variables and Python state together."""

import pytest
import tensorflow as tf

from ftw.utils import checkpointing


def test_save_and_restore_variables_and_state(tmp_path):
  v = tf.Variable([1.0, 2.0])
  state = {"counts": {"learner_steps": 3}}
  ckpt = checkpointing.Checkpointer(str(tmp_path), {"v": v},
                                    get_state=lambda: state,
                                    save_every_seconds=3600)
  assert ckpt.save() is None  # Not due yet.
  assert ckpt.save(force=True) is not None
  v.assign([0.0, 0.0])
  restored = {}
  ckpt2 = checkpointing.Checkpointer(str(tmp_path), {"v": v},
                                     set_state=restored.update)
  assert ckpt2.restore()
  assert v.numpy().tolist() == [1.0, 2.0]
  assert restored == state


def test_restore_without_checkpoint_returns_false(tmp_path):
  ckpt = checkpointing.Checkpointer(str(tmp_path), {"v": tf.Variable(1.0)})
  assert not ckpt.restore()
  with pytest.raises(ValueError, match="save_every_seconds"):
    checkpointing.Checkpointer(str(tmp_path), {}, save_every_seconds=0)
