"""Tests for ftw.envs.process_vector_env: real worker processes."""

import functools
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tree

from ftw.envs.catch import Catch
from ftw.envs.oar_wrapper import make_oar_environment
from ftw.envs.process_vector_env import ProcessVectorEnv
from ftw.envs.vector_env import VectorEnv

# rows=3 ends every 2 steps, rows=4 every 3: resets at different steps.
_ROWS = (3, 4, 3, 4, 3)


def _factories():
  return [functools.partial(make_oar_environment, "catch", seed,
                            {"rows": rows})
          for seed, rows in enumerate(_ROWS)]


def _failing_factory():
  raise ValueError("no such arena")


def _assert_same(a, b):
  flat_a, flat_b = tree.flatten(a), tree.flatten(b)
  assert len(flat_a) == len(flat_b)
  for x, y in zip(flat_a, flat_b):
    assert np.asarray(x).dtype == np.asarray(y).dtype
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("num_processes", [1, 2, 5])
def test_batches_equal_an_in_thread_vector_env(num_processes):
  local = VectorEnv(_factories())
  with ProcessVectorEnv(_factories(), num_processes) as remote:
    assert remote.num_envs == 5 and remote.num_processes == num_processes
    for spec in ("observation_spec", "action_spec", "reward_spec",
                 "discount_spec"):
      assert getattr(remote, spec)() == getattr(local, spec)()
    _assert_same(remote.reset(), local.reset())
    rng = np.random.default_rng(0)
    step_types = []
    for _ in range(12):  # Several automatic resets per environment.
      actions = rng.integers(0, 3, size=5).astype(np.int32)
      batch = remote.step(actions)
      _assert_same(batch, local.step(actions))
      step_types.append(batch.step_type.tolist())
  assert [t[0] for t in step_types[:4]] == [1, 2, 0, 1]  # MID, LAST, FIRST
  assert [t[1] for t in step_types[:4]] == [1, 1, 2, 0]


def test_bad_arguments_name_what_is_expected():
  with pytest.raises(ValueError, match="num_processes must be an int in "
                     r"\[1, 5\]"):
    ProcessVectorEnv(_factories(), 6)
  with pytest.raises(ValueError, match="num_processes"):
    ProcessVectorEnv(_factories(), 0)
  with pytest.raises(ValueError, match="num_processes"):
    ProcessVectorEnv(_factories(), True)
  with pytest.raises(ValueError, match="factories must be a non-empty"):
    ProcessVectorEnv([], 1)
  with pytest.raises(ValueError, match=r"factories\[1\] must be a callable"):
    ProcessVectorEnv([_factories()[0], Catch()], 1)
  with ProcessVectorEnv(_factories(), 2) as env:
    env.reset()
    with pytest.raises(ValueError, match=r"actions must have shape \(5,\)"):
      env.step(np.zeros([4], np.int32))
  with pytest.raises(RuntimeError, match="closed"):
    env.step(np.zeros([5], np.int32))
  env.close()  # Closing twice is fine.


def test_a_lambda_factory_is_refused_as_unpicklable():
  with pytest.raises(ValueError, match="picklable"):
    ProcessVectorEnv([lambda: Catch(seed=0)], 1)


def test_a_failing_factory_raises_its_error_in_the_parent():
  with pytest.raises(RuntimeError, match="no such arena"):
    ProcessVectorEnv([_factories()[0], _failing_factory], 2)


def test_an_environment_error_is_raised_and_the_worker_keeps_serving():
  with ProcessVectorEnv(_factories(), 2) as env:
    env.reset()
    with pytest.raises(RuntimeError, match="action must be an integer"):
      env.step(np.array([0, 0, 0, 0, 7], np.int32))
    # The worker that raised still answers (its other environments stepped).
    assert env.step(np.zeros([5], np.int32)).step_type.shape == (5,)


def test_a_dead_worker_is_reported_not_waited_for():
  env = ProcessVectorEnv(_factories(), 2)
  env.reset()
  os.kill(env._processes[1].pid, signal.SIGKILL)
  env._processes[1].join(10)
  start = time.monotonic()
  with pytest.raises(RuntimeError, match="worker 1 .* died with exit code -9"):
    env.step(np.zeros([5], np.int32))
  assert time.monotonic() - start < 10  # Not a hang (the poll is 1 s).
  env.close()


_PARENT = """
import functools, os, sys
from ftw.envs.oar_wrapper import make_oar_environment
from ftw.envs.process_vector_env import ProcessVectorEnv
if __name__ == "__main__":
  env = ProcessVectorEnv([functools.partial(make_oar_environment, "catch", s)
                          for s in range(2)], 2)
  env.reset()
  print(" ".join(str(p.pid) for p in env._processes), flush=True)
  sys.stdin.readline()  # Killed while waiting here.
"""


def _alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  with open(f"/proc/{pid}/stat") as f:  # A zombie has exited.
    return f.read().split(")")[-1].split()[0] != "Z"


def test_workers_exit_when_their_parent_is_killed(tmp_path):
  script = tmp_path / "parent.py"
  script.write_text(_PARENT)
  root = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  parent = subprocess.Popen([sys.executable, str(script)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": root})
  try:
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    parent.kill()
    parent.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
      time.sleep(0.1)
    assert not any(_alive(p) for p in pids)
  finally:
    parent.kill()


@pytest.mark.parametrize("name,oar", [("catch", True),
                                      ("gym:Pendulum-v1", False)])
def test_make_vector_environment_in_processes_matches_in_thread(name, oar):
  # pylint: disable=g-import-not-at-top
  from ftw import envs
  # pylint: enable=g-import-not-at-top
  make = (functools.partial(make_oar_environment, name) if oar else
          functools.partial(envs.make_environment, name))
  in_thread = envs.make_vector_environment(make, 7, 3)
  assert isinstance(in_thread, VectorEnv)
  with envs.make_vector_environment(make, 7, 3, processes=5) as workers:
    assert workers.num_processes == 3  # Capped at num_envs.
    assert workers.action_spec() == in_thread.action_spec()
    _assert_same(workers.reset(), in_thread.reset())
    spec = in_thread.action_spec()
    for step in range(5):
      actions = np.full((3,) + spec.shape, step % 2, spec.dtype)
      _assert_same(workers.step(actions), in_thread.step(actions))
  with pytest.raises(ValueError, match="processes must be an int >= 0"):
    envs.make_vector_environment(make, 7, 3, processes=-1)


@pytest.mark.parametrize("agent", ["r2d2", "dpg"])
def test_replay_agents_take_env_processes(agent):
  # pylint: disable=g-import-not-at-top
  if agent == "r2d2":
    from agents.r2d2.builder import R2D2Builder as Builder
    from agents.r2d2.config import R2D2Config as Config
  else:
    from agents.dpg.builder import DPGBuilder as Builder
    from agents.dpg.config import DPGConfig as Config
  # pylint: enable=g-import-not-at-top
  with pytest.raises(ValueError, match=r"env_processes must be an int in "
                     r"\[0, num_envs=2\]"):
    Config(num_envs=2, env_processes=3)
  builder = Builder(Config(num_envs=2, env_processes=2))
  with builder.make_environment(seed=0) as env:
    assert isinstance(env, ProcessVectorEnv) and env.num_processes == 2
  assert isinstance(builder.make_environment(seed=0, processes=0), VectorEnv)


def test_close_ends_workers_interrupted_mid_step():
  # A caller interrupted inside `step` (Ctrl-C) leaves replies unread; a
  # worker blocked sending a large one would never read "close", so such
  # workers are terminated. Others close their environments and exit 0.
  env = ProcessVectorEnv(_factories(), 2)
  env.reset()
  env._send(1, ("step", np.zeros([3], np.int32)))  # Reply left unread.
  env.close()
  assert [p.exitcode for p in env._processes] == [0, -signal.SIGTERM]
