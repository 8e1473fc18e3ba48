"""Fixtures for the replay tests: real Reverb servers on localhost."""

import ftw  # noqa: F401  (quiets TensorFlow before reverb imports it)

import pytest
import reverb


@pytest.fixture
def make_server():
  """Returns `start(tables) -> (server, client)`; stops every server after."""
  servers = []

  def start(tables):
    server = reverb.Server(tables=list(tables), port=None)
    servers.append(server)
    return server, reverb.Client(f"localhost:{server.port}")

  yield start
  for server in servers:
    server.stop()
