"""ray_helpers.get_unless_stopped on real Ray tasks: the result when it
comes, None once the stop event is set (the call still pending), a
GetTimeoutError when neither happens in time."""

import threading
import time

import pytest
import ray

from launch import ray_helpers


@ray.remote(num_cpus=0)
def _answer_after(seconds: float, value):
  time.sleep(seconds)
  return value


@pytest.fixture(scope="module", autouse=True)
def _ray():
  # A cluster of its own: another test process's may be running beside it.
  ray.init(address="local", num_cpus=1, include_dashboard=False,
           log_to_driver=False)
  yield
  ray.shutdown()


def test_returns_the_result_when_it_comes():
  stop = threading.Event()
  ref = _answer_after.remote(0.3, {"weights": [1, 2]})
  assert ray_helpers.get_unless_stopped(ref, stop, timeout=60) == {
      "weights": [1, 2]}


def test_a_stop_request_abandons_the_wait():
  stop = threading.Event()
  ref = _answer_after.remote(120.0, "late")
  timer = threading.Timer(0.5, stop.set)
  timer.start()
  assert ray_helpers.get_unless_stopped(ref, stop, timeout=60) is None
  assert stop.is_set()
  ray.cancel(ref, force=True)


def test_already_stopped_does_not_wait_at_all():
  stop = threading.Event()
  stop.set()
  ref = _answer_after.remote(120.0, "late")
  assert ray_helpers.get_unless_stopped(ref, stop, timeout=60) is None
  ray.cancel(ref, force=True)


def test_no_result_in_time_raises():
  ref = _answer_after.remote(120.0, "late")
  with pytest.raises(ray.exceptions.GetTimeoutError, match="within 0.5 s"):
    ray_helpers.get_unless_stopped(ref, threading.Event(), timeout=0.5)
  ray.cancel(ref, force=True)


def test_workers_get_the_drivers_onednn_setting(monkeypatch):
  # A worker may import TensorFlow before ftw (which sets the default), so
  # the driver's value travels in the workers' environment.
  for value in ("0", "1"):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", value)
    assert ray_helpers.worker_env()["TF_ENABLE_ONEDNN_OPTS"] == value
