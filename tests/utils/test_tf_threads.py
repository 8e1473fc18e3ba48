"""set_tensorflow_threads: sizes the pools before the first op, says when it
cannot, and the running configs check the fields it reads."""

import logging
import subprocess
import sys

import pytest
import tensorflow as tf

from agents.dpg.config import DPGConfig
from agents.ftw.config import FtwConfig
from agents.r2d2.config import R2D2Config
from ftw.utils import tf_threads

_FRESH_PROCESS = """
import tensorflow as tf
from ftw.utils import tf_threads
assert tf_threads.set_tensorflow_threads(1, 3, "test")
x = tf.constant(2.0) * 3.0  # The first op: the pools now exist.
assert float(x) == 6.0
print(tf.config.threading.get_intra_op_parallelism_threads(),
      tf.config.threading.get_inter_op_parallelism_threads())
assert tf_threads.set_tensorflow_threads(1, 3)  # The same sizes again: fine.
assert tf_threads.set_tensorflow_threads(0, 0)  # Defaults: nothing to change.
assert not tf_threads.set_tensorflow_threads(2, 3)  # Too late to change.
"""


def test_a_fresh_process_gets_the_requested_pools():
  result = subprocess.run([sys.executable, "-c", _FRESH_PROCESS],
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.split() == ["1", "3"]
  assert "test: could not" not in result.stderr  # Only the late call warns.
  assert "could not set intra_op_threads=2, inter_op_threads=3" in (
      result.stderr)


def test_too_late_warns_naming_the_request_and_keeps_the_pools(caplog):
  float(tf.constant(1.0) + 1.0)  # This process has run ops.
  before = (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())
  wanted = before[0] + 1
  with caplog.at_level(logging.WARNING, logger="ftw.tf_threads"):
    assert not tf_threads.set_tensorflow_threads(wanted, 0, "launch.local")
  assert f"launch.local: could not set intra_op_threads={wanted}" in (
      caplog.text)
  assert (tf.config.threading.get_intra_op_parallelism_threads(),
          tf.config.threading.get_inter_op_parallelism_threads()) == before
  assert tf_threads.set_tensorflow_threads(*before)  # What it has: fine.


@pytest.mark.parametrize("intra, inter, name", [
    (-1, 0, "intra_op_threads"), (0, -2, "inter_op_threads"),
    (1.5, 0, "intra_op_threads"), (0, True, "inter_op_threads")])
def test_bad_sizes_name_the_argument(intra, inter, name):
  with pytest.raises(ValueError, match=f"{name} must be an int >= 0"):
    tf_threads.set_tensorflow_threads(intra, inter)


@pytest.mark.parametrize("config_class", [FtwConfig, R2D2Config, DPGConfig])
def test_every_agent_config_checks_the_thread_fields(config_class):
  assert config_class().intra_op_threads == 0  # TensorFlow's default.
  assert config_class(intra_op_threads=1, inter_op_threads=3).inter_op_threads == 3
  with pytest.raises(ValueError, match="intra_op_threads must be an int >= 0"):
    config_class(intra_op_threads=-1)
  with pytest.raises(ValueError, match="inter_op_threads must be an int >= 0"):
    config_class(inter_op_threads="2")
