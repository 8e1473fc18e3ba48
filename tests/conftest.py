"""Test-wide settings: ftw's TensorFlow defaults (quiet log, oneDNN), no GPU."""

import os

import ftw  # noqa: F401  (first, as every launcher: TensorFlow's defaults)
import pytest

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


@pytest.fixture(autouse=True)
def _root_name_scope():
  """Fails the test that leaves TensorFlow's eager name scope non-empty.

  A leaked scope prefixes every later variable and summary tag, far from
  its cause. One leak is known: an actor thread reading the learner
  network's variables while the learner thread traced its step (see
  `ftw.variable_utils.unscoped_variables`) left the main thread at
  'simple_ftw_network/'. The scope is reset either way so later tests start
  clean; only the leaking test fails.
  """
  from tensorflow.python.eager import context  # pylint: disable=g-import-not-at-top
  ctx = context.context()
  before = ctx.scope_name
  ctx.scope_name = ""
  if before:
    pytest.fail(f"TensorFlow's eager name scope was {before!r} before this "
                "test started: leaked at import, collection or by a wider "
                "fixture", pytrace=False)
  yield
  leaked = ctx.scope_name
  ctx.scope_name = ""
  if leaked:
    pytest.fail(f"this test left TensorFlow's eager name scope at {leaked!r} "
                "(a name scope entered and not exited, e.g. by two threads "
                "sharing a module's scope)", pytrace=False)
