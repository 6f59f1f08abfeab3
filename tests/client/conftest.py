"""Fixtures for the client tests: accounts on the shared sandbox, and clients for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kalshi_sandbox.client import KalshiClient
from tests.support.server import Account, Control, ServerProcess

ClientFactory = Callable[[Account], KalshiClient]


@pytest.fixture
def make_client(server: ServerProcess) -> Iterator[ClientFactory]:
    """Return a factory of sync clients signed as a given account; close them afterwards."""
    clients: list[KalshiClient] = []

    def make(account: Account) -> KalshiClient:
        client = KalshiClient(base_url=server.base_url, key_id=account.key_id,
                              private_key=account.private_key_pem, credentials_from_env=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def requester(control: Control) -> Account:
    return control.account("requester", "1000")


@pytest.fixture
def maker(control: Control) -> Account:
    return control.account("maker", "1000")
