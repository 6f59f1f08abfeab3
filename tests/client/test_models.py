"""Both API generations parse to the same typed values; amounts are exact decimals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kalshi_sandbox.client import (
    Balance,
    Fill,
    Market,
    Position,
    QuoteAccepted,
    QuoteExecuted,
    Rfq,
    Side,
    UnknownMessage,
)
from kalshi_sandbox.client import Quote as QuoteModel
from kalshi_sandbox.client._calls import contracts_fp, fixed, price
from kalshi_sandbox.client.messages import parse_message

RFQ_ID = "9c1d5a52-4b0e-4c1e-9a70-0c8e8f5d2b11"
QUOTE_ID = "5b0e2f34-8d7c-4a1b-b3e2-6f9d0a1c2e33"
COMMON = {"id": QUOTE_ID, "rfq_id": RFQ_ID, "creator_id": "comm_abc123",
          "rfq_creator_id": "comm_def456", "market_ticker": "KXEXAMPLE-26SEP01-T50",
          "status": "accepted", "created_ts": "2024-12-01T10:00:00Z",
          "updated_ts": "2024-12-01T10:00:05.123456789Z"}


def test_quote_from_current_and_legacy_generations_parse_to_equal_values() -> None:
    current = QuoteModel.from_wire({
        **COMMON, "contracts_fp": "25.00", "yes_bid_dollars": "0.4200",
        "no_bid_dollars": "0.5500", "accepted_side": "yes",
        "rfq_target_cost_dollars": "35.0000"})
    legacy = QuoteModel.from_wire({  # kalshi-python 3.2.0: integers, and "true" for yes
        **COMMON, "contracts": 25, "yes_bid": 42, "no_bid": 55, "accepted_side": "true",
        "rfq_target_cost_centi_cents": 350000})
    assert current == legacy
    assert (current.contracts, current.yes_bid, current.no_bid) == (
        Decimal("25.00"), Decimal("0.4200"), Decimal("0.5500"))
    assert legacy.accepted_side is Side.YES
    assert legacy.rfq_target_cost == Decimal("35")
    assert current.updated_ts == datetime(2024, 12, 1, 10, 0, 5, 123456, tzinfo=UTC)
    assert all(isinstance(v, Decimal) for v in (legacy.contracts, legacy.yes_bid))


def test_rfq_from_either_generation_and_unknown_status_still_parses() -> None:
    base = {"id": RFQ_ID, "creator_id": "comm_abc123", "market_ticker": "M",
            "created_ts": "2024-12-01T10:00:00Z"}
    current = Rfq.from_wire({**base, "status": "open", "contracts_fp": "10.50"})
    legacy = Rfq.from_wire({**base, "status": "open", "contracts": 10,
                            "target_cost_centi_cents": 350000})
    assert current.contracts == Decimal("10.50")
    assert (legacy.contracts, legacy.target_cost) == (Decimal(10), Decimal("35"))
    assert Rfq.from_wire({**base, "status": "expiring", "contracts_fp": "1"}).status == (
        "expiring")


def test_a_quote_without_required_fields_is_rejected() -> None:
    with pytest.raises(ValueError, match="yes_bid_dollars"):
        QuoteModel.from_wire({**COMMON, "no_bid_dollars": "0.5"})


def test_portfolio_models_read_dollars_or_legacy_cents() -> None:
    assert Balance.from_wire({"balance": 99532, "balance_dollars": "995.3267",
                              "portfolio_value": 450, "updated_ts": 1733047200}).balance == (
        Decimal("995.3267"))
    legacy_balance = Balance.from_wire({"balance": 99532, "portfolio_value": 450,
                                        "updated_ts": 1733047200})
    assert (legacy_balance.balance, legacy_balance.portfolio_value) == (Decimal("995.32"),
                                                                        Decimal("4.50"))
    fill = Fill.from_wire({"trade_id": "t1", "order_id": "o1", "ticker": "M", "side": "yes",
                           "action": "buy", "count": 10, "price": 0.45, "yes_price": 45,
                           "no_price": 55, "yes_price_fixed": "0.4500",
                           "no_price_fixed": "0.5500", "is_taker": True,
                           "created_time": "2024-12-01T10:00:00Z"})
    assert (fill.fill_id, fill.count, fill.yes_price, fill.side) == (
        "t1", Decimal(10), Decimal("0.4500"), Side.YES)
    position = Position.from_wire({"ticker": "M", "position": -10, "market_exposure": 550,
                                   "total_traded": 550, "realized_pnl": 0, "fees_paid": 4,
                                   "resting_orders_count": 0})
    assert (position.position, position.market_exposure) == (Decimal(-10), Decimal("5.50"))


def test_legacy_market_with_only_tick_size_gets_a_whole_cent_grid() -> None:
    market = Market.from_wire({"ticker": "M", "event_ticker": "E", "status": "active",
                               "tick_size": 1, "yes_bid": 40, "last_price": 45})
    assert (market.yes_bid, market.last_price) == (Decimal("0.40"), Decimal("0.45"))
    assert market.on_grid(Decimal("0.45"))
    assert not market.on_grid(Decimal("0.455"))


def test_websocket_example_of_the_reference_parses_to_a_typed_quote_accepted() -> None:
    envelope = {"type": "quote_accepted", "sid": 3, "seq": 41, "sending_ts_ms": 1781160000123,
                "msg": {"quote_id": QUOTE_ID, "rfq_id": RFQ_ID, "quote_creator_id": "a" * 64,
                        "rfq_creator_id": "b" * 64, "market_ticker": "KXEXAMPLE-26SEP01-T50",
                        "yes_bid_dollars": "0.4200", "no_bid_dollars": "0.5500",
                        "accepted_side": "yes", "contracts_accepted_fp": "25.00",
                        "yes_contracts_offered_fp": "25.00", "no_contracts_offered_fp": "25.00"}}
    message = parse_message(envelope)
    assert isinstance(message, QuoteAccepted)
    assert (message.sid, message.seq, message.sending_ts_ms) == (3, 41, 1781160000123)
    assert (message.accepted_side, message.contracts_accepted, message.no_bid) == (
        Side.YES, Decimal("25.00"), Decimal("0.5500"))


def test_quote_executed_gives_the_recipients_own_order() -> None:
    message = parse_message({"type": "quote_executed", "sid": 1, "seq": 9, "msg": {
        "quote_id": QUOTE_ID, "rfq_id": RFQ_ID, "quote_creator_id": "comm_abc123",
        "rfq_creator_id": "comm_def456", "order_id": "o-1", "client_order_id": "c-1",
        "market_ticker": "M", "executed_ts": "2024-12-01T10:00:00Z", "subaccount": 2}})
    assert isinstance(message, QuoteExecuted)
    assert (message.order_id, message.client_order_id, message.subaccount) == ("o-1", "c-1", 2)


def test_unparseable_or_unknown_messages_become_unknown_message_not_an_exception() -> None:
    broken = parse_message({"type": "quote_executed", "sid": 1, "seq": 2, "msg": {}})
    assert isinstance(broken, UnknownMessage)
    assert broken.error is not None
    other = parse_message({"type": "fill", "sid": 2, "seq": 1, "msg": {"x": 1}})
    assert isinstance(other, UnknownMessage)
    assert other.raw == {"x": 1}


def test_request_amounts_are_exact_and_floats_are_refused() -> None:
    assert fixed(Decimal("35"), 4, "t") == "35.00"
    assert price("0.4", "p") == "0.40"
    assert price(Decimal("0.4125"), "p") == "0.4125"
    assert price(0, "p") == "0"
    assert contracts_fp(10) == "10.00"
    assert contracts_fp("2.5") == "2.50"
    with pytest.raises(TypeError, match="float"):
        price(0.4, "p")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        contracts_fp("1.005")
    with pytest.raises(ValueError, match="non-negative"):
        price("-0.1", "p")
