"""The signed WebSocket handshake: the same three headers as REST over ``timestamp + "GET" +
"/trade-api/ws/v2"``; a failure is HTTP 401 with Kalshi's body and no upgrade. The server runs
with ``--verbose-auth``, so its refusals name the mistake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from kalshi_sandbox.client.auth import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    KalshiAuth,
    now_ms,
)
from tests.support.server import Control, ServerProcess, running
from tests.ws.client import WS_PATH, open_ws, signed_headers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox that explains its signature refusals (``--verbose-auth``)."""
    yield from running(tmp_path_factory.mktemp("verbose"), "--clock", "manual", "--no-seed",
                       "--verbose-auth")


def _refused(server: ServerProcess, headers: dict[str, str]) -> dict[str, Any]:
    with pytest.raises(InvalidStatus) as refused, open_ws(server.base_url, None, headers):
        pass
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert "Upgrade" not in response.headers
    body: dict[str, Any] = json.loads(bytes(response.body or b""))
    return body


def test_a_correctly_signed_handshake_upgrades(control: Control,
                                               server: ServerProcess) -> None:
    trader = control.trader("alice")
    with open_ws(server.base_url, trader.account) as client:
        assert client.reply(client.command("list_subscriptions")) == {
            "id": 1001, "type": "ok", "msg": []}


def test_no_headers_is_401_naming_the_missing_key(server: ServerProcess) -> None:
    body = _refused(server, {})
    assert body["error"]["code"] == "authentication_error"
    assert "KALSHI-ACCESS-KEY" in body["error"]["details"]


def test_missing_signature_is_401_signature_is_missing(control: Control,
                                                       server: ServerProcess) -> None:
    headers = signed_headers(control.trader("alice").account)
    del headers[SIGNATURE_HEADER]
    assert _refused(server, headers) == {"error": {
        "code": "signature_is_missing_from_headers",
        "message": "signature is missing from headers"}}


def test_an_old_timestamp_is_401_header_timestamp_expired(control: Control,
                                                          server: ServerProcess) -> None:
    account = control.trader("alice").account
    stale = KalshiAuth(account.key_id, account.private_key_pem, clock=lambda: now_ms() - 60_000)
    body = _refused(server, stale.headers("GET", WS_PATH))
    assert body["error"]["code"] == "header_timestamp_expired"


def test_an_unknown_key_is_401_not_found(control: Control, server: ServerProcess) -> None:
    headers = signed_headers(control.trader("alice").account)
    headers[KEY_HEADER] = "00000000-0000-0000-0000-000000000000"
    body = _refused(server, headers)
    assert (body["error"]["code"], body["error"]["details"]) == ("authentication_error",
                                                                  "NOT_FOUND")


def test_signing_the_rest_prefix_instead_of_the_ws_path_is_401_incorrect_signature(
        control: Control, server: ServerProcess) -> None:
    headers = signed_headers(control.trader("alice").account, "/trade-api/v2")
    body = _refused(server, headers)
    assert body["error"]["details"].startswith("INCORRECT_API_KEY_SIGNATURE")
    assert "/trade-api/ws/v2" in body["error"]["details"]


def test_a_signature_of_another_timestamp_is_401(control: Control,
                                                 server: ServerProcess) -> None:
    headers = signed_headers(control.trader("alice").account)
    headers[TIMESTAMP_HEADER] = str(int(headers[TIMESTAMP_HEADER]) - 1)
    assert _refused(server, headers)["error"]["details"].startswith(
        "INCORRECT_API_KEY_SIGNATURE")
