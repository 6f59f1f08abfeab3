"""A caller cannot tell an unknown key id from a known one: every signature refusal after
the timestamp check is the same 401, on REST and on the WebSocket handshake, unless the
server runs with ``--verbose-auth`` (tests/e2e/test_auth.py covers what that adds)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from kalshi_sandbox.client.auth import KalshiAuth, load_private_key, now_ms
from kalshi_sandbox.exchange.keys import generate_rsa_key
from tests.e2e.test_auth import BALANCE, headers
from tests.support.server import Account, Control, ServerProcess

UNKNOWN = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
REFUSAL = {"error": {"code": "authentication_error", "message": "authentication_error",
                     "details": "INCORRECT_API_KEY_SIGNATURE"}}
WS_PATH = "/trade-api/ws/v2"


def attempts(control: Control) -> dict[str, dict[str, str]]:
    """Headers of every way to fail the signature, on a known key and on an unknown one."""
    alice = control.account("alice")
    stranger = load_private_key(generate_rsa_key()[0])
    bad_base64 = {**headers(alice), "KALSHI-ACCESS-SIGNATURE": "not base64!"}
    return {
        "unknown key id": headers(alice, key_id=UNKNOWN),
        "unknown key id, its own key": headers(alice, key=stranger, key_id=UNKNOWN),
        "known key, another key's signature": headers(alice, key=stranger),
        "known key, wrong path signed": headers(alice, path="/portfolio/balance"),
        "known key, lower-case method": headers(alice, method="get"),
        "known key, signature not base64": bad_base64,
        "unknown key, signature not base64": {**bad_base64, "KALSHI-ACCESS-KEY": UNKNOWN},
        "unknown key, not a uuid": headers(alice, key_id="key-é"),
    }


def test_every_signature_refusal_is_the_same_401(server: ServerProcess,
                                                 control: Control) -> None:
    answers: dict[str, tuple[int, Any]] = {}
    for case, sent in attempts(control).items():
        raw = {name.encode(): value.encode() for name, value in sent.items()}
        response = httpx.get(server.base_url + BALANCE, headers=raw)
        answers[case] = (response.status_code, response.json())
    assert all(answer == (401, REFUSAL) for answer in answers.values()), answers


def test_the_websocket_handshake_refuses_them_alike(server: ServerProcess,
                                                    control: Control) -> None:
    account = control.account("bob")
    signer = KalshiAuth(account.key_id, account.private_key_pem)
    known = signer.headers("GET", WS_PATH)
    stamp = int(known["KALSHI-ACCESS-TIMESTAMP"])
    known_bad = {**known, "KALSHI-ACCESS-TIMESTAMP": str(stamp - 1)}
    unknown = {**known, "KALSHI-ACCESS-KEY": UNKNOWN}
    bodies = []
    for sent in (known_bad, unknown):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{server.port}{WS_PATH}", additional_headers=sent,
                    open_timeout=10)
        assert refused.value.response.status_code == 401
        bodies.append(refused.value.response.body)
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0] or b"") == REFUSAL


def test_a_valid_signature_still_gets_in(server: ServerProcess, control: Control) -> None:
    account: Account = control.account("carol", "12")
    response = httpx.get(server.base_url + BALANCE, headers=headers(account))
    assert response.status_code == 200, response.text
    # And a timestamp refusal still says what is wrong: it is the same for every key.
    stale = httpx.get(server.base_url + BALANCE,
                      headers=headers(account, timestamp=now_ms() - 600_000))
    assert stale.json()["error"]["code"] == "header_timestamp_expired"
    forged = {**headers(account),
              "KALSHI-ACCESS-SIGNATURE": base64.b64encode(b"\0" * 256).decode()}
    assert httpx.get(server.base_url + BALANCE, headers=forged).json() == REFUSAL
