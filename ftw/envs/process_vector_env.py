"""A VectorEnv whose environments step in subprocesses.

`VectorEnv` steps its environments one after another in the caller's
thread, and an emulator such as the ALE holds the GIL while it runs, so in
an actor the environments' time adds to the network's on one core. Here the
N environments are split into `num_processes` contiguous groups; each group
is a `VectorEnv` in its own process (multiprocessing, "spawn": the parent
may run TensorFlow threads, which forking would copy in an unknown state).
A step sends every group its actions, the groups step at the same time
while the parent's thread waits without the GIL, and the parent joins their
batches in environment order. Batches, automatic resets and specs are
exactly `VectorEnv`'s (the same class steps each group).

Environment factories must be picklable (a module-level function or a
`functools.partial` of one, not a lambda), and, as with any spawned
process, the main script must start its work under
`if __name__ == "__main__":` (each worker imports it again). A worker that raises sends its
traceback and the parent raises it; a worker that dies is reported with its
exit code instead of being waited for; a worker exits when its parent's end
of the pipe closes, so a parent that dies leaves no workers behind.
"""

import multiprocessing
import pickle
import signal
import traceback
from typing import Callable, Sequence

import dm_env
import numpy as np
import tree

from ftw import checks
from ftw.envs.vector_env import VectorEnv

# How often a waiting parent checks that its workers are alive (seconds).
_POLL_SECONDS = 1.0


def _serve(connection, factories) -> None:
  """Worker loop: builds a VectorEnv of `factories` and runs commands."""
  # Ctrl-C reaches the whole process group; the parent decides when its
  # workers stop (it closes them, or its end of the pipe closes).
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  try:
    env = VectorEnv(factories)
    connection.send(("ok", (env.observation_spec(), env.action_spec(),
                            env.reward_spec(), env.discount_spec())))
  except Exception:  # pylint: disable=broad-except
    connection.send(("error", traceback.format_exc()))
    return
  try:
    while True:
      try:
        command, argument = connection.recv()
      except (EOFError, OSError):  # The parent is gone.
        break
      if command == "close":
        break
      try:
        if command == "step":
          result = env.step(argument)
        else:
          result = env.reset()
        connection.send(("ok", result))
      except Exception:  # pylint: disable=broad-except
        connection.send(("error", traceback.format_exc()))
  finally:
    env.close()


class ProcessVectorEnv:
  """N environments stepped in `num_processes` subprocesses, batched.

  The same interface and batches as `VectorEnv` (specs are of one
  environment; batched values have a leading axis of size `num_envs`).
  """

  def __init__(self, factories: Sequence[Callable[[], dm_env.Environment]],
               num_processes: int):
    """Starts the workers and waits until every environment is built.

    Args:
      factories: picklable callables, each returning one dm_env environment.
      num_processes: number of worker processes, in [1, len(factories)];
        each steps a contiguous group of the environments, in order, of
        len(factories) // num_processes or one more.

    Raises:
      ValueError: for a bad argument.
      RuntimeError: if a worker fails to build its environments.
    """
    if (isinstance(factories, dm_env.Environment)
        or not isinstance(factories, Sequence) or not factories):
      raise ValueError("factories must be a non-empty sequence of picklable "
                       f"environment factories, got {factories!r}.")
    for i, factory in enumerate(factories):
      if not callable(factory) or isinstance(factory, dm_env.Environment):
        raise ValueError(f"factories[{i}] must be a callable returning a "
                         f"dm_env.Environment, got {factory!r}.")
    try:
      pickle.dumps(list(factories))
    except Exception as error:  # pylint: disable=broad-except
      raise ValueError(
          "factories must be picklable (a module-level function or a "
          "functools.partial of one, not a lambda or a local function): "
          f"{error}") from None
    if not checks.is_int(num_processes) or not (
        1 <= num_processes <= len(factories)):
      raise ValueError(f"num_processes must be an int in [1, "
                       f"{len(factories)}] (the number of environments), "
                       f"got {num_processes!r}.")
    n = len(factories)
    bounds = [k * n // num_processes for k in range(num_processes + 1)]
    self._slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    self._num_envs = n
    context = multiprocessing.get_context("spawn")
    self._connections, self._processes = [], []
    self._pending = [False] * num_processes  # A reply is still to come.
    self._closed = False
    try:
      for k, part in enumerate(self._slices):
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_serve, args=(child_end, list(factories[part])),
            name=f"env-worker-{k}", daemon=True)
        process.start()
        child_end.close()  # So the parent sees EOF if the worker dies.
        self._connections.append(parent_end)
        self._processes.append(process)
      specs = [self._receive(k, starting=True)
               for k in range(num_processes)]
    except BaseException:
      self.close()
      raise
    (self._observation_spec, self._action_spec, self._reward_spec,
     self._discount_spec) = specs[0]
    self._action_shape = tuple(self._action_spec.shape)

  @property
  def num_envs(self) -> int:
    return self._num_envs

  @property
  def num_processes(self) -> int:
    return len(self._processes)

  def _receive(self, k: int, starting: bool = False):
    """Waits for worker k's reply; raises if it failed or died."""
    connection, process = self._connections[k], self._processes[k]
    self._pending[k] = False  # Received, or raised about below.
    while not connection.poll(_POLL_SECONDS):
      if not process.is_alive() and not connection.poll(0):
        self._raise_died(k, starting)
    try:
      status, value = connection.recv()
    except (EOFError, OSError):
      self._raise_died(k, starting)
    if status == "error":
      raise RuntimeError(f"environment worker {k} failed:\n{value}")
    return value

  def _raise_died(self, k: int, starting: bool):
    process = self._processes[k]
    process.join(_POLL_SECONDS)
    hint = (" (its error is printed above; a worker imports the main "
            "script again, so the script must start its work under "
            "`if __name__ == '__main__':`)" if starting else "")
    raise RuntimeError(
        f"environment worker {k} (pid {process.pid}) died with exit code "
        f"{process.exitcode}{hint}.") from None

  def _send(self, k: int, message) -> None:
    self._pending[k] = True
    try:
      self._connections[k].send(message)
    except (BrokenPipeError, OSError):
      self._receive(k)  # Raises with the worker's error or exit code.
      raise

  def _gather(self) -> dm_env.TimeStep:
    parts = [self._receive(k) for k in range(len(self._processes))]
    if len(parts) == 1:
      return parts[0]
    return tree.map_structure(lambda *xs: np.concatenate(xs), *parts)

  def _check_open(self) -> None:
    if self._closed:
      raise RuntimeError("ProcessVectorEnv is closed.")

  def reset(self) -> dm_env.TimeStep:
    """Resets every environment; returns the batch of FIRST timesteps."""
    self._check_open()
    for k in range(len(self._processes)):
      self._send(k, ("reset", None))
    return self._gather()

  def step(self, actions) -> dm_env.TimeStep:
    """Steps every environment with its action; see `VectorEnv.step`."""
    self._check_open()
    actions = np.asarray(actions)
    expected = (self._num_envs,) + self._action_shape
    if actions.shape != expected:
      raise ValueError(f"actions must have shape {expected} (num_envs, "
                       f"*action_shape), got {actions.shape}.")
    for k, part in enumerate(self._slices):
      self._send(k, ("step", actions[part]))
    return self._gather()

  def observation_spec(self):
    return self._observation_spec

  def action_spec(self):
    return self._action_spec

  def reward_spec(self):
    return self._reward_spec

  def discount_spec(self):
    return self._discount_spec

  def close(self) -> None:
    """Stops the workers (they close their environments); idempotent."""
    if self._closed:
      return
    self._closed = True
    for k, connection in enumerate(self._connections):
      if self._pending[k]:
        # Interrupted mid-step (e.g. Ctrl-C in the caller): the worker may
        # be blocked sending a reply nobody reads, so it cannot see "close".
        self._processes[k].terminate()
        continue
      try:
        connection.send(("close", None))
      except (BrokenPipeError, OSError):
        pass
    for process in self._processes:
      process.join(5.0)
      if process.is_alive():
        process.terminate()
        process.join(1.0)
    for connection in self._connections:
      connection.close()

  def __enter__(self) -> "ProcessVectorEnv":
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()
