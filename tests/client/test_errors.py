"""Kalshi's four error shapes and the HTTP statuses map to typed exceptions."""

from __future__ import annotations

import httpx
import pytest

from kalshi_sandbox.client import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InsufficientBalanceError,
    InvalidParametersError,
    KalshiClient,
    KalshiConnectionError,
    NotFoundError,
    RateLimitError,
    RfqClosedError,
    ServerError,
)
from tests.client.conftest import ClientFactory
from tests.conftest import MARKET
from tests.support.server import Account, Control


def _raise(status: int, body: object) -> APIError:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with KalshiClient("demo", credentials_from_env=False,
                      transport=httpx.MockTransport(answer)) as client, \
            pytest.raises(APIError) as raised:
        client.get_market("M")
    return raised.value


# Bodies below are the ones Kalshi sends (docs/behaviour.md, "Wire").


def test_nested_shape_gives_code_message_and_service() -> None:
    error = _raise(400, {"error": {"code": "insufficient_balance",
                                   "message": "insufficient balance", "service": "exchange"}})
    assert type(error) is InsufficientBalanceError
    assert (error.code, error.message, error.details, error.service) == (
        "insufficient_balance", "insufficient balance", None, "exchange")


def test_flat_shape_gives_details() -> None:
    details = "json: cannot unmarshal number into Go struct field CreateRFQRequest.market_ticker"
    error = _raise(400, {"code": "bad_request", "message": "bad request", "details": details})
    assert type(error) is BadRequestError
    assert (error.code, error.message, error.details) == ("bad_request", "bad request", details)


def test_bare_msg_shape_becomes_the_message() -> None:
    text = ("Parameter validation failed for GetMarkets: Key: 'GetMarketsParams.Limit' "
            "Error:Field validation for 'Limit' failed on the 'lte' tag")
    error = _raise(400, {"msg": text})
    assert type(error) is BadRequestError
    assert (error.code, error.message) == ("bad_request", text)


def test_rate_limit_shape_raises_rate_limit_error() -> None:
    error = _raise(429, {"error": "too many requests"})
    assert type(error) is RateLimitError
    assert (error.status_code, error.code, error.message) == (429, "too_many_requests",
                                                               "too many requests")


def test_codes_refine_the_status_class_case_insensitively_and_by_prefix() -> None:
    assert type(_raise(400, {"error": {"code": "RFQ_CLOSED", "message": "x"}})) is RfqClosedError
    assert type(_raise(400, {"error": {"code": "INSUFFICIENT_BALANCE"}})) is (
        InsufficientBalanceError)
    # A code that names a 400 condition does not turn a 404 into a 400 class.
    assert type(_raise(404, {"error": {"code": "invalid_parameters"}})) is NotFoundError


def test_statuses_without_a_json_body_still_map_by_status() -> None:
    error = _raise(502, "<html>bad gateway</html>")
    assert type(error) is ServerError
    assert error.status_code == 502
    assert error.message == "<html>bad gateway</html>"
    assert isinstance(_raise(418, ""), APIError)


def test_unreachable_server_raises_connection_error() -> None:
    with KalshiClient(base_url="http://127.0.0.1:9", credentials_from_env=False,
                      timeout=2) as client, pytest.raises(KalshiConnectionError):
        client.get_exchange_status()


# The same errors from the real sandbox -------------------------------------------------------


def test_sandbox_errors_arrive_in_all_three_request_shapes(
        make_client: ClientFactory, requester: Account) -> None:
    client = make_client(requester)
    with pytest.raises(BadRequestError) as bare:
        client.list_markets(limit=1001)
    assert "Parameter validation failed for GetMarkets" in bare.value.message
    with pytest.raises(BadRequestError) as flat:
        client.request("POST", "/communications/rfqs", json=[1])
    assert flat.value.code == "bad_request"
    assert flat.value.details is not None
    with pytest.raises(InvalidParametersError) as nested:
        client.create_rfq("KXNOSUCH-1", contracts="1")
    assert nested.value.status_code == 400


def test_quote_on_a_closed_rfq_raises_rfq_closed(
        make_client: ClientFactory, requester: Account, maker: Account) -> None:
    buyer, seller = make_client(requester), make_client(maker)
    rfq_id = buyer.create_rfq(MARKET, contracts=1)
    buyer.delete_rfq(rfq_id)
    with pytest.raises(RfqClosedError):
        seller.create_quote(rfq_id, "0.40", "0.55")


def test_wrong_private_key_gets_401_with_a_hint_naming_the_likeliest_mistake(
        control: Control, requester: Account, maker: Account) -> None:
    with KalshiClient(base_url=control.base_url, key_id=requester.key_id,
                      private_key=maker.private_key_pem, credentials_from_env=False) as client, \
            pytest.raises(AuthenticationError) as raised:
        client.get_balance()
    error = raised.value
    assert (error.status_code, error.code) == (401, "authentication_error")
    assert error.details is not None
    assert error.details.startswith("INCORRECT_API_KEY_SIGNATURE")
    assert error.hint is not None
    assert f"does not belong to key id {requester.key_id}" in error.hint
    assert "'/trade-api/v2/portfolio/balance'" in error.hint


def test_unknown_key_id_hint_points_at_the_environment(control: Control,
                                                       requester: Account) -> None:
    with KalshiClient(base_url=control.base_url, key_id="00000000-0000-4000-8000-00000000abcd",
                      private_key=requester.private_key_pem,
                      credentials_from_env=False) as client, \
            pytest.raises(AuthenticationError) as raised:
        client.get_communications_id()
    # The sandbox does not say whether a key id exists (unless --verbose-auth): the hint
    # names both causes, and how to tell them apart.
    assert raised.value.hint is not None
    assert "a key id this server does not know" in raised.value.hint
    assert "--verbose-auth" in raised.value.hint


def test_unsigned_request_hint_names_the_credential_variables(control: Control) -> None:
    with KalshiClient(base_url=control.base_url, credentials_from_env=False) as client, \
            pytest.raises(AuthenticationError) as raised:
        client.list_rfqs()
    assert "KALSHI_API_KEY_ID" in str(raised.value)
