"""Request signing is exactly Kalshi's, and the sandbox sees what Kalshi would see."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kalshi_sandbox.client import AuthenticationError, KalshiAuth, KalshiClient, signing_message
from tests.support.server import Control

TIMESTAMP = 1703123456789
URL = "https://external-api.kalshi.com/trade-api/v2/portfolio/orders?limit=5"
EXPECTED = b"1703123456789GET/trade-api/v2/portfolio/orders"
# Salt length fixed at the digest length (32), not AUTO: verification fails for any other salt.
PSS_32 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _register(control: Control, key: rsa.RSAPrivateKey) -> str:
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    data = control.call("POST", "/accounts", {"name": "signer", "balance_dollars": "5",
                                              "public_key_pem": public_pem}, expect=201)
    assert "private_key_pem" not in data
    key_id: str = data["key_id"]
    return key_id


def test_signing_message_leaves_out_host_and_query_and_upper_cases_the_method() -> None:
    assert signing_message(TIMESTAMP, "get", URL) == EXPECTED
    assert signing_message(str(TIMESTAMP), "GET", "/trade-api/v2/portfolio/orders?x=1") == EXPECTED
    assert signing_message(1, "GET", "ws://127.0.0.1:8000/trade-api/ws/v2") == (
        b"1GET/trade-api/ws/v2")


def test_auth_signs_fixed_timestamp_method_and_path_and_account_public_key_verifies(
        control: Control, private_key: rsa.RSAPrivateKey) -> None:
    key_id = _register(control, private_key)
    auth = KalshiAuth(key_id, private_key, clock=lambda: TIMESTAMP)
    request = next(auth.sync_auth_flow(httpx.Request("GET", URL)))

    assert request.headers["KALSHI-ACCESS-KEY"] == key_id
    assert request.headers["KALSHI-ACCESS-TIMESTAMP"] == str(TIMESTAMP)
    signature = base64.b64decode(request.headers["KALSHI-ACCESS-SIGNATURE"], validate=True)
    assert len(signature) == 256
    private_key.public_key().verify(signature, EXPECTED, PSS_32, hashes.SHA256())

    # The sandbox holds that public key for the account: a live signed request succeeds.
    with KalshiClient(base_url=control.base_url, key_id=key_id, private_key=private_key,
                      credentials_from_env=False) as client:
        assert client.get_balance().balance == 5
        assert client.list_orders(limit=5).items == []


def test_client_signs_the_full_path_without_query_for_every_environment(
        private_key: rsa.RSAPrivateKey) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"orders": [], "cursor": ""})

    for env, host in (("prod", "external-api.kalshi.com"),
                      ("demo", "external-api.demo.kalshi.co"),
                      ("sandbox", "127.0.0.1:8000")):
        with KalshiClient(env, key_id="key", private_key=private_key,
                          credentials_from_env=False,
                          transport=httpx.MockTransport(answer)) as client:
            assert client.auth is not None
            client.auth.clock = lambda: TIMESTAMP
            client.list_orders(limit=5)
        request = seen[-1]
        assert request.url.host + (f":{request.url.port}" if request.url.port else "") == host
        assert request.url.query == b"limit=5"
        signature = base64.b64decode(request.headers["KALSHI-ACCESS-SIGNATURE"])
        private_key.public_key().verify(signature, EXPECTED, PSS_32, hashes.SHA256())


def test_sandbox_and_kalshi_requests_differ_only_in_host(
        control: Control, private_key: rsa.RSAPrivateKey) -> None:
    key_id = _register(control, private_key)
    sent: dict[str, httpx.Request] = {}

    def kalshi(request: httpx.Request) -> httpx.Response:
        sent["prod"] = request
        return httpx.Response(201, json={"id": "00000000-0000-4000-8000-000000000000"})

    def record(request: httpx.Request) -> None:
        sent["sandbox"] = request

    with KalshiClient("prod", key_id=key_id, private_key=private_key,
                      credentials_from_env=False,
                      transport=httpx.MockTransport(kalshi)) as prod, \
            KalshiClient(base_url=control.base_url, key_id=key_id, private_key=private_key,
                         credentials_from_env=False) as sandbox:
        sandbox.http.event_hooks["request"] = [record]
        for client in (prod, sandbox):
            assert client.auth is not None
            client.auth.clock = lambda: TIMESTAMP
        control.market("KXSAME-26DEC31-T1")
        assert prod.create_rfq("KXSAME-26DEC31-T1", contracts=3)
        # The sandbox rejects the fixed timestamp as stale, as Kalshi would; the request it
        # received is what is compared here.
        with pytest.raises(AuthenticationError) as raised:
            sandbox.create_rfq("KXSAME-26DEC31-T1", contracts=3)
        assert raised.value.code == "header_timestamp_expired"
        assert "clock" in str(raised.value)

    def shape(request: httpx.Request) -> dict[str, Any]:
        # PSS signatures are randomised (a fresh salt each time): compare what they sign.
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "kalshi-access-signature")}
        signature = base64.b64decode(request.headers["KALSHI-ACCESS-SIGNATURE"])
        private_key.public_key().verify(
            signature, f"{TIMESTAMP}POST/trade-api/v2/communications/rfqs".encode(), PSS_32,
            hashes.SHA256())
        return {"method": request.method, "path": request.url.raw_path,
                "headers": headers, "body": json.loads(request.content)}

    assert shape(sent["prod"]) == shape(sent["sandbox"])
    assert sent["prod"].url.host == "external-api.kalshi.com"
    assert sent["sandbox"].url.host == "127.0.0.1"
