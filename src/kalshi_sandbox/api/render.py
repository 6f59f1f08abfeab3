"""Kalshi's JSON responses, both API generations, from the domain.

Responses carry the union of the new fields (``*_fp``, ``*_dollars``) and the legacy integer
ones that kalshi-python 3.2.0 still requires. Fields Kalshi marks private appear only for
their owner; who sees an obscured creator is the domain's decision (domain/rfq.py,
domain/quote.py). Fields without a value are omitted, never sent as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kalshi_sandbox.domain.clock import MICROS, Instant, format_instant
from kalshi_sandbox.domain.lifecycle import decode_legs
from kalshi_sandbox.domain.limits import TIERS, Limit, Tier
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.money import (
    ONE_DOLLAR,
    count_to_whole,
    format_count,
    format_money,
    format_price,
    money_to_cents,
    price_to_cents,
)
from kalshi_sandbox.domain.portfolio import Fill, Order, Position
from kalshi_sandbox.domain.quote import Quote, Side
from kalshi_sandbox.domain.rfq import Rfq
from kalshi_sandbox.exchange.marketdata import EMPTY_TOP, Top


def _ts(instant: Instant | None) -> str | None:
    return None if instant is None else format_instant(instant)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def render_rfq(rfq: Rfq, viewer: str | None) -> dict[str, Any]:
    """Render an RFQ for ``viewer`` (a user id; None for a public audience)."""
    mine = viewer == rfq.creator_user_id
    data: dict[str, Any] = {
        "id": rfq.id,
        "creator_id": rfq.creator_id_shown(rfq.shows_creator_to(viewer)),
        "market_ticker": rfq.market_ticker,
        "contracts_fp": format_count(rfq.contracts),
        "contracts": count_to_whole(rfq.contracts),
        "status": rfq.status.value,
        "created_ts": format_instant(rfq.created_ts),
        "updated_ts": format_instant(rfq.updated_ts),
        "rest_remainder": rfq.rest_remainder,
        "mve_collection_ticker": rfq.mve_collection_ticker,
        "mve_selected_legs": legs_of(rfq.mve_selected_legs),
        "cancellation_reason": rfq.cancellation_reason,
        "cancelled_ts": _ts(rfq.cancelled_ts),
    }
    if rfq.target_cost is not None:
        data["target_cost_dollars"] = format_money(rfq.target_cost)
        data["target_cost_centi_cents"] = rfq.target_cost // 100
        data["target_cost_excludes_fees"] = rfq.target_cost_excludes_fees
    if mine:
        data["creator_user_id"] = rfq.creator_user_id
        data["creator_subaccount"] = rfq.creator_subaccount
    return _compact(data)


def legacy_side(side: Side, legacy: bool) -> str:
    """Render ``accepted_side``; kalshi-python 3.2.0 can only parse ``"true"``/``"false"``."""
    if legacy:
        return "true" if side is Side.YES else "false"
    return side.value


def render_quote(quote: Quote, viewer: str | None, *, legacy: bool = False) -> dict[str, Any]:
    """Render a quote for ``viewer``, its maker or its requester."""
    maker = viewer == quote.creator_user_id
    requester = viewer == quote.rfq_creator_user_id
    data: dict[str, Any] = {
        "id": quote.id,
        "rfq_id": quote.rfq_id,
        "creator_id": quote.creator_id,
        "rfq_creator_id": quote.rfq_creator_id_seen_by(viewer),
        "market_ticker": quote.market_ticker,
        "contracts_fp": format_count(quote.contracts),
        "contracts": count_to_whole(quote.contracts),
        "yes_bid_dollars": format_price(quote.yes_bid),
        "no_bid_dollars": format_price(quote.no_bid),
        "yes_bid": price_to_cents(quote.yes_bid),
        "no_bid": price_to_cents(quote.no_bid),
        "yes_contracts_fp": format_count(quote.yes_contracts),
        "no_contracts_fp": format_count(quote.no_contracts),
        "status": quote.status.value,
        "created_ts": format_instant(quote.created_ts),
        "updated_ts": format_instant(quote.updated_ts),
        "rest_remainder": quote.rest_remainder,
        "accepted_side": (None if quote.accepted_side is None
                          else legacy_side(quote.accepted_side, legacy)),
        "accepted_ts": _ts(quote.accepted_ts),
        "confirmed_ts": _ts(quote.confirmed_ts),
        "executed_ts": _ts(quote.executed_ts),
        "cancelled_ts": _ts(quote.cancelled_ts),
        "cancellation_reason": quote.cancellation_reason,
    }
    if quote.rfq_target_cost is not None:
        data["rfq_target_cost_dollars"] = format_money(quote.rfq_target_cost)
        data["rfq_target_cost_centi_cents"] = quote.rfq_target_cost // 100
        data["target_cost_excludes_fees"] = quote.target_cost_excludes_fees
    if maker:
        data["creator_user_id"] = quote.creator_user_id
        data["creator_order_id"] = quote.creator_order_id
        data["creator_subaccount"] = quote.creator_subaccount
        data["post_only"] = quote.post_only
    if requester:
        data["rfq_creator_user_id"] = quote.rfq_creator_user_id
        data["rfq_creator_order_id"] = quote.rfq_creator_order_id
        data["rfq_creator_subaccount"] = quote.rfq_creator_subaccount
    return _compact(data)


def _price_fields(prefix: str, units: int) -> dict[str, Any]:
    return {prefix: price_to_cents(units), f"{prefix}_dollars": format_price(units)}


def render_market(market: Market, top: Top = EMPTY_TOP) -> dict[str, Any]:
    """Render a market with both the current and the legacy integer fields; the best bid and
    ask come from its book (``top``)."""
    open_ts = format_instant(market.open_time)
    close_ts = format_instant(market.close_time)
    zero = 0
    data: dict[str, Any] = {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "market_type": "binary",
        "title": market.title,
        "subtitle": market.subtitle,
        "yes_sub_title": market.subtitle or "Yes",
        "no_sub_title": market.subtitle or "No",
        "open_time": open_ts,
        "close_time": close_ts,
        "expiration_time": close_ts,
        "latest_expiration_time": close_ts,
        "expected_expiration_time": close_ts,
        "created_time": format_instant(market.created_ts),
        "updated_time": format_instant(market.updated_ts),
        "settlement_timer_seconds": market.settlement_timer // MICROS,
        "status": market.status.value,
        "response_price_units": "usd_cent",
        "notional_value": 100,
        "notional_value_dollars": format_price(ONE_DOLLAR),
        "tick_size": 1,
        "price_level_structure": market.price_level_structure,
        "price_ranges": [
            {"start": format_price(r.start), "end": format_price(r.end),
             "step": format_price(r.step)}
            for r in market.price_ranges
        ],
        **_price_fields("yes_bid", top.yes_bid),
        **_price_fields("yes_ask", top.yes_ask),
        **_price_fields("no_bid", ONE_DOLLAR - top.yes_ask),
        **_price_fields("no_ask", ONE_DOLLAR - top.yes_bid),
        **_price_fields("last_price", market.last_price),
        **_price_fields("previous_yes_bid", zero),
        **_price_fields("previous_yes_ask", ONE_DOLLAR),
        **_price_fields("previous_price", zero),
        "yes_bid_size_fp": format_count(top.yes_bid_size),
        "yes_ask_size_fp": format_count(top.yes_ask_size),
        "volume": count_to_whole(market.volume),
        "volume_fp": format_count(market.volume),
        "volume_24h": count_to_whole(market.volume),
        "volume_24h_fp": format_count(market.volume),
        "open_interest": count_to_whole(market.open_interest),
        "open_interest_fp": format_count(market.open_interest),
        "liquidity": 0,
        "liquidity_dollars": format_money(0),
        "risk_limit_cents": 0,
        "result": market.result,
        # Required by kalshi-python 3.2.0; Kalshi sends "" until the market is determined.
        "expiration_value": "",
        "can_close_early": True,
        "category": "",
        "rules_primary": f"Sandbox market {market.ticker}.",
        "rules_secondary": "",
        "exchange_index": 0,
        "mve_collection_ticker": market.mve_collection_ticker,
        **render_settlement_fields(market),
    }
    return _compact(data)


def legs_of(text: str) -> list[dict[str, Any]] | None:
    """Render stored combo legs as ``mve_selected_legs`` (None when there are none)."""
    legs = decode_legs(text)
    if not legs:
        return None
    return [{"event_ticker": leg.event_ticker, "market_ticker": leg.market_ticker,
             "side": leg.side} for leg in legs]


def render_settlement_fields(market: Market) -> dict[str, Any]:
    """Render a market's legs and, once determined, its settlement value and times."""
    value = market.settlement_value
    return {
        "mve_selected_legs": legs_of(market.mve_selected_legs),
        "settlement_value": None if value is None else price_to_cents(value),
        "settlement_value_dollars": None if value is None else format_price(value),
        "settlement_ts": _ts(market.settlement_ts),
    }


def _side_prices(side: Side, yes_price: int) -> tuple[int, int]:
    """Return (yes price, no price) of a trade."""
    return yes_price, ONE_DOLLAR - yes_price


def render_order(order: Order) -> dict[str, Any]:
    """Render one of the caller's orders."""
    yes_price, no_price = _side_prices(order.side, order.yes_price)
    return {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "outcome_side": order.side.value,
        "book_side": "bid" if order.side is Side.YES else "ask",
        "side": order.wire_side or order.side.value,
        "action": order.wire_action or "buy",
        "type": "limit",
        "status": order.status.value,
        **_price_fields("yes_price", yes_price),
        **_price_fields("no_price", no_price),
        "fill_count": count_to_whole(order.fill_count),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count": count_to_whole(order.remaining_count),
        "remaining_count_fp": format_count(order.remaining_count),
        "initial_count": count_to_whole(order.initial_count),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost": money_to_cents(order.taker_fill_cost),
        "taker_fill_cost_dollars": format_money(order.taker_fill_cost),
        "maker_fill_cost": money_to_cents(order.maker_fill_cost),
        "maker_fill_cost_dollars": format_money(order.maker_fill_cost),
        "taker_fees": money_to_cents(order.taker_fees),
        "taker_fees_dollars": format_money(order.taker_fees, 6),
        "maker_fees": money_to_cents(order.maker_fees),
        "maker_fees_dollars": format_money(order.maker_fees, 6),
        "queue_position": 0,
        "created_time": format_instant(order.created_ts),
        "last_update_time": format_instant(order.updated_ts),
        "self_trade_prevention_type": order.self_trade_prevention or "taker_at_cross",
        "cancel_order_on_pause": order.cancel_order_on_pause,
        "post_only": order.post_only,
        "subaccount_number": order.subaccount,
        "exchange_index": 0,
        **({} if order.expiration_ts is None
           else {"expiration_time": format_instant(order.expiration_ts)}),
        **({} if order.order_group_id is None else {"order_group_id": order.order_group_id}),
        **({} if order.time_in_force is None
           else {"time_in_force": order.time_in_force.value}),
        **({} if order.last_update_reason is None
           else {"last_update_reason": order.last_update_reason}),
    }


def render_fill(fill: Fill) -> dict[str, Any]:
    """Render one of the caller's fills."""
    yes_price, no_price = _side_prices(fill.side, fill.yes_price)
    own_price = yes_price if fill.side is Side.YES else no_price
    return {
        "fill_id": fill.fill_id,
        "trade_id": fill.fill_id,  # Kalshi's fill schema: trade_id equals fill_id
        "order_id": fill.order_id,
        "ticker": fill.ticker,
        "market_ticker": fill.ticker,
        "outcome_side": fill.side.value,
        "book_side": "bid" if fill.side is Side.YES else "ask",
        "side": fill.side.value,
        "action": "buy",
        "count": count_to_whole(fill.count),
        "count_fp": format_count(fill.count),
        "price": own_price / ONE_DOLLAR,
        **_price_fields("yes_price", yes_price),
        **_price_fields("no_price", no_price),
        "yes_price_fixed": format_price(yes_price),
        "no_price_fixed": format_price(no_price),
        "is_taker": fill.is_taker,
        "fee_cost": format_money(fill.fee, 6),
        "created_time": format_instant(fill.created_ts),
        "ts": fill.created_ts // MICROS,
        "subaccount_number": fill.subaccount,
        "exchange_index": 0,
    }


def _money_fields(prefix: str, micros: int) -> dict[str, Any]:
    return {prefix: money_to_cents(micros), f"{prefix}_dollars": format_money(micros)}


def render_position(position: Position) -> dict[str, Any]:
    """Render a market position."""
    return {
        "ticker": position.ticker,
        "position": count_to_whole(position.position),
        "position_fp": format_count(position.position),
        **_money_fields("total_traded", position.total_traded),
        **_money_fields("market_exposure", position.exposure),
        **_money_fields("realized_pnl", position.realized_pnl),
        **_money_fields("fees_paid", position.fees_paid),
        "resting_orders_count": 0,
        "last_updated_ts": format_instant(position.updated_ts),
        "subaccount_number": position.subaccount,
        "exchange_index": 0,
    }


def render_event_positions(positions: list[Position], events: Mapping[str, str]
                           ) -> list[dict[str, Any]]:
    """Aggregate market positions into Kalshi's event positions."""
    totals: dict[str, list[int]] = {}
    for p in positions:
        event = events.get(p.ticker, p.ticker)
        row = totals.setdefault(event, [0, 0, 0, 0, 0])
        row[0] += p.total_traded
        row[1] += abs(p.position)
        row[2] += p.exposure
        row[3] += p.realized_pnl
        row[4] += p.fees_paid
    return [
        {
            "event_ticker": event,
            **_money_fields("total_cost", row[0]),
            "total_cost_shares": count_to_whole(row[1]),
            "total_cost_shares_fp": format_count(row[1]),
            **_money_fields("event_exposure", row[2]),
            **_money_fields("realized_pnl", row[3]),
            **_money_fields("fees_paid", row[4]),
        }
        for event, row in sorted(totals.items())
    ]


def render_balance(micros: int, portfolio_micros: int, updated: Instant) -> dict[str, Any]:
    """Render ``GET /portfolio/balance``."""
    return {
        "balance": money_to_cents(micros),
        "balance_dollars": format_money(micros),
        "portfolio_value": money_to_cents(portfolio_micros),
        "updated_ts": updated // MICROS,
    }


LOWEST_TIER = next(iter(TIERS))


def render_bucket_limit(limit: Limit) -> dict[str, Any]:
    """Render a ``BucketLimit``: tokens per second and the most tokens held."""
    return {"refill_rate": limit.refill_rate, "bucket_capacity": limit.capacity}


def render_account_limits(tier: Tier) -> dict[str, Any]:
    """Render ``GET /account/limits`` for an account of ``tier``.

    A tier above the lowest is reported as a permanent grant on the event-contract exchange
    assigned by the operator (``source: manual``); Basic needs none.
    """
    grants = [] if tier.name == LOWEST_TIER else [
        {"exchange_instance": "event_contract", "level": tier.name, "source": "manual"}]
    return {"usage_tier": tier.name, "read": render_bucket_limit(tier.read),
            "write": render_bucket_limit(tier.write), "grants": grants}

