"""`import ftw` sets TensorFlow's process defaults before TensorFlow loads:
oneDNN kernels on (TensorFlow enables them by itself only on CPUs with
AVX512 VNNI/BF16 or AMX), unless the user chose otherwise. Each case runs
in a fresh interpreter: the setting acts only before TensorFlow's import."""

import os
import subprocess
import sys

import pytest

_PROBE = ("import os\n"
          "import ftw\n"
          "from tensorflow.python.util import _pywrap_util_port as port\n"
          "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], port.IsMklEnabled())\n")


def _probe(**env_vars):
  env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
  env.update(env_vars)
  out = subprocess.run([sys.executable, "-c", _PROBE], env=env, check=True,
                       capture_output=True, text=True, timeout=180).stdout
  return out.split()[-2:]


@pytest.mark.parametrize("user, expected", [
    (None, ["1", "True"]),  # Unset: ftw turns oneDNN on.
    ("0", ["0", "False"]),  # The user's choice wins.
])
def test_import_ftw_turns_onednn_on_unless_the_user_chose(user, expected):
  env_vars = {} if user is None else {"TF_ENABLE_ONEDNN_OPTS": user}
  assert _probe(**env_vars) == expected
