"""The ``msg`` payloads of the WebSocket data messages, per recipient.

WebSocket names differ from REST: ``quote_id``/``quote_creator_id`` for ``id``/``creator_id``,
``*_contracts_offered_fp`` for ``yes_contracts_fp``/``no_contracts_fp``. A recipient sees only
what Kalshi lets it see: the obscured creator id unless entitled (domain/rfq.py,
domain/quote.py), and ``subaccount`` only when it is its own side's (and not the primary
account, 0). docs/behaviour.md, "WebSocket", lists the messages.
"""

from __future__ import annotations

from typing import Any

from kalshi_sandbox.domain.clock import MICROS, format_instant
from kalshi_sandbox.domain.money import ONE_DOLLAR, format_count, format_money, format_price
from kalshi_sandbox.domain.portfolio import Fill, Order
from kalshi_sandbox.domain.quote import Quote, Side
from kalshi_sandbox.domain.rfq import Rfq


def _subaccount(data: dict[str, Any], subaccount: int) -> dict[str, Any]:
    if subaccount:
        data["subaccount"] = subaccount
    return data


def _rfq_common(rfq: Rfq, entitled: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": rfq.id,
        "creator_id": rfq.creator_id_shown(entitled),
        "market_ticker": rfq.market_ticker,
        "event_ticker": rfq.event_ticker,
        "contracts_fp": format_count(rfq.contracts),
    }
    if rfq.target_cost is not None:
        data["target_cost_dollars"] = format_money(rfq.target_cost)
    return data


def rfq_created(rfq: Rfq, entitled: bool) -> dict[str, Any]:
    """Render ``rfq_created``; ``entitled`` recipients see the creator's real id."""
    data = _rfq_common(rfq, entitled)
    data["created_ts"] = format_instant(rfq.created_ts)
    if rfq.mve_collection_ticker:
        data["mve_collection_ticker"] = rfq.mve_collection_ticker
    return data


def rfq_deleted(rfq: Rfq, deleted_ts: int, entitled: bool) -> dict[str, Any]:
    """Render ``rfq_deleted``; sent whenever an RFQ closes, for any reason."""
    data = _rfq_common(rfq, entitled)
    data["deleted_ts"] = format_instant(deleted_ts)
    return data


def _quote_common(quote: Quote, viewer: str) -> dict[str, Any]:
    return {
        "quote_id": quote.id,
        "rfq_id": quote.rfq_id,
        "quote_creator_id": quote.creator_id,
        "rfq_creator_id": quote.rfq_creator_id_seen_by(viewer),
        "market_ticker": quote.market_ticker,
        "event_ticker": quote.event_ticker,
    }


def _own_subaccount(quote: Quote, viewer: str) -> int:
    if viewer == quote.creator_user_id:
        return quote.creator_subaccount
    if viewer == quote.rfq_creator_user_id:
        return quote.rfq_creator_subaccount
    return 0


def _offer(quote: Quote, data: dict[str, Any]) -> dict[str, Any]:
    data["yes_bid_dollars"] = format_price(quote.yes_bid)
    data["no_bid_dollars"] = format_price(quote.no_bid)
    data["yes_contracts_offered_fp"] = format_count(quote.yes_contracts)
    data["no_contracts_offered_fp"] = format_count(quote.no_contracts)
    if quote.rfq_target_cost is not None:
        data["rfq_target_cost_dollars"] = format_money(quote.rfq_target_cost)
    return data


def quote_created(quote: Quote, viewer: str) -> dict[str, Any]:
    """Render ``quote_created`` for ``viewer``, the quote's maker or the RFQ's requester."""
    data = _offer(quote, _quote_common(quote, viewer))
    data["created_ts"] = format_instant(quote.created_ts)
    return _subaccount(data, _own_subaccount(quote, viewer))


def quote_accepted(quote: Quote, viewer: str) -> dict[str, Any]:
    """Render ``quote_accepted``: the accepted side and size; Kalshi sends no timestamp."""
    data = _offer(quote, _quote_common(quote, viewer))
    if quote.accepted_side is not None:
        data["accepted_side"] = quote.accepted_side.value
        data["contracts_accepted_fp"] = format_count(quote.side_contracts(quote.accepted_side))
    return _subaccount(data, _own_subaccount(quote, viewer))


def quote_executed(quote: Quote, order: Order, viewer: str) -> dict[str, Any]:
    """Render ``quote_executed`` with the recipient's own order."""
    data = _quote_common(quote, viewer)
    data["order_id"] = order.order_id
    data["client_order_id"] = order.client_order_id
    data["executed_ts"] = format_instant(quote.executed_ts or order.created_ts)
    return _subaccount(data, order.subaccount)


def _book_side(side: Side) -> str:
    return "bid" if side is Side.YES else "ask"


def fill(fill: Fill, post_position: int | None, client_order_id: str | None) -> dict[str, Any]:
    """Render a ``fill`` message for the fill's owner.

    ``trade_id`` carries the fill's own id: Kalshi's REST ``trade_id`` equals ``fill_id``, and
    the WebSocket message has only ``trade_id`` to match fills with.
    """
    data: dict[str, Any] = {
        "trade_id": fill.fill_id,
        "order_id": fill.order_id,
        "market_ticker": fill.ticker,
        "is_taker": fill.is_taker,
        "side": fill.side.value,
        "outcome_side": fill.side.value,
        "book_side": _book_side(fill.side),
        "purchased_side": fill.side.value,
        "action": "buy",
        "yes_price_dollars": format_price(fill.yes_price),
        "no_price_dollars": format_price(ONE_DOLLAR - fill.yes_price),
        "count_fp": format_count(fill.count),
        "fee_cost": format_money(fill.fee, 6),
        "ts": fill.created_ts // MICROS,
        "ts_ms": fill.created_ts // 1000,
        "exchange_index": 0,
    }
    if client_order_id is not None:
        data["client_order_id"] = client_order_id
    if post_position is not None:
        data["post_position_fp"] = format_count(post_position)
    return _subaccount(data, fill.subaccount)


def user_order(order: Order) -> dict[str, Any]:
    """Render a ``user_order`` message (channel ``user_orders``) for the order's owner."""
    data: dict[str, Any] = {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "status": order.status.value,
        "side": order.side.value,
        "is_yes": order.side is Side.YES,
        "outcome_side": order.side.value,
        "book_side": _book_side(order.side),
        "action": "buy",
        "type": "limit",
        "yes_price_dollars": format_price(order.yes_price),
        "no_price_dollars": format_price(ONE_DOLLAR - order.yes_price),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count_fp": format_count(order.remaining_count),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost_dollars": format_money(order.taker_fill_cost),
        "maker_fill_cost_dollars": format_money(order.maker_fill_cost),
        "taker_fees_dollars": format_money(order.taker_fees, 6),
        "maker_fees_dollars": format_money(order.maker_fees, 6),
        "self_trade_prevention_type": "taker_at_cross",
        "post_only": order.post_only,
        "created_time": format_instant(order.created_ts),
        "created_ts_ms": order.created_ts // 1000,
        "last_update_time": format_instant(order.updated_ts),
        "last_updated_ts_ms": order.updated_ts // 1000,
        "exchange_index": 0,
    }
    if order.subaccount:
        data["subaccount_number"] = order.subaccount
    return data
