"""Fixtures for the API tests, tuned so that per-test setup stays in milliseconds.

Three costs dominate a naive setup: generating an RSA key (~0.1 s), parsing a private key PEM
(~40 ms) and building an httpx client's TLS context (~20 ms). Every test account therefore
registers the same public key (accounts differ by key id), signs with one parsed private key,
and every client shares one TLS context; the control-plane client lives for the session.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import httpx
import pytest

from kalshi_sandbox.client.auth import KalshiAuth, PrivateKey, load_private_key
from kalshi_sandbox.exchange.keys import generate_rsa_key
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import API, Account, Control, ServerProcess, Trader

NewTrader = Callable[..., Trader]


class SharedKeyTrader(Trader):
    """A ``Trader`` that signs with an already parsed key over a shared TLS context."""

    def __init__(self, base_url: str, account: Account, key: PrivateKey,
                 tls: ssl.SSLContext) -> None:
        self.account = account
        self.http = httpx.Client(base_url=base_url + API,
                                 auth=KalshiAuth(account.key_id, key), timeout=30, verify=tls)


@pytest.fixture(scope="session")
def key_pair() -> tuple[str, str]:
    """One RSA key pair (private PEM, public PEM) registered for every test account."""
    return generate_rsa_key()


@pytest.fixture(scope="session")
def signing_key(key_pair: tuple[str, str]) -> PrivateKey:
    return load_private_key(key_pair[0])


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    return ssl.create_default_context()


@pytest.fixture(scope="session")
def session_control(server: ServerProcess) -> Iterator[Control]:
    control = Control(server.base_url)
    yield control
    control.close()


@pytest.fixture
def control(session_control: Control) -> Control:
    """The shared server's control plane, reset and given MARKET and HVM_MARKET."""
    session_control.reset()
    session_control.market(MARKET)
    session_control.market(HVM_MARKET, hvm=True)
    return session_control


@pytest.fixture
def new_trader(control: Control, key_pair: tuple[str, str], signing_key: PrivateKey,
               tls: ssl.SSLContext) -> Iterator[NewTrader]:
    """Return a factory of signed traders: ``new_trader(name, balance_dollars="1000")``."""
    traders: list[Trader] = []

    def make(name: str, balance: str = "1000") -> Trader:
        data = control.call("POST", "/accounts", {"name": name, "balance_dollars": balance,
                                                 "public_key_pem": key_pair[1]}, expect=201)
        account = Account(data["user_id"], data["name"], data["communications_id"],
                          data["key_id"], key_pair[0])
        trader = SharedKeyTrader(control.base_url, account, signing_key, tls)
        traders.append(trader)
        return trader

    yield make
    for trader in traders:
        trader.close()
