"""Fixtures for the WebSocket tests: signed connections to the session's server, and a second
server tuned for keep-alive, queue and expiry tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import Control, ServerProcess, running
from tests.ws.client import OpenSocket, open_sockets

PING_INTERVAL = 0.3
PING_TIMEOUT = 0.6
QUEUE_LIMIT = 8
RFQ_TTL = 60


@pytest.fixture(scope="session")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that pings every 0.3 s, drops a client 0.6 s after an unanswered ping, lets
    8 messages wait per connection and closes RFQs 60 s (manual clock) after creation."""
    env = {"KALSHI_SANDBOX_WS_PING_INTERVAL": str(PING_INTERVAL),
           "KALSHI_SANDBOX_WS_PING_TIMEOUT": str(PING_TIMEOUT),
           "KALSHI_SANDBOX_WS_QUEUE_LIMIT": str(QUEUE_LIMIT),
           "KALSHI_SANDBOX_RFQ_TTL": str(RFQ_TTL)}
    yield from running(tmp_path_factory.mktemp("fast-ws"), "--clock", "manual", "--no-seed",
                       **env)


@pytest.fixture
def fast(fast_server: ServerProcess) -> Iterator[Control]:
    """The control plane of the tuned server, reset."""
    control = Control(fast_server.base_url)
    control.reset()
    yield control
    control.close()


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[OpenSocket]:
    """Open signed WebSocket connections for traders; close them after the test."""
    yield from open_sockets(server.base_url)
