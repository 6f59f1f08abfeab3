"""POST /communications/rfqs: sizing vocabularies, validation, conflicts and limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import NewTrader
from tests.api.support import (
    RFQS,
    close_market,
    flat_error,
    nested_error,
    post_quote,
    post_rfq,
    quote_as,
)
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control


def rfq_body(**fields: Any) -> dict[str, Any]:
    return {"market_ticker": MARKET, "rest_remainder": False, **fields}


# Both request vocabularies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "contracts_fp", "contracts"),
    [
        ({"contracts": 10}, "10.00", 10),
        ({"contracts_fp": "10"}, "10.00", 10),
        ({"contracts_fp": "2.5"}, "2.50", 2),
        ({"contracts_fp": "0.01"}, "0.01", 0),
        ({"contracts_fp": "7.25"}, "7.25", 7),
        ({"contracts": 3, "contracts_fp": "3.00"}, "3.00", 3),
        ({"contracts": 3, "contracts_fp": "3"}, "3.00", 3),
    ],
)
def test_create_rfq_contract_sizes_in_either_vocabulary_are_stored_and_rendered_in_both(
        control: Control, new_trader: NewTrader, size: dict[str, Any], contracts_fp: str,
        contracts: int) -> None:
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(**size))
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id"}
    rfq = requester.rfq(response.json()["id"])
    assert rfq["contracts_fp"] == contracts_fp
    assert rfq["contracts"] == contracts
    assert rfq["status"] == "open"
    assert rfq["market_ticker"] == MARKET
    assert rfq["rest_remainder"] is False
    assert rfq["creator_id"] == requester.account.communications_id
    assert "target_cost_dollars" not in rfq
    assert "cancellation_reason" not in rfq


@pytest.mark.parametrize(
    "size",
    [
        {"target_cost_dollars": "35.00"},
        {"target_cost_dollars": "35"},
        {"target_cost_dollars": "35.0000"},
        {"target_cost_centi_cents": 350000},
        {"target_cost_dollars": "35.00", "target_cost_centi_cents": 350000},
    ],
)
def test_create_rfq_target_cost_in_either_vocabulary_renders_dollars_and_centi_cents(
        control: Control, new_trader: NewTrader, size: dict[str, Any]) -> None:
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(**size))
    assert response.status_code == 201, response.text
    rfq = requester.rfq(response.json()["id"])
    assert rfq["target_cost_dollars"] == "35.0000"
    assert rfq["target_cost_centi_cents"] == 350000
    assert rfq["target_cost_excludes_fees"] is False
    # Reference Q8: a target-cost RFQ has no contract size of its own.
    assert rfq["contracts_fp"] == "0.00"


def test_create_rfq_target_cost_excludes_fees_is_kept(control: Control,
                                                      new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(target_cost_dollars="12.5",
                                            target_cost_excludes_fees=True))
    assert response.status_code == 201, response.text
    rfq = requester.rfq(response.json()["id"])
    assert rfq["target_cost_dollars"] == "12.5000"
    assert rfq["target_cost_excludes_fees"] is True


@pytest.mark.parametrize(
    "size",
    [
        {"contracts": 10, "contracts_fp": "9"},
        {"contracts": 10, "contracts_fp": "10.01"},
        {"target_cost_dollars": "35.00", "target_cost_centi_cents": 350001},
        {"target_cost_dollars": "35.01", "target_cost_centi_cents": 350000},
    ],
)
def test_create_rfq_disagreeing_vocabularies_are_rejected(
        control: Control, new_trader: NewTrader, size: dict[str, Any]) -> None:
    requester = new_trader("requester")
    error = nested_error(post_rfq(requester, rfq_body(**size)), 400, "invalid_parameters")
    assert "disagree" in error["details"]
    assert requester.get(RFQS).json()["rfqs"] == []


# Required fields and sizing rules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"rest_remainder": False, "contracts_fp": "1"}, "market_ticker"),
        ({"market_ticker": "", "rest_remainder": False, "contracts_fp": "1"}, "market_ticker"),
        ({"market_ticker": MARKET, "contracts_fp": "1"}, "rest_remainder"),
        ({"market_ticker": MARKET, "rest_remainder": None, "contracts_fp": "1"},
         "rest_remainder"),
    ],
)
def test_create_rfq_without_a_required_field_is_invalid_parameters(
        control: Control, new_trader: NewTrader, body: dict[str, Any], detail: str) -> None:
    requester = new_trader("requester")
    error = nested_error(post_rfq(requester, body), 400, "invalid_parameters")
    assert detail in error["details"]


@pytest.mark.parametrize(
    "size",
    [
        {},
        {"contracts_fp": None, "target_cost_dollars": None},
        {"contracts": 10, "target_cost_dollars": "35.00"},
        {"contracts_fp": "10", "target_cost_centi_cents": 350000},
        {"contracts_fp": "10", "target_cost_dollars": "35.00"},
    ],
)
def test_create_rfq_needs_exactly_one_size(control: Control, new_trader: NewTrader,
                                           size: dict[str, Any]) -> None:
    requester = new_trader("requester")
    error = nested_error(post_rfq(requester, rfq_body(**size)), 400, "invalid_parameters")
    assert "exactly one size" in error["details"]


@pytest.mark.parametrize(
    "size",
    [
        {"contracts_fp": "1.005"},
        {"contracts_fp": "0.001"},
        {"contracts_fp": "0"},
        {"contracts_fp": "0.00"},
        {"contracts_fp": "-1"},
        {"contracts_fp": "1e2"},
        {"contracts_fp": "NaN"},
        {"contracts_fp": " 1"},
        {"contracts_fp": ""},
        {"contracts": 0},
        {"contracts": -5},
        {"target_cost_dollars": "0"},
        {"target_cost_dollars": "-1.00"},
        {"target_cost_dollars": "1.00001"},
        {"target_cost_centi_cents": 0},
        {"target_cost_centi_cents": -100},
    ],
)
def test_create_rfq_with_a_bad_size_is_invalid_parameters(
        control: Control, new_trader: NewTrader, size: dict[str, Any]) -> None:
    requester = new_trader("requester")
    nested_error(post_rfq(requester, rfq_body(**size)), 400, "invalid_parameters")


def test_create_rfq_counts_allow_trailing_zeros_beyond_two_decimals(
        control: Control, new_trader: NewTrader) -> None:
    # The sandbox checks the value's granularity, not the digits: "1.000" is 1.00 contracts.
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(contracts_fp="1.000"))
    assert response.status_code == 201, response.text
    assert requester.rfq(response.json()["id"])["contracts_fp"] == "1.00"


@pytest.mark.parametrize(
    "size",
    [
        {"contracts_fp": "99999999999999999999999"},
        {"contracts": 92233720368547758},
        {"contracts": 10**30},
    ],
)
def test_create_rfq_with_an_absurdly_large_size_is_a_400_not_a_server_error(
        control: Control, new_trader: NewTrader, size: dict[str, Any]) -> None:
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(**size))
    assert response.status_code == 400, response.text
    assert requester.get(RFQS).json()["rfqs"] == []


@pytest.mark.parametrize("centi_cents", [10**16, 2**62, 2**63 - 1])
def test_create_rfq_with_an_absurdly_large_target_cost_is_invalid_parameters(
        control: Control, new_trader: NewTrader, centi_cents: int) -> None:
    # As for every other amount: too many whole digits is a malformed value, before any
    # balance check.
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(target_cost_centi_cents=centi_cents))
    error = nested_error(response, 400, "invalid_parameters")
    assert "too large" in error["details"]
    assert requester.get(RFQS).json()["rfqs"] == []


def test_create_rfq_target_cost_excludes_fees_without_target_is_invalid(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    error = nested_error(post_rfq(requester, rfq_body(contracts_fp="1",
                                                      target_cost_excludes_fees=True)),
                         400, "invalid_parameters")
    assert "target_cost_excludes_fees" in error["details"]


@pytest.mark.parametrize("subaccount", [-1, 64])
def test_create_rfq_subaccount_out_of_range_is_invalid(control: Control, new_trader: NewTrader,
                                                       subaccount: int) -> None:
    requester = new_trader("requester")
    nested_error(post_rfq(requester, rfq_body(contracts_fp="1", subaccount=subaccount)),
                 400, "invalid_parameters")


# Markets ------------------------------------------------------------------------------------


def test_create_rfq_on_an_unknown_market_is_invalid_parameters(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    error = nested_error(post_rfq(requester, rfq_body(market_ticker="KXNOPE-1",
                                                      contracts_fp="1")),
                         400, "invalid_parameters")
    assert "KXNOPE-1" in error["details"]


@pytest.mark.parametrize("status", ["closed", "determined", "initialized", "inactive"])
def test_create_rfq_on_a_market_that_is_not_active_is_invalid_parameters(
        control: Control, new_trader: NewTrader, status: str) -> None:
    requester = new_trader("requester")
    close_market(control, MARKET, status)
    error = nested_error(post_rfq(requester, rfq_body(contracts_fp="1")), 400,
                         "invalid_parameters")
    assert status in error["details"]
    # The other market is untouched.
    assert post_rfq(requester, rfq_body(market_ticker=HVM_MARKET,
                                        contracts_fp="1")).status_code == 201


# One open RFQ per market, replace_existing, the open-RFQ limit ------------------------------


def test_create_rfq_second_open_rfq_on_the_same_market_is_a_409(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    first = requester.create_rfq(MARKET, "1")
    error = nested_error(post_rfq(requester, rfq_body(contracts_fp="2")), 409,
                         "rfq_already_exists")
    assert MARKET in error["details"]
    assert requester.rfq(first)["status"] == "open"
    # Another market, and another user on the same market, are fine.
    requester.create_rfq(HVM_MARKET, "1")
    new_trader("other").create_rfq(MARKET, "1")
    # With replace_existing explicitly false the conflict stands.
    nested_error(post_rfq(requester, rfq_body(contracts_fp="2", replace_existing=False)),
                 409, "rfq_already_exists")


def test_create_rfq_after_the_previous_one_closed_is_allowed(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    first = requester.create_rfq(MARKET, "1")
    assert requester.delete(f"{RFQS}/{first}").status_code == 204
    second = requester.create_rfq(MARKET, "1")
    assert second != first


def test_create_rfq_replace_existing_closes_the_callers_open_rfqs_and_cancels_their_quotes(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    other = new_trader("other")
    on_market = requester.create_rfq(MARKET, "1")
    on_hvm = requester.create_rfq(HVM_MARKET, "1")
    others_rfq = other.create_rfq(MARKET, "1")
    open_quote = maker.create_quote(on_market)
    accepted_quote = maker.create_quote(on_hvm)
    requester.accept(on_hvm, accepted_quote)
    others_quote = maker.create_quote(others_rfq)

    response = post_rfq(requester, rfq_body(contracts_fp="5", replace_existing=True))
    assert response.status_code == 201, response.text
    new_id = response.json()["id"]

    for rfq_id in (on_market, on_hvm):
        closed = requester.rfq(rfq_id)
        assert closed["status"] == "closed"
        assert closed["cancellation_reason"] == "replaced"
        assert "cancelled_ts" in closed
    for rfq_id, quote_id in ((on_market, open_quote), (on_hvm, accepted_quote)):
        quote = quote_as(maker, rfq_id, quote_id)
        assert quote["status"] == "cancelled"
        assert quote["cancellation_reason"] == "rfq_closed"
    assert requester.rfq(new_id)["status"] == "open"
    assert requester.rfq(new_id)["contracts_fp"] == "5.00"
    # Other users' RFQs and quotes are not the caller's to replace.
    assert other.rfq(others_rfq)["status"] == "open"
    assert quote_as(maker, others_rfq, others_quote)["status"] == "open"


def test_create_rfq_replace_existing_without_existing_rfqs_just_creates(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(contracts_fp="1", replace_existing=True))
    assert response.status_code == 201, response.text


def test_create_rfq_replace_existing_that_fails_leaves_the_old_rfqs_open(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester", "10")
    maker = new_trader("maker")
    old = requester.create_rfq(MARKET, "1")
    quote_id = maker.create_quote(old)
    response = post_rfq(requester, rfq_body(target_cost_dollars="10.01", replace_existing=True))
    nested_error(response, 400, "insufficient_balance")
    assert requester.rfq(old)["status"] == "open"
    assert quote_as(maker, old, quote_id)["status"] == "open"


def test_create_rfq_beyond_one_hundred_open_rfqs_is_a_409(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    tickers = [f"KXLIMIT-26DEC31-M{i:03d}" for i in range(101)]
    for ticker in tickers:
        control.market(ticker)
    rfq_ids = [requester.create_rfq(ticker, "1") for ticker in tickers[:100]]

    error = nested_error(post_rfq(requester, rfq_body(market_ticker=tickers[100],
                                                      contracts_fp="1")),
                         409, "open_rfq_limit_exceeded")
    assert "100" in error["details"]
    # Other users have their own allowance.
    new_trader("other").create_rfq(tickers[100], "1")
    # Closing one frees a slot.
    assert requester.delete(f"{RFQS}/{rfq_ids[0]}").status_code == 204
    requester.create_rfq(tickers[100], "1")
    nested_error(post_rfq(requester, rfq_body(market_ticker=tickers[0], contracts_fp="1")),
                 409, "open_rfq_limit_exceeded")


# Balance ------------------------------------------------------------------------------------


def test_create_rfq_target_cost_above_the_balance_is_insufficient_balance(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester", "10")
    nested_error(post_rfq(requester, rfq_body(target_cost_dollars="10.01")), 400,
                 "insufficient_balance")
    nested_error(post_rfq(requester, rfq_body(target_cost_centi_cents=100_001)), 400,
                 "insufficient_balance")
    assert requester.get(RFQS).json()["rfqs"] == []
    # Exactly the balance is fine; a contract-sized RFQ is not checked against the balance.
    assert post_rfq(requester, rfq_body(target_cost_dollars="10")).status_code == 201
    assert post_rfq(requester, rfq_body(market_ticker=HVM_MARKET,
                                        contracts_fp="100000")).status_code == 201


# Malformed bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "go_type"),
    [
        ("contracts", "10", "int64"),
        ("contracts", 10.5, "int64"),
        ("contracts", True, "int64"),
        ("contracts_fp", 10, "string"),
        ("target_cost_centi_cents", "350000", "int64"),
        ("target_cost_dollars", 35.0, "string"),
        ("market_ticker", 7, "string"),
        ("rest_remainder", "false", "bool"),
        ("rest_remainder", 0, "bool"),
        ("replace_existing", "true", "bool"),
        ("subaccount", "1", "int64"),
        ("target_cost_excludes_fees", 1, "bool"),
        ("contracts_fp", ["1"], "string"),
        ("contracts_fp", {"value": "1"}, "string"),
        ("subtrader_id", 5, "string"),
        ("subtrader_id", True, "string"),
    ],
)
def test_create_rfq_field_of_the_wrong_json_type_is_a_flat_bad_request(
        control: Control, new_trader: NewTrader, field: str, value: Any, go_type: str) -> None:
    requester = new_trader("requester")
    body = rfq_body(contracts_fp="1")
    body[field] = value
    if field.startswith("contracts") and field != "contracts_fp":
        body.pop("contracts_fp")
    error = flat_error(post_rfq(requester, body))
    assert error["details"].startswith("json: cannot unmarshal")
    assert f"CreateRFQRequest.{field}" in error["details"]
    assert go_type in error["details"]
    assert requester.get(RFQS).json()["rfqs"] == []


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"   ", b"[]", b'"text"', b"42", b'{"a": 1,}']
)
def test_create_rfq_body_that_is_not_a_json_object_is_a_flat_bad_request(
        control: Control, new_trader: NewTrader, raw: bytes) -> None:
    requester = new_trader("requester")
    response = requester.post(RFQS, content=raw, headers={"content-type": "application/json"})
    error = flat_error(response)
    assert error["details"]


def test_create_rfq_null_body_decodes_as_empty_and_fails_validation(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    response = requester.post(RFQS, content=b"null",
                              headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_parameters"
    assert requester.get(RFQS).json()["rfqs"] == []


def test_create_rfq_ignores_unknown_fields(control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    response = post_rfq(requester, rfq_body(contracts_fp="1", subtrader_id="abc",
                                            something_new={"x": 1}))
    assert response.status_code == 201, response.text


def test_create_rfq_without_a_signature_is_a_401(control: Control, new_trader: NewTrader
                                                 ) -> None:
    requester = new_trader("requester")
    response = requester.http.post(RFQS, json=rfq_body(contracts_fp="1"),
                                 auth=httpx.Auth())
    nested_error(response, 401, "authentication_error")
    assert requester.get(RFQS).json()["rfqs"] == []


def test_create_rfq_quote_on_replaced_rfq_is_rfq_closed(control: Control,
                                                        new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    old = requester.create_rfq(MARKET, "1")
    assert post_rfq(requester, rfq_body(contracts_fp="1", replace_existing=True)
                    ).status_code == 201
    nested_error(post_quote(maker, old), 400, "RFQ_CLOSED")


def test_create_rfq_replace_existing_keeps_an_rfq_with_a_confirmed_quote(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "1")
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id)
    maker.confirm(rfq_id, quote_id)
    # The confirmed trade cannot be undone, so the RFQ stays and still blocks its market.
    nested_error(post_rfq(requester, rfq_body(contracts_fp="1", replace_existing=True)),
                 409, "rfq_already_exists")
    assert requester.rfq(rfq_id)["status"] == "open"
    control.advance(15)
    assert quote_as(maker, rfq_id, quote_id)["status"] == "executed"
    assert post_rfq(requester, rfq_body(contracts_fp="1")).status_code == 201


def test_create_rfq_replace_existing_leaves_other_subaccounts_rfqs_open(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    other_scope = post_rfq(requester, rfq_body(market_ticker=HVM_MARKET, contracts_fp="1",
                                               subaccount=2)).json()["id"]
    same_scope = requester.create_rfq(MARKET, "1")
    response = post_rfq(requester, rfq_body(contracts_fp="1", replace_existing=True))
    assert response.status_code == 201, response.text
    assert requester.rfq(same_scope)["cancellation_reason"] == "replaced"
    assert requester.rfq(other_scope)["status"] == "open"
