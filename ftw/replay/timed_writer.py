"""A Reverb TrajectoryWriter whose blocking calls never hang on a dead server.

`TrajectoryWriter.flush` and `end_episode` wait without limit by default, and
keep retrying when the server is gone. Here every wait is cut into slices of
`timeout_ms`; after each slice the server is asked for its info: if it
answers, the wait is a table's rate limiter (e.g. a full queue while the
learner is busy) and waiting resumes; if not, `ServerUnavailableError` is
raised. `close()` waits one slice at most and never raises.
"""

import logging
import math
from typing import Callable, Optional

import reverb

from ftw.replay import base


class TimedWriter:
  """Owns a `reverb.TrajectoryWriter`; flushes in bounded slices."""

  def __init__(self, client: reverb.Client, num_keep_alive_refs: int,
               timeout_ms: int):
    """Creates the writer.

    Args:
      client: a `reverb.Client` connected to the replay server.
      num_keep_alive_refs: steps of history the writer keeps referable.
      timeout_ms: > 0, longest single wait before checking the server.
    """
    if timeout_ms is None or timeout_ms <= 0:
      raise ValueError(f"flush_timeout_ms must be > 0, got {timeout_ms!r}")
    self._client = client
    self._timeout_ms = int(timeout_ms)
    self._closed = False
    self.writer = client.trajectory_writer(
        num_keep_alive_refs=num_keep_alive_refs)

  @property
  def closed(self) -> bool:
    return self._closed

  def _wait(self, call: Callable[[], None]) -> None:
    """Runs a blocking writer call in timed slices while the server lives."""
    while True:
      try:
        call()
        return
      except reverb.errors.DeadlineExceededError:
        try:
          self._client.server_info(
              timeout=max(1, math.ceil(self._timeout_ms / 1000)))
        except Exception as e:  # pylint: disable=broad-except
          raise base.ServerUnavailableError(
              f"Reverb server did not answer after a {self._timeout_ms} ms "
              f"wait on the writer: {e}") from e
        # The server answers: a rate limiter holds our items; keep waiting.

  def flush(self, block_until_num_items: int = 0) -> None:
    """Blocks until at most `block_until_num_items` items are unconfirmed."""
    self._wait(lambda: self.writer.flush(block_until_num_items,
                                         timeout_ms=self._timeout_ms))

  def end_episode(self, block_until_num_items: int = 0) -> None:
    """Clears the history and starts a new episode.

    Pending items keep being inserted in the background; this waits only
    until at most `block_until_num_items` are unconfirmed (0: all of them),
    so an actor stepping many environments does not stall at every
    episode's end while still feeling the table's backpressure.
    """
    try:
      self.writer.end_episode(clear_buffers=True, timeout_ms=0)
    except reverb.errors.DeadlineExceededError:
      pass  # Buffers were reset anyway; wait below like any flush.
    self.flush(block_until_num_items)

  def close(self, timeout_ms: Optional[int] = None) -> None:
    """Sends pending items (waits <= timeout_ms), then closes the writer.

    Never raises for a missing server; the loss of unconfirmed items is
    logged. Idempotent. `timeout_ms` defaults to the writer's slice.
    """
    if self._closed:
      return
    self._closed = True
    timeout_ms = self._timeout_ms if timeout_ms is None else int(timeout_ms)
    try:
      self.writer.flush(0, timeout_ms=max(1, timeout_ms))
    except reverb.errors.DeadlineExceededError:
      logging.warning("Reverb writer close: items not confirmed within %d ms "
                      "were dropped (server gone or table full)",
                      timeout_ms)
    except RuntimeError as e:  # Writer already broken by a lost connection.
      logging.warning("Reverb writer close: flush failed: %s", e)
    finally:
      self.writer.close()
