"""Request signing against a real server: every failure Kalshi reports and what is accepted.

Requests here are built by hand, header by header, so each test controls exactly what is
signed and sent. Signature freshness is judged against the real time, not the sandbox's manual
clock (a client signs with its wall clock), so timestamps come from ``now_ms``.

The server runs with ``--verbose-auth``, which names the mistake behind a refused signature
(and an unknown key id); without it every such refusal is the same
(tests/security/test_auth_opacity.py).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kalshi_sandbox.client.auth import KalshiAuth, load_private_key, now_ms
from tests.support.server import API, Account, Control, ServerProcess, running

BALANCE = API + "/portfolio/balance"
FILLS = API + "/portfolio/fills"

PSS_DIGEST = padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                         salt_length=padding.PSS.DIGEST_LENGTH)
PSS_MAX = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)


def sign(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, message: str,
         pad: padding.AsymmetricPadding = PSS_DIGEST) -> str:
    """Return the base64 signature of ``message`` with ``key``."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return base64.b64encode(key.sign(message.encode())).decode()
    return base64.b64encode(key.sign(message.encode(), pad, hashes.SHA256())).decode()


def headers(account: Account, *, timestamp: int | str | None = None, method: str = "GET",
            path: str = BALANCE, pad: padding.AsymmetricPadding = PSS_DIGEST,
            key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | None = None,
            key_id: str | None = None) -> dict[str, str]:
    """Return the three Kalshi headers, signing ``timestamp + method + path``."""
    stamp = str(now_ms() if timestamp is None else timestamp)
    signer = key or load_private_key(account.private_key_pem)
    return {
        "KALSHI-ACCESS-KEY": key_id or account.key_id,
        "KALSHI-ACCESS-TIMESTAMP": stamp,
        "KALSHI-ACCESS-SIGNATURE": sign(signer, f"{stamp}{method}{path}", pad),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox that explains its signature refusals (``--verbose-auth``)."""
    yield from running(tmp_path_factory.mktemp("verbose"), "--clock", "manual", "--no-seed",
                       "--verbose-auth")


@pytest.fixture
def http(control: Control) -> Iterator[httpx.Client]:
    """A plain client (no signing) aimed at the shared server."""
    with httpx.Client(base_url=control.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def alice(control: Control) -> Account:
    return control.account("alice", "250")


def error_of(response: httpx.Response) -> dict[str, Any]:
    """Assert a 401 in Kalshi's nested shape and return its inner error."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error: dict[str, Any] = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}, error
    return error


def assert_authenticated_as(response: httpx.Response, balance: str = "250.0000") -> None:
    """Assert the request was accepted for the account holding ``balance``."""
    assert response.status_code == 200, response.text
    assert response.json()["balance_dollars"] == balance


# Missing and malformed headers ------------------------------------------------------------

def test_missing_signature_header_answers_401_signature_is_missing(
        http: httpx.Client, alice: Account) -> None:
    sent = headers(alice)
    del sent["KALSHI-ACCESS-SIGNATURE"]

    response = http.get(BALANCE, headers=sent)

    assert response.status_code == 401
    assert response.json() == {"error": {"code": "signature_is_missing_from_headers",
                                         "message": "signature is missing from headers"}}


def test_empty_signature_header_answers_401_signature_is_missing(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(BALANCE, headers={**headers(alice), "KALSHI-ACCESS-SIGNATURE": ""})

    assert error_of(response)["code"] == "signature_is_missing_from_headers"


def test_missing_key_header_answers_401_naming_the_header(
        http: httpx.Client, alice: Account) -> None:
    sent = headers(alice)
    del sent["KALSHI-ACCESS-KEY"]

    error = error_of(http.get(BALANCE, headers=sent))

    assert error["code"] == "authentication_error"
    assert error["message"] == "authentication_error"
    assert "KALSHI-ACCESS-KEY" in error["details"]


def test_missing_timestamp_header_answers_401_naming_the_header(
        http: httpx.Client, alice: Account) -> None:
    sent = headers(alice)
    del sent["KALSHI-ACCESS-TIMESTAMP"]

    error = error_of(http.get(BALANCE, headers=sent))

    assert error["code"] == "authentication_error"
    assert error["message"] == "authentication_error"
    assert "KALSHI-ACCESS-TIMESTAMP" in error["details"]


def test_no_headers_at_all_answers_401_authentication_error(http: httpx.Client) -> None:
    error = error_of(http.get(BALANCE))

    assert error["code"] == "authentication_error"


@pytest.mark.parametrize("timestamp", ["yesterday", "1.7e12", "-1700000000000", "0x1F",
                                       "1,700,000,000,000", "17000000000\u00b2"],
                         ids=["word", "exponent", "negative", "hex", "commas", "superscript"])
def test_non_numeric_timestamp_answers_401_authentication_error(
        http: httpx.Client, alice: Account, timestamp: str) -> None:
    sent = {name.encode(): value.encode("latin-1")
            for name, value in headers(alice, timestamp=timestamp).items()}

    error = error_of(http.get(BALANCE, headers=sent))

    assert error["code"] == "authentication_error"
    assert error["message"] == "authentication_error"
    assert "KALSHI-ACCESS-TIMESTAMP" in error["details"]


# Timestamp window -------------------------------------------------------------------------

@pytest.mark.parametrize("offset_ms", [-30_000, -300_000, 300_000],
                         ids=["30s old", "5min old", "5min ahead"])
def test_timestamp_outside_window_answers_401_header_timestamp_expired(
        http: httpx.Client, alice: Account, offset_ms: int) -> None:
    response = http.get(BALANCE, headers=headers(alice, timestamp=now_ms() + offset_ms))

    error = error_of(response)
    assert error["code"] == "header_timestamp_expired"
    assert error["message"] == "header timestamp expired"


@pytest.mark.parametrize("digits", [19, 40, 5000])
def test_overlong_timestamp_answers_401_header_timestamp_expired(
        http: httpx.Client, alice: Account, digits: int) -> None:
    response = http.get(BALANCE, headers=headers(alice, timestamp="1" + "7" * (digits - 1)))

    assert error_of(response)["code"] == "header_timestamp_expired"


def test_timestamp_in_seconds_answers_401_expired_with_milliseconds_hint(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(BALANCE, headers=headers(alice, timestamp=now_ms() // 1000))

    error = error_of(response)
    assert error["code"] == "header_timestamp_expired"
    assert "milliseconds" in error["details"]


@pytest.mark.parametrize("offset_ms", [-5_000, 5_000], ids=["5s old", "5s ahead"])
def test_timestamp_within_window_is_accepted(
        http: httpx.Client, alice: Account, offset_ms: int) -> None:
    response = http.get(BALANCE, headers=headers(alice, timestamp=now_ms() + offset_ms))

    assert_authenticated_as(response)


# Keys and signatures ----------------------------------------------------------------------

def test_unknown_key_id_answers_401_not_found(http: httpx.Client, alice: Account) -> None:
    sent = headers(alice, key_id="a952bcbe-ec3b-4b5b-b8f9-11dae589608c")

    response = http.get(BALANCE, headers=sent)

    assert response.status_code == 401
    assert response.json() == {"error": {"code": "authentication_error",
                                         "message": "authentication_error",
                                         "details": "NOT_FOUND"}}


def test_signature_by_another_key_answers_401_incorrect_signature(
        control: Control, http: httpx.Client, alice: Account) -> None:
    bob = control.account("bob")

    response = http.get(BALANCE, headers=headers(
        alice, key=load_private_key(bob.private_key_pem)))

    error = error_of(response)
    assert error["code"] == "authentication_error"
    assert error["message"] == "authentication_error"
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")


def test_signature_that_is_not_base64_answers_401_incorrect_signature(
        http: httpx.Client, alice: Account) -> None:
    sent = {**headers(alice), "KALSHI-ACCESS-SIGNATURE": "not base64!"}

    error = error_of(http.get(BALANCE, headers=sent))

    assert error["code"] == "authentication_error"
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")


def test_signature_over_another_timestamp_answers_401_incorrect_signature(
        http: httpx.Client, alice: Account) -> None:
    sent = headers(alice)
    sent["KALSHI-ACCESS-TIMESTAMP"] = str(int(sent["KALSHI-ACCESS-TIMESTAMP"]) - 1)

    error = error_of(http.get(BALANCE, headers=sent))

    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")


# Diagnosed signing mistakes ---------------------------------------------------------------

def test_path_signed_without_api_prefix_answers_401_naming_the_prefix(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(BALANCE, headers=headers(alice, path="/portfolio/balance"))

    error = error_of(response)
    assert error["code"] == "authentication_error"
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")
    assert "left out the /trade-api/v2 prefix" in error["details"]


def test_path_signed_with_query_string_answers_401_naming_the_query(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(FILLS, params={"limit": "5"},
                        headers=headers(alice, path=FILLS + "?limit=5"))

    error = error_of(response)
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")
    assert "included the query string" in error["details"]


def test_lower_case_method_signed_answers_401_naming_the_method(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(BALANCE, headers=headers(alice, method="get"))

    error = error_of(response)
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")
    assert "method must be upper case" in error["details"]


def test_pkcs1v15_signature_answers_401_naming_the_padding(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(BALANCE, headers=headers(alice, pad=padding.PKCS1v15()))

    error = error_of(response)
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")
    assert "PKCS#1 v1.5" in error["details"]


def test_signature_for_another_method_answers_401_without_a_false_diagnosis(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(BALANCE, headers=headers(alice, method="POST"))

    error = error_of(response)
    assert error["details"].startswith("INCORRECT_API_KEY_SIGNATURE")
    for mistake in ("prefix", "query string", "upper case", "PKCS#1"):
        assert mistake not in error["details"]


# Accepted variants ------------------------------------------------------------------------

def test_pss_signature_with_max_salt_length_is_accepted(
        http: httpx.Client, alice: Account) -> None:
    assert_authenticated_as(http.get(BALANCE, headers=headers(alice, pad=PSS_MAX)))


def test_query_string_left_out_of_signature_is_accepted(
        http: httpx.Client, alice: Account) -> None:
    response = http.get(FILLS, params={"limit": "5"}, headers=headers(alice, path=FILLS))

    assert response.status_code == 200, response.text
    assert response.json()["fills"] == []


def test_signature_on_write_with_body_ignores_the_body(
        control: Control, http: httpx.Client, alice: Account) -> None:
    control.market("KXAUTH-26DEC31-T1")
    path = API + "/communications/rfqs"
    response = http.post(path, headers=headers(alice, method="POST", path=path),
                         json={"market_ticker": "KXAUTH-26DEC31-T1", "contracts_fp": "1",
                               "rest_remainder": False})

    assert response.status_code == 201, response.text


def test_ed25519_key_registered_through_control_plane_is_accepted(
        control: Control, http: httpx.Client, alice: Account) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    added = control.call("POST", f"/accounts/{alice.user_id}/keys",
                         {"public_key_pem": public_pem}, expect=201)
    assert "private_key_pem" not in added

    response = http.get(BALANCE, headers=headers(alice, key=key, key_id=added["key_id"]))

    assert_authenticated_as(response)
    via_client = httpx.get(control.base_url + BALANCE,
                           auth=KalshiAuth(added["key_id"], key))
    assert_authenticated_as(via_client)
    other = ed25519.Ed25519PrivateKey.generate()
    forged = http.get(BALANCE, headers=headers(alice, key=other, key_id=added["key_id"]))
    assert error_of(forged)["details"].startswith("INCORRECT_API_KEY_SIGNATURE")


def test_ed25519_account_created_through_control_plane_is_accepted(
        control: Control, http: httpx.Client) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    created = control.call("POST", "/accounts", {"name": "edward", "balance_dollars": "42",
                                                 "public_key_pem": public_pem}, expect=201)
    assert "private_key_pem" not in created

    response = http.get(BALANCE, auth=KalshiAuth(created["key_id"], key))

    assert_authenticated_as(response, "42.0000")
