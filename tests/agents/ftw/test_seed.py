"""`seed` seeds network initialisation, RPTH's noise, environments and
sampling: the same config and seed give the same initial weights and the
same first learner losses in launch.local; another seed gives others.

What stays nondeterministic: after the first learner step, when the actor
picks up new weights depends on thread timing (the learner runs in its own
thread), so later items and losses may differ between runs.
"""

import csv
import os

import numpy as np
import tensorflow as tf

from agents.ftw.builder import FtwBuilder
from agents.ftw.config import FtwConfig
from launch import local

# RPTH without its DNC memory: the memory draws no random numbers, and its
# ops are most of a learner's trace (~7 s of ~10 s per run on 2 cores).
_SMALL = [
    "num_envs=4", "torso_hidden_size=32", "hidden_size=16",
    "num_dimensions=8", "rpth_period=2", "memory_size=None",
    "head_hidden_size=16", "batch_size=4", "queue_size=8",
    "reward_prediction_batch_size=4", "eval_episodes=2",
    "eval_every_seconds=3600", "variable_update_period=2",
    "--max_learner_steps=1",
]
_LOSSES = ("policy_loss", "baseline_loss", "entropy_loss", "kl_loss",
           "pixel_control_loss")


def _weights(seed):
  builder = FtwBuilder(FtwConfig(environment="catch", hidden_size=8,
                                 num_dimensions=4, memory_size=4,
                                 word_size=3, seed=seed))
  return [v.numpy() for v in builder.make_network().variables]


def test_same_seed_same_initial_weights():
  first, again, other = _weights(3), _weights(3), _weights(4)
  for a, b in zip(first, again):
    np.testing.assert_array_equal(a, b)
  assert any(not np.array_equal(a, b) for a, b in zip(first, other)
             if a.size > 1)


def test_specs_and_datasets_leave_the_process_seed_alone():
  # A learner's dataset is made at its first step and asks for the core
  # state spec; setting TF's global seed there would make every learner
  # already traced in the process instantiate its step again (a stall of
  # seconds, seen in bench/learner.py).
  tf.random.set_seed(11)
  before = tf.compat.v1.random.get_seed(None)[0]
  builder = FtwBuilder(FtwConfig(environment="catch", hidden_size=8,
                                 num_dimensions=4, memory_size=4,
                                 word_size=3, seed=2))
  builder.core_state_spec()
  builder.sequence_signature()
  assert tf.compat.v1.random.get_seed(None)[0] == before == 11


def _first_losses(tmp_path, name, seed):
  logdir = str(tmp_path / name)
  local.main(["--config=configs/catch.py", f"--logdir={logdir}",
              f"--seed={seed}", *_SMALL])
  with open(os.path.join(logdir, "learner", "logs.csv"), newline="") as f:
    row = next(csv.DictReader(f))
  return np.array([float(row[k]) for k in _LOSSES])


def test_same_seed_same_first_learner_losses(tmp_path):
  first = _first_losses(tmp_path, "a", 5)
  again = _first_losses(tmp_path, "b", 5)
  np.testing.assert_allclose(again, first, rtol=1e-5, atol=1e-7)
  assert np.all(first != 0)  # Real losses (another seed: other weights).
