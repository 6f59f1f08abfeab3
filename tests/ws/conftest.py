"""Fixtures for the WebSocket tests: signed connections to the session's server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.support.server import ServerProcess, Trader
from tests.ws.client import WsClient, open_ws

OpenSocket = Callable[[Trader], WsClient]


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[OpenSocket]:
    """Open signed WebSocket connections for traders; close them after the test."""
    with ExitStack() as stack:

        def open_for(trader: Trader) -> WsClient:
            return stack.enter_context(open_ws(server.base_url, trader.account))

        yield open_for
