"""The ``msg`` payloads of the WebSocket data messages, per recipient.

WebSocket names differ from REST: ``quote_id``/``quote_creator_id`` for ``id``/``creator_id``,
``*_contracts_offered_fp`` for ``yes_contracts_fp``/``no_contracts_fp``. A recipient sees only
what Kalshi lets it see: the obscured creator id unless entitled (domain/rfq.py,
domain/quote.py), and ``subaccount`` only when it is its own side's (and not the primary
account, 0). docs/behaviour.md, "WebSocket", lists the messages.
"""

from __future__ import annotations

import uuid
from typing import Any

from kalshi_sandbox.api.render import legs_of
from kalshi_sandbox.domain.clock import MICROS, format_instant
from kalshi_sandbox.domain.events import (
    EventLifecycle,
    LevelChanged,
    MarketLifecycle,
    OrderGroupChanged,
)
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.money import ONE_DOLLAR, format_count, format_money, format_price
from kalshi_sandbox.domain.portfolio import Fill, Order, Position
from kalshi_sandbox.domain.quote import Quote, Side
from kalshi_sandbox.domain.rfq import Rfq
from kalshi_sandbox.exchange.marketdata import Top


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
    if rfq.mve_selected_legs:
        data["mve_selected_legs"] = legs_of(rfq.mve_selected_legs)
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


# Market data ---------------------------------------------------------------------------------


def market_id(ticker: str) -> str:
    """Return a market's id: a UUID derived from its ticker, stable across restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kalshi-sandbox:market:{ticker}"))


def _levels(levels: list[tuple[int, int]], to_yes: bool) -> list[list[str]]:
    if to_yes:
        levels = sorted((ONE_DOLLAR - price, count) for price, count in levels)
    return [[format_price(price), format_count(count)] for price, count in levels]


def orderbook_snapshot(ticker: str, yes: list[tuple[int, int]], no: list[tuple[int, int]],
                       use_yes_price: bool) -> dict[str, Any]:
    """Render ``orderbook_snapshot``: YES bids, and NO bids at NO prices (or YES prices)."""
    data: dict[str, Any] = {"market_ticker": ticker, "market_id": market_id(ticker)}
    if yes:
        data["yes_dollars_fp"] = _levels(yes, False)
    if no:
        data["no_dollars_fp"] = _levels(no, use_yes_price)
    return data


def orderbook_delta(event: LevelChanged, *, own: bool, use_yes_price: bool) -> dict[str, Any]:
    """Render one level change; the owner of the order that caused it sees its ids."""
    yes = event.side is Side.YES
    price = event.yes_price if yes or use_yes_price else ONE_DOLLAR - event.yes_price
    data: dict[str, Any] = {
        "market_ticker": event.ticker, "market_id": market_id(event.ticker),
        "price_dollars": format_price(price),
        "delta_fp": format_count(event.delta),
        "side": "yes" if yes else "no",
        "ts": format_instant(event.ts),
        "ts_ms": event.ts // 1000,
    }
    if own:
        if event.client_order_id:
            data["client_order_id"] = event.client_order_id
        data["subaccount"] = event.subaccount
    return data


def trade(fill: Fill) -> dict[str, Any]:
    """Render a public trade from its taker's fill."""
    return {
        "trade_id": fill.trade_id,
        "market_ticker": fill.ticker,
        "yes_price_dollars": format_price(fill.yes_price),
        "no_price_dollars": format_price(ONE_DOLLAR - fill.yes_price),
        "count_fp": format_count(fill.count),
        "taker_side": fill.side.value,
        "taker_outcome_side": fill.side.value,
        "taker_book_side": _book_side(fill.side),
        "is_block_trade": fill.is_block_trade,
        "ts": fill.created_ts // MICROS,
        "ts_ms": fill.created_ts // 1000,
    }


def market_position(position: Position) -> dict[str, Any]:
    """Render a ``market_position`` message for the position's owner."""
    data = {
        "user_id": position.user_id,
        "market_ticker": position.ticker,
        "position_fp": format_count(position.position),
        "position_cost_dollars": format_money(position.exposure),
        "realized_pnl_dollars": format_money(position.realized_pnl),
        "fees_paid_dollars": format_money(position.fees_paid),
        "position_fee_cost_dollars": format_money(position.fees_paid),
        "volume_fp": format_count(position.total_traded // ONE_DOLLAR),
    }
    return _subaccount(data, position.subaccount)


def ticker(ticker: str, top: Top, market: Market | None, ts_ms: int) -> dict[str, Any]:
    """Render a ``ticker`` message: the best bid and ask with sizes, last trade, volume."""
    last = market.last_price if market is not None else 0
    volume = market.volume if market is not None else 0
    interest = market.open_interest if market is not None else 0
    return {
        "market_ticker": ticker, "market_id": market_id(ticker),
        "price_dollars": format_price(last),
        "yes_bid_dollars": format_price(top.yes_bid),
        "yes_ask_dollars": format_price(top.yes_ask),
        "yes_bid_size_fp": format_count(top.yes_bid_size),
        "yes_ask_size_fp": format_count(top.yes_ask_size),
        "last_trade_size_fp": format_count(0),
        "volume_fp": format_count(volume),
        "open_interest_fp": format_count(interest),
        "dollar_volume": volume * last // ONE_DOLLAR // 100,
        "dollar_open_interest": interest * last // ONE_DOLLAR // 100,
        "ts": ts_ms // 1000,
        "ts_ms": ts_ms,
        "time": format_instant(ts_ms * 1000),
    }


def order_group_update(event: OrderGroupChanged) -> dict[str, Any]:
    """Render an ``order_group_updates`` message for the group's owner; the limit comes with
    ``created`` and ``limit_updated`` (https://docs.kalshi.com/websockets/order-group-updates)."""
    data: dict[str, Any] = {"event_type": event.event_type,
                            "order_group_id": event.group.id,
                            "ts_ms": event.ts // 1000}
    if event.event_type in ("created", "limit_updated"):
        data["contracts_limit_fp"] = format_count(event.group.contracts_limit)
    return data



def market_lifecycle(event: MarketLifecycle) -> dict[str, Any]:
    """Render a ``market_lifecycle_v2`` (or ``multivariate_market_lifecycle``) message."""
    market = event.market
    kind = event.event_type
    data: dict[str, Any] = {"event_type": kind, "market_ticker": market.ticker}
    if kind == "created":
        data.update(
            exchange_index=0, open_ts=market.open_time // MICROS,
            close_ts=market.close_time // MICROS,
            price_level_structure=market.price_level_structure,
            price_ranges=[{"start": format_price(r.start), "end": format_price(r.end),
                           "step": format_price(r.step)} for r in market.price_ranges],
            additional_metadata={
                "name": market.title, "title": market.title,
                "yes_sub_title": market.subtitle, "no_sub_title": market.subtitle,
                "rules_primary": f"Sandbox market {market.ticker}.", "rules_secondary": "",
                "can_close_early": True, "event_ticker": market.event_ticker,
                "expected_expiration_ts": market.close_time // MICROS,
            })
    elif kind == "close_date_updated":
        data["close_ts"] = market.close_time // MICROS
    elif kind == "determined":
        data["result"] = market.result
        data["determination_ts"] = (market.determination_ts or event.ts) // MICROS
        if market.settlement_value is not None:
            data["settlement_value"] = format_price(market.settlement_value)
    elif kind == "settled":
        data["settled_ts"] = (market.settlement_ts or event.ts) // MICROS
    elif kind in ("activated", "deactivated"):
        data["is_deactivated"] = kind == "deactivated"
    return data


def event_lifecycle(event: EventLifecycle) -> dict[str, Any]:
    """Render an ``event_lifecycle`` message (an event was created)."""
    created = event.market_event
    data: dict[str, Any] = {
        "event_ticker": created.event_ticker, "exchange_index": 0, "title": created.title,
        "subtitle": created.sub_title,
        "collateral_return_type": "MECNET" if created.mutually_exclusive else "",
        "series_ticker": created.series_ticker,
    }
    if created.strike_date is not None:
        data["strike_date"] = created.strike_date // MICROS
    return data
