"""Ray plumbing shared by the nodes of a distributed job.

  CounterProxy          batched increments to the CounterNode, with timeouts.
  RemoteVariableSource  a learner's `get_variables` behind a Ray handle,
                        keeping the last weights while the learner restarts.
  wait_for_weights      first weights, retrying while the learner starts.
  get_unless_stopped    a remote call's result, abandoned on a stop request.
  LoopThread            a node's work loop in a thread that keeps its error.
  NodeRestarts          a driver's view of restarts: notices a node Ray
                        restarted, restarts a node whose loop failed.
  limit_tensorflow_threads, node_info: per-process set-up and identity.
  worker_env, error_message: what drivers give workers and print of errors.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import logging
import os
import threading
import time
import traceback
import warnings
from typing import Any, Dict, List, Optional, Sequence

import ray

from ftw import core
from ftw.utils import tf_threads

REMOTE_TIMEOUT_S = 30.0
"""Longest wait of any call from one node to another."""


def worker_env() -> Dict[str, str]:
  """Environment of every worker: imports resolve to this checkout (the
  same path on every machine of a cluster), and TensorFlow's oneDNN setting
  is the driver's (see `ftw/__init__.py`), whatever a worker imports
  first."""
  repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  return {"PYTHONPATH": os.pathsep.join(
      p for p in (repo, os.environ.get("PYTHONPATH")) if p),
          "TF_ENABLE_ONEDNN_OPTS": os.environ["TF_ENABLE_ONEDNN_OPTS"]}


def error_message(error: BaseException) -> str:
  """The error's own message: a remote error's cause, not Ray's wrapper."""
  cause = getattr(error, "cause", None)
  if isinstance(cause, BaseException):
    return f"{type(cause).__name__}: {cause}"
  text = str(error).strip()
  return f"{type(error).__name__}: {text.splitlines()[-1] if text else ''}"


class NodeRestarts:
  """What a driver's supervision knows of restarts, per node name.

  `check` is called with each new status of a node: a new pid means Ray
  restarted the process (counted); an `error` in the status means the
  node's loop raised while its process lives, and the node is then
  restarted through Ray (`ray.kill(..., no_restart=False)`), which counts
  against its max_restarts like a crash.
  """

  def __init__(self, label: str):
    self._label = label
    self.counts: Dict[str, int] = {}
    self.last_errors: Dict[str, str] = {}
    self._killed_pids = set()

  def check(self, name: str, previous: Optional[Dict[str, Any]],
            status: Dict[str, Any], handle, max_restarts: int) -> bool:
    """Handles one status; returns False when the node failed more than
    `max_restarts` times (its error is in `last_errors`)."""
    self.counts.setdefault(name, 0)
    if previous is not None and previous["pid"] != status["pid"]:
      self.counts[name] += 1
      print(f"[{self._label}] node {name} restarted (pid {previous['pid']} "
            f"-> {status['pid']} on {status.get('ip', '?')}), restart "
            f"{self.counts[name]}/{max_restarts}", flush=True)
    error = status.get("error")
    if not error or status["pid"] in self._killed_pids:
      return True
    self.last_errors[name] = error
    self._killed_pids.add(status["pid"])
    if self.counts[name] >= max_restarts:
      return False
    print(f"[{self._label}] node {name} failed, restarting it:\n{error}",
          flush=True)
    ray.kill(handle, no_restart=False)
    return True


_log = logging.getLogger("ftw.ray_nodes")


def limit_tensorflow_threads():
  """One intra-op and one inter-op thread: many actors share few cores."""
  tf_threads.set_tensorflow_threads(1, 1, what="ray node")


def node_info() -> Dict[str, Any]:
  """Where this node runs: Ray node id, IP, pid, and whether Ray restarted it."""
  context = ray.get_runtime_context()
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # The property is marked deprecated.
    restarted = bool(context.was_current_actor_reconstructed)
  return {"node_id": context.get_node_id(), "ip": ray.util.get_node_ip_address(),
          "pid": os.getpid(), "restarted": restarted}


class CounterProxy:
  """A `Counter` parent that forwards increments to a CounterNode.

  Increments are summed locally and sent every `flush_every_seconds` (0 sends
  each one); `get_counts` is the node's last answer plus what is pending, so
  a child `counting.Counter(proxy, prefix)` works as it does locally.
  """

  def __init__(self, handle, flush_every_seconds: float = 0.5,
               timeout: float = REMOTE_TIMEOUT_S):
    if flush_every_seconds < 0:
      raise ValueError(f"flush_every_seconds must be >= 0, got "
                       f"{flush_every_seconds}")
    self._handle = handle
    self._every = flush_every_seconds
    self._timeout = timeout
    self._lock = threading.Lock()
    self._pending: Dict[str, float] = {}
    self._counts: Dict[str, float] = {}
    self._last_flush = -float("inf")

  def increment(self, **counts) -> Dict[str, float]:
    with self._lock:
      for key, value in counts.items():
        self._pending[key] = self._pending.get(key, 0) + value
    if time.monotonic() - self._last_flush >= self._every:
      self.flush()
    return self.get_counts()

  def flush(self) -> bool:
    """Sends pending increments; returns False (keeping them) on failure."""
    with self._lock:
      pending, self._pending = self._pending, {}
    try:
      counts = ray.get(self._handle.increment.remote(**pending),
                       timeout=self._timeout)
    except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as e:
      with self._lock:  # Keep them for the next try.
        for key, value in pending.items():
          self._pending[key] = self._pending.get(key, 0) + value
      _log.warning("counter node unreachable: %s", e)
      return False
    with self._lock:
      self._counts = dict(counts)
    self._last_flush = time.monotonic()
    return True

  def get_counts(self) -> Dict[str, float]:
    with self._lock:
      counts = dict(self._counts)
      for key, value in self._pending.items():
        counts[key] = counts.get(key, 0) + value
    return counts


class RemoteVariableSource(core.VariableSource):
  """`get_variables` of a learner behind a Ray handle, with a timeout.

  While the learner is restarting the last weights received are returned
  (the actor keeps acting with them); with none received yet it raises.
  """

  def __init__(self, learner_handle, timeout: float = REMOTE_TIMEOUT_S):
    self._handle = learner_handle
    self._timeout = timeout
    self._cached: Optional[List[List[Any]]] = None

  def get_variables(self, names: Sequence[str]) -> List[List[Any]]:
    try:
      values = ray.get(self._handle.get_variables.remote(list(names)),
                       timeout=self._timeout)
    except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as e:
      if self._cached is None:
        raise
      _log.warning("learner unreachable, keeping the current weights: %s", e)
      return self._cached
    self._cached = values
    return values


def wait_for_weights(actor, seconds: float):
  """First weights (`actor.update`), retrying while the learner (re)starts."""
  deadline = time.monotonic() + seconds
  while True:
    try:
      actor.update(wait=True)
      return
    except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
      if time.monotonic() > deadline:
        raise
      time.sleep(1.0)


def get_unless_stopped(ref, stop_event: threading.Event,
                       timeout: float = REMOTE_TIMEOUT_S,
                       poll_seconds: float = 0.2):
  """`ray.get(ref, timeout)`, but returns None as soon as `stop_event` is set.

  For a node's loop calling a peer: the peer may itself be stopping (a Ray
  actor runs one method at a time, so a call queued behind its `stop()` waits
  for that stop to end), and a loop waiting on it would hold up its own node's
  stop until the join times out.

  Raises:
    ray.exceptions.GetTimeoutError: no result within `timeout` seconds.
  """
  deadline = time.monotonic() + timeout
  while not stop_event.is_set():
    wait = min(poll_seconds, deadline - time.monotonic())
    if wait <= 0:
      raise ray.exceptions.GetTimeoutError(
          f"no result within {timeout} s: {ref}")
    ready, _ = ray.wait([ref], timeout=wait)
    if ready:
      return ray.get(ready[0])
  return None


class LoopThread:
  """Runs `step()` in a daemon thread until stopped; keeps the error."""

  def __init__(self, name: str, step, expected_errors=()):
    self.stop_event = threading.Event()
    self.error: Optional[str] = None
    self._step = step
    self._expected = expected_errors
    self._thread = threading.Thread(target=self._run, name=name, daemon=True)

  def start(self) -> "_LoopThread":
    self._thread.start()
    return self

  def _run(self):
    try:
      while not self.stop_event.is_set():
        if self._step() is False:
          return
    except self._expected:
      if not self.stop_event.is_set():
        self.error = traceback.format_exc()
    except Exception:  # pylint: disable=broad-except
      if not self.stop_event.is_set():
        self.error = traceback.format_exc()
        print(self.error, flush=True)

  @property
  def running(self) -> bool:
    return self._thread.is_alive()

  def stop(self, timeout: float) -> bool:
    """Asks the loop to stop; returns True if it ended within `timeout`."""
    self.stop_event.set()
    self._thread.join(timeout)
    return not self._thread.is_alive()
