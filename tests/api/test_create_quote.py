"""POST /communications/quotes, checked in the order Kalshi checks them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import NewTrader
from tests.api.support import (
    QUOTES,
    RFQS,
    close_market,
    flat_error,
    instant,
    nested_error,
    post_quote,
    post_rfq,
    quote_as,
)
from tests.conftest import MARKET
from tests.support.server import Control, Trader


@pytest.fixture
def parties(control: Control, new_trader: NewTrader) -> tuple[Trader, Trader, str]:
    """A requester with an open 10-contract RFQ on MARKET, and a maker."""
    requester = new_trader("requester")
    maker = new_trader("maker")
    return requester, maker, requester.create_rfq(MARKET, "10")


def test_create_quote_answers_201_with_the_id_and_an_open_quote(
        parties: tuple[Trader, Trader, str]) -> None:
    requester, maker, rfq_id = parties
    response = post_quote(maker, rfq_id, "0.40", "0.55")
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id"}
    quote = quote_as(maker, rfq_id, response.json()["id"])
    assert quote["status"] == "open"
    assert quote["rfq_id"] == rfq_id
    assert quote["market_ticker"] == MARKET
    assert quote["yes_bid_dollars"] == "0.4000"
    assert quote["no_bid_dollars"] == "0.5500"
    assert (quote["yes_bid"], quote["no_bid"]) == (40, 55)
    assert quote["contracts_fp"] == "10.00"
    assert quote["contracts"] == 10
    assert (quote["yes_contracts_fp"], quote["no_contracts_fp"]) == ("10.00", "10.00")
    assert quote["creator_id"] == maker.account.communications_id
    assert quote["rfq_creator_id"] == requester.account.communications_id
    assert quote["rest_remainder"] is False
    assert quote["created_ts"] == quote["updated_ts"]
    for absent in ("accepted_side", "accepted_ts", "cancelled_ts", "cancellation_reason",
                   "rfq_target_cost_dollars"):
        assert absent not in quote


# Step 1: body and rfq_id ----------------------------------------------------------------


@pytest.mark.parametrize("rfq_id", ["not-a-uuid", "1234", "", "g" * 36,
                                    "6f1c0e4e-9b1a-4c1e-8f1a-2b3c4d5e6f7"])
def test_create_quote_with_a_malformed_rfq_id_is_a_400(
        parties: tuple[Trader, Trader, str], rfq_id: str) -> None:
    _, maker, _ = parties
    # Off-grid prices too: the rfq_id is checked first.
    error = nested_error(post_quote(maker, rfq_id, "0.405", "0.55"), 400, "invalid_parameters")
    assert "rfq_id" in error["details"]


def test_create_quote_without_rfq_id_is_a_400(parties: tuple[Trader, Trader, str]) -> None:
    _, maker, _ = parties
    response = maker.post(QUOTES, json={"yes_bid": "0.40", "no_bid": "0.55",
                                        "rest_remainder": False})
    error = nested_error(response, 400, "invalid_parameters")
    assert "rfq_id" in error["details"]


@pytest.mark.parametrize(
    ("field", "value", "go_type"),
    [
        ("yes_bid", 0.4, "string"),
        ("no_bid", 55, "string"),
        ("yes_bid", True, "string"),
        ("rfq_id", 12, "string"),
        ("rest_remainder", "false", "bool"),
        ("post_only", "true", "bool"),
        ("subaccount", 1.5, "int64"),
    ],
)
def test_create_quote_field_of_the_wrong_json_type_is_a_flat_bad_request(
        parties: tuple[Trader, Trader, str], field: str, value: Any, go_type: str) -> None:
    _, maker, rfq_id = parties
    body: dict[str, Any] = {"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                            "rest_remainder": False, field: value}
    error = flat_error(maker.post(QUOTES, json=body))
    assert f"CreateQuoteRequest.{field}" in error["details"]
    assert go_type in error["details"]
    assert maker.get(QUOTES).json()["quotes"] == []


@pytest.mark.parametrize("raw", [b"{", b"", b"[1]", b"true"])
def test_create_quote_body_that_is_not_a_json_object_is_a_flat_bad_request(
        parties: tuple[Trader, Trader, str], raw: bytes) -> None:
    _, maker, _ = parties
    flat_error(maker.post(QUOTES, content=raw, headers={"content-type": "application/json"}))


@pytest.mark.parametrize("missing", ["yes_bid", "no_bid", "rest_remainder"])
def test_create_quote_without_a_required_field_is_a_400(
        parties: tuple[Trader, Trader, str], missing: str) -> None:
    _, maker, rfq_id = parties
    body: dict[str, Any] = {"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                            "rest_remainder": False}
    del body[missing]
    error = nested_error(maker.post(QUOTES, json=body), 400, "invalid_parameters")
    assert missing in error["details"]


# Step 2: the RFQ exists and is open -------------------------------------------------------


def test_create_quote_on_an_unknown_rfq_is_invalid_parameters_not_404(
        parties: tuple[Trader, Trader, str]) -> None:
    _, maker, _ = parties
    unknown = str(uuid.uuid4())
    for yes_bid, no_bid in (("0.40", "0.55"), ("0.405", "0.55"), ("0", "0"),
                            ("0.40001", "0.55"), ("1.50", "0")):
        error = nested_error(post_quote(maker, unknown, yes_bid, no_bid), 400,
                             "invalid_parameters")
        assert "not found" in error["details"], (yes_bid, no_bid)


@pytest.mark.parametrize(
    ("yes_bid", "no_bid"),
    [("0.40", "0.55"), ("0.405", "0.55"), ("0", "0"), ("0.70", "0.70"), ("0.40001", "0.5"),
     ("1", "0")],
)
def test_create_quote_on_a_deleted_rfq_is_rfq_closed_whatever_the_prices(
        parties: tuple[Trader, Trader, str], yes_bid: str, no_bid: str) -> None:
    requester, maker, rfq_id = parties
    assert requester.delete(f"{RFQS}/{rfq_id}").status_code == 204
    nested_error(post_quote(maker, rfq_id, yes_bid, no_bid), 400, "RFQ_CLOSED")


def test_create_quote_on_an_rfq_closed_with_its_market_is_rfq_closed(
        control: Control, parties: tuple[Trader, Trader, str]) -> None:
    requester, maker, rfq_id = parties
    close_market(control, MARKET)
    rfq = requester.rfq(rfq_id)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "market_closed")
    nested_error(post_quote(maker, rfq_id), 400, "RFQ_CLOSED")


def test_create_quote_on_an_executed_rfq_is_rfq_closed(
        control: Control, new_trader: NewTrader, parties: tuple[Trader, Trader, str]) -> None:
    requester, maker, rfq_id = parties
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id)
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    nested_error(post_quote(new_trader("late"), rfq_id), 400, "RFQ_CLOSED")


# Step 3: not one's own RFQ ----------------------------------------------------------------


@pytest.mark.parametrize(("yes_bid", "no_bid"), [("0.40", "0.55"), ("0.405", "0.55"),
                                                 ("0", "0"), ("0.40001", "0.55")])
def test_create_quote_on_ones_own_rfq_is_invalid_parameters_before_price_checks(
        parties: tuple[Trader, Trader, str], yes_bid: str, no_bid: str) -> None:
    requester, _, rfq_id = parties
    error = nested_error(post_quote(requester, rfq_id, yes_bid, no_bid), 400,
                         "invalid_parameters")
    assert "own rfq" in error["details"]
    assert requester.get(QUOTES).json()["quotes"] == []


# Step 4: prices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("structure", "price", "valid"),
    [
        ("linear_cent", "0.01", True),
        ("linear_cent", "0.40", True),
        ("linear_cent", "0.99", True),
        ("linear_cent", "0.405", False),
        ("linear_cent", "0.4001", False),
        ("deci_cent", "0.405", True),
        ("deci_cent", "0.001", True),
        ("deci_cent", "0.999", True),
        ("deci_cent", "0.4055", False),
        ("tapered_deci_cent", "0.055", True),
        ("tapered_deci_cent", "0.001", True),
        ("tapered_deci_cent", "0.10", True),
        ("tapered_deci_cent", "0.105", False),
        ("tapered_deci_cent", "0.55", True),
        ("tapered_deci_cent", "0.555", False),
        ("tapered_deci_cent", "0.90", True),
        ("tapered_deci_cent", "0.905", True),
        ("tapered_deci_cent", "0.999", True),
        ("tapered_deci_cent", "0.9555", False),
        ("tapered_deci_cent", "0.0555", False),
        ("center_deci_edge_centi_cent", "0.0055", True),
        ("center_deci_edge_centi_cent", "0.5555", False),
        ("center_deci_edge_centi_cent", "0.555", True),
    ],
)
def test_create_quote_prices_must_sit_on_the_markets_grid(
        control: Control, new_trader: NewTrader, structure: str, price: str,
        valid: bool) -> None:
    ticker = f"KXGRID-26DEC31-{structure.upper().replace('_', '')}"
    control.market(ticker, price_level_structure=structure)
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(ticker, "1")
    for yes_bid, no_bid in ((price, "0"), ("0", price)):
        response = post_quote(maker, rfq_id, yes_bid, no_bid)
        if valid:
            assert response.status_code == 201, response.text
        else:
            error = nested_error(response, 400, "invalid_parameters")
            assert "price grid" in error["details"]
            assert structure in error["details"]


def test_create_quote_market_grid_comes_from_price_ranges(
        control: Control, new_trader: NewTrader) -> None:
    # A market whose ticks are 0.05 apart: 0.40 is on the grid, 0.41 is not.
    control.market("KXNICKEL-26DEC31-A", price_level_structure="custom_nickel",
                   price_ranges=[{"start": "0", "end": "1", "step": "0.05"}])
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq("KXNICKEL-26DEC31-A", "1")
    nested_error(post_quote(maker, rfq_id, "0.41", "0.55"), 400, "invalid_parameters")
    assert post_quote(maker, rfq_id, "0.40", "0.55").status_code == 201


@pytest.mark.parametrize(("yes_bid", "no_bid"), [("0", "0"), ("0.00", "0.0000"), ("0.0", "0")])
def test_create_quote_with_both_bids_zero_is_invalid_parameters(
        parties: tuple[Trader, Trader, str], yes_bid: str, no_bid: str) -> None:
    _, maker, rfq_id = parties
    error = nested_error(post_quote(maker, rfq_id, yes_bid, no_bid), 400, "invalid_parameters")
    assert "both be zero" in error["details"]


@pytest.mark.parametrize(("yes_bid", "no_bid"), [("0.60", "0.41"), ("0.99", "0.02"),
                                                 ("0.51", "0.50")])
def test_create_quote_whose_bids_sum_above_one_dollar_is_invalid_parameters(
        parties: tuple[Trader, Trader, str], yes_bid: str, no_bid: str) -> None:
    _, maker, rfq_id = parties
    error = nested_error(post_quote(maker, rfq_id, yes_bid, no_bid), 400, "invalid_parameters")
    assert "exceed 1.00" in error["details"]


def test_create_quote_whose_bids_sum_to_exactly_one_dollar_is_accepted(
        parties: tuple[Trader, Trader, str]) -> None:
    _, maker, rfq_id = parties
    assert post_quote(maker, rfq_id, "0.60", "0.40").status_code == 201


@pytest.mark.parametrize(
    ("yes_bid", "no_bid", "detail"),
    [
        ("0.40001", "0.55", "decimal places"),
        ("0.4", "0.550001", "decimal places"),
        ("1", "0", "below 1.00"),
        ("1.00", "0", "below 1.00"),
        ("0", "1.5", "below 1.00"),
        ("-0.40", "0.55", "decimal string"),
        ("0.4e0", "0.55", "decimal string"),
        ("abc", "0.55", "decimal string"),
        ("", "0.55", "decimal string"),
        ("0.40", "NaN", "decimal string"),
    ],
)
def test_create_quote_with_a_malformed_price_is_invalid_parameters(
        parties: tuple[Trader, Trader, str], yes_bid: str, no_bid: str, detail: str) -> None:
    _, maker, rfq_id = parties
    error = nested_error(post_quote(maker, rfq_id, yes_bid, no_bid), 400, "invalid_parameters")
    assert detail in error["details"]
    assert maker.get(QUOTES).json()["quotes"] == []


@pytest.mark.parametrize(("yes_bid", "rendered"), [("0.4", "0.4000"), ("0.40", "0.4000"),
                                                   ("0.4000", "0.4000"), (".4", None)])
def test_create_quote_accepts_zero_to_four_decimals(
        parties: tuple[Trader, Trader, str], yes_bid: str, rendered: str | None) -> None:
    _, maker, rfq_id = parties
    response = post_quote(maker, rfq_id, yes_bid, "0.55")
    if rendered is None:
        nested_error(response, 400, "invalid_parameters")
        return
    assert response.status_code == 201, response.text
    assert quote_as(maker, rfq_id, response.json()["id"])["yes_bid_dollars"] == rendered


# Step 5: subaccount and funds ------------------------------------------------------------


@pytest.mark.parametrize("subaccount", [-1, 64])
def test_create_quote_subaccount_out_of_range_is_invalid_parameters(
        parties: tuple[Trader, Trader, str], subaccount: int) -> None:
    _, maker, rfq_id = parties
    nested_error(post_quote(maker, rfq_id, subaccount=subaccount), 400, "invalid_parameters")


def test_create_quote_maker_who_cannot_pay_the_worse_side_is_insufficient_balance(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    # Accepting "yes" makes the maker buy 10 NO at 0.55 = $5.50 plus a $0.0434 maker fee.
    poor = new_trader("poor", "5.5433")
    rfq_id = requester.create_rfq(MARKET, "10")
    nested_error(post_quote(poor, rfq_id, "0.40", "0.55"), 400, "insufficient_balance")
    # Declining that side leaves only the cheaper one: 10 YES at 0.40 = $4.00 plus fees.
    assert post_quote(poor, rfq_id, "0.40", "0").status_code == 201
    enough = new_trader("enough", "5.5434")
    assert post_quote(enough, rfq_id, "0.40", "0.55").status_code == 201


# Step 6: replacement ------------------------------------------------------------------------


def test_create_quote_again_replaces_the_makers_open_quote(
        control: Control, new_trader: NewTrader, parties: tuple[Trader, Trader, str]) -> None:
    requester, maker, rfq_id = parties
    rival = new_trader("rival")
    first = maker.create_quote(rfq_id, "0.40", "0.55")
    rivals = rival.create_quote(rfq_id, "0.41", "0.55")
    control.advance(1)
    second = maker.create_quote(rfq_id, "0.42", "0.55")
    assert second != first

    old = quote_as(requester, rfq_id, first)
    assert old["status"] == "cancelled"
    assert old["cancellation_reason"] == "replaced"
    assert old["cancelled_ts"] == old["updated_ts"]
    assert instant(old["updated_ts"]) > instant(old["created_ts"])
    assert quote_as(requester, rfq_id, second)["status"] == "open"
    assert quote_as(requester, rfq_id, second)["yes_bid_dollars"] == "0.4200"
    # Replacement is per maker: the rival's quote stays open.
    assert quote_as(requester, rfq_id, rivals)["status"] == "open"
    # The replaced quote can no longer be accepted.
    response = requester.put(f"{RFQS}/{rfq_id}/quotes/{first}/accept",
                             json={"accepted_side": "yes"})
    nested_error(response, 400, "invalid_parameters")


def test_create_quote_replacement_is_per_rfq(control: Control, new_trader: NewTrader) -> None:
    maker = new_trader("maker")
    first_rfq = new_trader("one").create_rfq(MARKET, "1")
    second_rfq = new_trader("two").create_rfq(MARKET, "1")
    first = maker.create_quote(first_rfq)
    maker.create_quote(second_rfq)
    assert quote_as(maker, first_rfq, first)["status"] == "open"


@pytest.mark.parametrize("confirm", [False, True])
def test_create_quote_by_a_maker_whose_quote_is_accepted_or_confirmed_is_rejected(
        parties: tuple[Trader, Trader, str], confirm: bool) -> None:
    requester, maker, rfq_id = parties
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id)
    if confirm:
        maker.confirm(rfq_id, quote_id)
    error = nested_error(post_quote(maker, rfq_id, "0.45", "0.50"), 400, "invalid_parameters")
    assert quote_id in error["details"]
    status = "confirmed" if confirm else "accepted"
    assert quote_as(maker, rfq_id, quote_id)["status"] == status
    assert [q["id"] for q in maker.get(QUOTES).json()["quotes"]] == [quote_id]


def test_create_quote_after_the_makers_quote_was_deleted_is_allowed(
        parties: tuple[Trader, Trader, str]) -> None:
    _, maker, rfq_id = parties
    first = maker.create_quote(rfq_id)
    assert maker.delete(f"{QUOTES}/{first}").status_code == 204
    second = maker.create_quote(rfq_id)
    assert quote_as(maker, rfq_id, second)["status"] == "open"
    assert quote_as(maker, rfq_id, first)["cancellation_reason"] == "deleted_by_user"


# Sizes per side -------------------------------------------------------------------------------


def test_create_quote_on_a_contract_rfq_offers_the_full_size_on_each_quoted_side(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "2.5")
    quote = quote_as(maker, rfq_id, maker.create_quote(rfq_id, "0.40", "0"))
    # yes_contracts_fp is what the requester gets by accepting "yes", which needs the
    # maker's NO bid; that side is declined here.
    assert (quote["yes_contracts_fp"], quote["no_contracts_fp"]) == ("0.00", "2.50")
    assert quote["contracts_fp"] == "2.50"
    assert quote["contracts"] == 2


def test_create_quote_on_a_target_cost_rfq_sizes_each_side_including_the_taker_fee(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    response = post_rfq(requester, {"market_ticker": MARKET, "rest_remainder": False,
                                    "target_cost_dollars": "10.00"})
    assert response.status_code == 201, response.text
    rfq_id = response.json()["id"]
    quote = quote_as(requester, rfq_id, maker.create_quote(rfq_id, "0.40", "0.55"))
    # Accepting "yes" buys YES at 1 - 0.55 = 0.45; the taker fee is
    # ceil_0.0001(0.07 x n x 0.45 x 0.55) = ceil_0.0001(0.017325 n).
    #   n = 21.39: 9.6255 + ceil(0.37058175) 0.3706 = 9.9961 <= 10
    #   n = 21.40: 9.6300 + ceil(0.37075500) 0.3708 = 10.0008 > 10
    assert quote["yes_contracts_fp"] == "21.39"
    # Accepting "no" buys NO at 1 - 0.40 = 0.60; fee ceil_0.0001(0.07 x n x 0.6 x 0.4).
    #   n = 16.21: 9.7260 + ceil(0.272328) 0.2724 = 9.9984 <= 10
    #   n = 16.22: 9.7320 + ceil(0.272496) 0.2725 = 10.0045 > 10
    assert quote["no_contracts_fp"] == "16.21"
    # Reference Q8: the quote's contracts_fp is the larger side.
    assert quote["contracts_fp"] == "21.39"
    assert quote["rfq_target_cost_dollars"] == "10.0000"
    assert quote["rfq_target_cost_centi_cents"] == 100_000
    assert quote["target_cost_excludes_fees"] is False
    assert requester.rfq(rfq_id)["contracts_fp"] == "0.00"


def test_create_quote_on_a_target_cost_rfq_excluding_fees_sizes_principal_only(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    response = post_rfq(requester, {"market_ticker": MARKET, "rest_remainder": False,
                                    "target_cost_centi_cents": 100_000,
                                    "target_cost_excludes_fees": True})
    assert response.status_code == 201, response.text
    rfq_id = response.json()["id"]
    quote = quote_as(requester, rfq_id, maker.create_quote(rfq_id, "0.40", "0.55"))
    # floor_0.01(10 / 0.45) = floor_0.01(22.2222...) = 22.22
    assert quote["yes_contracts_fp"] == "22.22"
    # floor_0.01(10 / 0.60) = floor_0.01(16.6666...) = 16.66
    assert quote["no_contracts_fp"] == "16.66"
    assert quote["contracts_fp"] == "22.22"
    assert quote["target_cost_excludes_fees"] is True


def test_create_quote_on_a_target_cost_rfq_with_a_declined_side_offers_zero_on_it(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    response = post_rfq(requester, {"market_ticker": MARKET, "rest_remainder": False,
                                    "target_cost_dollars": "10", "target_cost_excludes_fees":
                                    True})
    rfq_id = response.json()["id"]
    quote = quote_as(requester, rfq_id, maker.create_quote(rfq_id, "0", "0.75"))
    # "yes" costs 1 - 0.75 = 0.25: floor_0.01(10 / 0.25) = 40.00; "no" is declined.
    assert (quote["yes_contracts_fp"], quote["no_contracts_fp"]) == ("40.00", "0.00")


def test_create_quote_whose_target_cost_buys_nothing_is_invalid_parameters(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    response = post_rfq(requester, {"market_ticker": MARKET, "rest_remainder": False,
                                    "target_cost_dollars": "0.001"})
    rfq_id = response.json()["id"]
    # 0.001 / 0.45 < 0.01 contracts on either side.
    error = nested_error(post_quote(maker, rfq_id, "0.40", "0.55"), 400, "invalid_parameters")
    assert "no contracts" in error["details"]


def test_create_quote_post_only_and_rest_remainder_are_recorded(
        parties: tuple[Trader, Trader, str]) -> None:
    _, maker, rfq_id = parties
    response = post_quote(maker, rfq_id, post_only=True, rest_remainder=True)
    assert response.status_code == 201, response.text
    quote = quote_as(maker, rfq_id, response.json()["id"])
    assert quote["post_only"] is True
    assert quote["rest_remainder"] is True


def test_create_quote_that_fails_validation_leaves_the_previous_quote_open(
        parties: tuple[Trader, Trader, str]) -> None:
    requester, maker, rfq_id = parties
    first = maker.create_quote(rfq_id, "0.40", "0.55")
    for yes_bid, no_bid in (("0.405", "0.55"), ("0.60", "0.50"), ("0", "0"), ("0.4x", "0")):
        nested_error(post_quote(maker, rfq_id, yes_bid, no_bid), 400, "invalid_parameters")
    quote = quote_as(requester, rfq_id, first)
    assert quote["status"] == "open"
    assert quote["created_ts"] == quote["updated_ts"]


def test_create_quote_after_the_makers_accepted_quote_lapsed_is_allowed(
        control: Control, parties: tuple[Trader, Trader, str]) -> None:
    requester, maker, rfq_id = parties
    first = maker.create_quote(rfq_id)
    requester.accept(rfq_id, first)
    control.advance(30)
    second = maker.create_quote(rfq_id, "0.45", "0.50")
    assert quote_as(maker, rfq_id, first)["cancellation_reason"] == "confirmation_timeout"
    assert quote_as(maker, rfq_id, second)["status"] == "open"
