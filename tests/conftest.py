"""Test-wide settings: quiet TensorFlow, CPU threads kept small."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


@pytest.fixture(autouse=True)
def _root_name_scope():
  """Every test starts at TensorFlow's root name scope.

  A full `make test` on a fresh clone once left the eager name scope at
  'simple_ftw_network/' after some earlier test (not yet found: each test
  file alone leaves it empty), which prefixed later variables and summary
  tags. Resetting it keeps tests independent of that leak.
  """
  from tensorflow.python.eager import context  # pylint: disable=g-import-not-at-top
  ctx = context.context()
  ctx.scope_name = ""
  yield
  ctx.scope_name = ""
