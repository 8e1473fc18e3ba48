"""Tests for the a^n b^n task and its launcher."""

import numpy as np
import pytest

from ftw.tasks import formal_language as anbn
from ftw.tasks import formal_language_training as training
from launch import formal_language as launcher


def test_anbn_sequence():
  np.testing.assert_array_equal(anbn.anbn_sequence(2), [0, 0, 1, 1, 2])
  with pytest.raises(ValueError, match="n must"):
    anbn.anbn_sequence(0)


def test_anbn_batch_layout():
  batch = anbn.anbn_batch([1, 3], length=7)
  # Column 1: a a a b b b | $ ; inputs and targets shifted by one.
  np.testing.assert_array_equal(batch.inputs[:, 1], [0, 0, 0, 1, 1, 1, 2])
  np.testing.assert_array_equal(batch.targets[:, 1], [0, 0, 1, 1, 1, 2, 2])
  np.testing.assert_array_equal(batch.mask[:, 1], [1, 1, 1, 1, 1, 1, 0])
  np.testing.assert_array_equal(batch.deterministic[:, 1],
                                [0, 0, 0, 1, 1, 1, 0])
  # Column 0: a b $ then padding.
  np.testing.assert_array_equal(batch.inputs[:, 0], [0, 1, 2, 2, 2, 2, 2])
  np.testing.assert_array_equal(batch.targets[:, 0], [1, 2, 2, 2, 2, 2, 2])
  np.testing.assert_array_equal(batch.deterministic[:, 0],
                                [0, 1, 0, 0, 0, 0, 0])
  np.testing.assert_array_equal(batch.n, [1, 3])
  assert batch.inputs.dtype == np.int32 and batch.mask.dtype == np.float32
  # Deterministic targets are exactly those read after a b: b's and the end.
  det = batch.deterministic.astype(bool)
  assert np.all(batch.inputs[det] == anbn.B)
  assert set(batch.targets[det]) == {anbn.B, anbn.END}


def test_sample_batch_shape_and_range():
  rng = np.random.default_rng(0)
  batch = anbn.sample_anbn_batch(rng, 64, 2, 5)
  assert batch.inputs.shape == (10, 64)
  assert batch.n.min() >= 2 and batch.n.max() <= 5
  np.testing.assert_array_equal(batch.mask.sum(0), 2 * batch.n)
  np.testing.assert_array_equal(batch.deterministic.sum(0), batch.n)


@pytest.mark.parametrize("call, match", [
    (lambda: anbn.anbn_batch([]), "ns"),
    (lambda: anbn.anbn_batch([3], length=5), "length"),
    (lambda: anbn.sample_anbn_batch(np.random.default_rng(0), 0, 1, 2),
     "batch_size"),
    (lambda: anbn.sample_anbn_batch(np.random.default_rng(0), 2, 3, 2),
     "min_n")])
def test_bad_args(call, match):
  with pytest.raises(ValueError, match=match):
    call()


def test_lstm_size_matches_parameter_count():
  for hidden in (5, 18, 40):
    params = 4 * hidden * hidden + 19 * hidden + 3
    assert training.lstm_hidden_size_for(params) == hidden


def test_launcher_main_runs_and_reports_accuracy(capsys):
  results = launcher.main([
      "--max_steps=3", "--max_seconds=3600", "--eval_every=2", "--batch_size=4",
      "--train_max_n=3", "--test_max_n=5", "--hidden_size=4", "--item_size=2"])
  assert set(results) == {"stack", "stack_hard", "lstm"}
  for r in results.values():
    assert r["steps"] == 3
    for bucket in ("train_range", "longer"):
      for key in ("step_accuracy", "sequence_accuracy"):
        assert 0.0 <= r[bucket][key] <= 1.0
  # The two models have about the same number of parameters.
  assert abs(results["stack"]["params"] - results["lstm"]["params"]) < 0.2 * (
      results["stack"]["params"])
  out = capsys.readouterr().out
  assert "[stack] step     2" in out and "det. step acc" in out
