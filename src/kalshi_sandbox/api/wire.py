"""Kalshi's JSON, both API generations, to and from the domain.

Responses carry the union of the new fields (``*_fp``, ``*_dollars``) and the legacy integer
ones that kalshi-python 3.2.0 still requires (reference Appendix A.3). Fields the reference
marks private appear only for their owner (§2.5). Fields without a value are omitted, never
sent as null.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from kalshi_sandbox.domain.account import Fill, Order, Position
from kalshi_sandbox.domain.clock import MICROS, Instant, format_instant
from kalshi_sandbox.domain.errors import BadRequest, InvalidParameters, QueryValidationError
from kalshi_sandbox.domain.limits import TIERS, Limit, Tier
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.money import (
    COUNT_SCALE,
    MAX_WHOLE_DIGITS,
    ONE_DOLLAR,
    MoneyFormatError,
    count_to_whole,
    format_count,
    format_money,
    format_price,
    money_to_cents,
    parse_count,
    parse_dollars,
    parse_price,
    price_to_cents,
)
from kalshi_sandbox.domain.quote import Quote, QuoteStatus, Side
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.service.exchange import CreateQuote, CreateRfq

OBSCURED_CREATOR_ID = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"""SHA-256 of the empty string: what others see when a creator's id is obscured (§2.5)."""

_INT64 = range(-(2**63), 2**63)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# Identifiers and query parameters -----------------------------------------------------------


def check_uuid(value: str, what: str) -> str:
    """Return ``value`` if it is a UUID, else raise 400 ``invalid_parameters``."""
    if not _UUID.match(value):
        raise InvalidParameters(f"{what} must be a UUID, got {value!r}",
                                message=f"invalid {what.replace('_', ' ')}")
    return value


def query_int(params: Mapping[str, str], name: str, operation: str, *, default: int,
              low: int, high: int) -> int:
    """Parse an integer query parameter within [low, high], Kalshi-style errors."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _param_error(operation, name, "numeric") from None
    if value < low:
        raise _param_error(operation, name, "gte")
    if value > high:
        raise _param_error(operation, name, "lte")
    return value


def query_optional_int(params: Mapping[str, str], name: str, operation: str, *,
                       low: int, high: int) -> int | None:
    """Parse an optional integer query parameter."""
    if params.get(name) in (None, ""):
        return None
    return query_int(params, name, operation, default=0, low=low, high=high)


def query_choice(params: Mapping[str, str], name: str, operation: str,
                 choices: tuple[str, ...]) -> str | None:
    """Parse an optional enumerated query parameter."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise _param_error(operation, name, "oneof")
    return raw


def _param_error(operation: str, name: str, tag: str) -> QueryValidationError:
    field = "".join(part.capitalize() for part in name.split("_"))
    return QueryValidationError(
        f"Parameter validation failed for {operation}: Key: '{operation}Params.{field}' "
        f"Error:Field validation for '{field}' failed on the '{tag}' tag"
    )


def encode_cursor(ts: Instant, key: str) -> str:
    """Return an opaque cursor for keyset pagination."""
    return base64.urlsafe_b64encode(f"{ts}:{key}".encode()).decode().rstrip("=")


def decode_cursor(params: Mapping[str, str], operation: str) -> tuple[Instant, str] | None:
    """Parse the ``cursor`` query parameter; a malformed cursor is a 400."""
    raw = params.get("cursor")
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        ts, key = text.split(":", 1)
        if int(ts) not in _INT64:
            raise ValueError(ts)
        return int(ts), key
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise QueryValidationError(
            f"Parameter validation failed for {operation}: invalid cursor"
        ) from None


def page(items: list[Any], limit: int, key: Any) -> tuple[list[Any], str]:
    """Split a limit+1 result into the page and the next cursor (``""`` when done)."""
    if len(items) <= limit:
        return items, ""
    items = items[:limit]
    ts, ident = key(items[-1])
    return items, encode_cursor(ts, ident)


def unix_seconds(params: Mapping[str, str], name: str, operation: str) -> Instant | None:
    """Parse a Unix-seconds query timestamp into an instant."""
    seconds = query_optional_int(params, name, operation, low=0, high=2**40)
    return None if seconds is None else seconds * MICROS


# Request bodies -----------------------------------------------------------------------------


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


class Body:
    """Typed access to a decoded JSON object, with Kalshi's errors for wrong types."""

    def __init__(self, data: Mapping[str, Any], struct: str) -> None:
        self.data = data
        self.struct = struct

    def _typed(self, name: str, kinds: tuple[type, ...], go: str) -> Any:
        value = self.data.get(name)
        if value is None:
            return None
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            raise BadRequest(
                f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                f"{self.struct}.{name} of type {go}"
            )
        return value

    def string(self, name: str) -> str | None:
        result: str | None = self._typed(name, (str,), "string")
        return result

    def boolean(self, name: str) -> bool | None:
        result: bool | None = self._typed(name, (bool,), "bool")
        return result

    def integer(self, name: str) -> int | None:
        value = self._typed(name, (int, float), "int64")
        if value is None:
            return None
        if isinstance(value, float):
            if not value.is_integer():
                raise BadRequest(
                    f"json: cannot unmarshal number {value} into Go struct field "
                    f"{self.struct}.{name} of type int64"
                )
            value = int(value)
        if value not in _INT64:
            raise BadRequest(
                f"json: cannot unmarshal number {value} into Go struct field "
                f"{self.struct}.{name} of type int64"
            )
        return int(value)

    def required_string(self, name: str) -> str:
        value = self.string(name)
        if value is None or value == "":
            raise InvalidParameters(f"{name} is required")
        return value

    def required_bool(self, name: str) -> bool:
        value = self.boolean(name)
        if value is None:
            raise InvalidParameters(f"{name} is required")
        return value


def _count(text: str, name: str) -> int:
    try:
        return parse_count(text, what=name)
    except MoneyFormatError as exc:
        raise InvalidParameters(str(exc)) from None


def _dollars(text: str, name: str) -> int:
    try:
        return parse_dollars(text, what=name)
    except MoneyFormatError as exc:
        raise InvalidParameters(str(exc)) from None


def _subaccount(body: Body) -> int:
    value = body.integer("subaccount")
    if value is None:
        return 0
    if not 0 <= value <= 63:
        raise InvalidParameters("subaccount must be between 0 and 63")
    return value


def parse_create_rfq(data: Mapping[str, Any], *, whole_contracts: bool) -> CreateRfq:
    """Validate a Create RFQ body in either vocabulary (reference §1.2, A.3)."""
    body = Body(data, "CreateRFQRequest")
    ticker = body.required_string("market_ticker")
    rest_remainder = body.required_bool("rest_remainder")
    contracts_int = body.integer("contracts")
    contracts_fp = body.string("contracts_fp")
    cost_centi = body.integer("target_cost_centi_cents")
    cost_dollars = body.string("target_cost_dollars")
    excludes_fees = body.boolean("target_cost_excludes_fees")
    body.string("subtrader_id")  # FCM members only: type-checked, otherwise ignored
    contracts: int | None = None
    if contracts_fp is not None:
        contracts = _count(contracts_fp, "contracts_fp")
    if contracts_int is not None:
        if contracts_int <= 0:
            raise InvalidParameters("contracts must be positive")
        if contracts_int >= 10**MAX_WHOLE_DIGITS:
            raise InvalidParameters(f"contracts is too large, got {contracts_int}")
        if contracts is not None and contracts != contracts_int * COUNT_SCALE:
            raise InvalidParameters("contracts and contracts_fp disagree")
        contracts = contracts_int * COUNT_SCALE
    target: int | None = None
    if cost_dollars is not None:
        target = _dollars(cost_dollars, "target_cost_dollars")
    if cost_centi is not None:
        if cost_centi <= 0:
            raise InvalidParameters("target_cost_centi_cents must be positive")
        if cost_centi >= 10**(MAX_WHOLE_DIGITS + 4):
            raise InvalidParameters(f"target_cost_centi_cents is too large, got {cost_centi}")
        if target is not None and target != cost_centi * 100:
            raise InvalidParameters("target_cost_centi_cents and target_cost_dollars disagree")
        target = cost_centi * 100
    if (contracts is None) == (target is None):
        raise InvalidParameters(
            "give exactly one size: contracts/contracts_fp or "
            "target_cost_dollars/target_cost_centi_cents"
        )
    if contracts is not None:
        if contracts <= 0:
            raise InvalidParameters("contracts_fp must be positive")
        if whole_contracts and contracts % COUNT_SCALE:
            raise InvalidParameters("only whole contracts are allowed")
    if target is not None and target <= 0:
        raise InvalidParameters("target cost must be positive")
    if excludes_fees is not None and target is None:
        raise InvalidParameters("target_cost_excludes_fees is only valid with a target cost")
    return CreateRfq(
        market_ticker=ticker,
        rest_remainder=rest_remainder,
        contracts=contracts,
        target_cost=target,
        target_cost_excludes_fees=bool(excludes_fees),
        replace_existing=bool(body.boolean("replace_existing")),
        subaccount=_subaccount(body),
        obscure_creator_id=bool(body.boolean("obscure_creator_id")),
    )


def parse_create_quote(data: Mapping[str, Any]) -> CreateQuote:
    """Validate a Create Quote body's shape (reference §1.6, §4.7 step 1)."""
    body = Body(data, "CreateQuoteRequest")
    rfq_id = check_uuid(body.required_string("rfq_id"), "rfq_id")
    yes_text = body.string("yes_bid")
    no_text = body.string("no_bid")
    if yes_text is None or no_text is None:
        raise InvalidParameters("yes_bid and no_bid are required (use \"0\" to decline a side)")
    # Unusable prices are reported by the exchange after the RFQ checks (§4.7 order).
    yes_bid = no_bid = 0
    price_error: str | None = None
    try:
        yes_bid = parse_price(yes_text, what="yes_bid")
        no_bid = parse_price(no_text, what="no_bid")
    except MoneyFormatError as exc:
        price_error = str(exc)
    else:
        if yes_bid >= ONE_DOLLAR or no_bid >= ONE_DOLLAR:
            price_error = "bids must be below 1.00"
    return CreateQuote(
        rfq_id=rfq_id,
        yes_bid=yes_bid,
        no_bid=no_bid,
        rest_remainder=body.required_bool("rest_remainder"),
        post_only=bool(body.boolean("post_only")),
        subaccount=_subaccount(body),
        price_error=price_error,
    )


_SIDES = {"yes": Side.YES, "no": Side.NO, "true": Side.YES, "false": Side.NO}


def parse_accepted_side(data: Mapping[str, Any]) -> Side:
    """Read ``accepted_side``; ``"true"``/``"false"`` are accepted for kalshi-python 3.2.0."""
    value = data.get("accepted_side")
    if isinstance(value, bool):
        return Side.YES if value else Side.NO
    body = Body(data, "AcceptQuoteRequest")
    text = body.required_string("accepted_side")
    side = _SIDES.get(text)
    if side is None:
        raise InvalidParameters(f"accepted_side must be 'yes' or 'no', got {text!r}")
    return side


# Responses ----------------------------------------------------------------------------------


def _ts(instant: Instant | None) -> str | None:
    return None if instant is None else format_instant(instant)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def render_rfq(rfq: Rfq, viewer: str | None) -> dict[str, Any]:
    """Render an RFQ for ``viewer`` (a user id; None for a public audience)."""
    mine = viewer == rfq.creator_user_id
    creator_id = rfq.creator_id if mine or not rfq.obscure_creator_id else OBSCURED_CREATOR_ID
    data: dict[str, Any] = {
        "id": rfq.id,
        "creator_id": creator_id,
        "market_ticker": rfq.market_ticker,
        "contracts_fp": format_count(rfq.contracts),
        "contracts": count_to_whole(rfq.contracts),
        "status": rfq.status.value,
        "created_ts": format_instant(rfq.created_ts),
        "updated_ts": format_instant(rfq.updated_ts),
        "rest_remainder": rfq.rest_remainder,
        "mve_collection_ticker": rfq.mve_collection_ticker,
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


def rfq_creator_id_for(quote: Quote, viewer: str | None) -> str:
    """Return the requester's id as ``viewer`` may see it (obscured unless entitled)."""
    if (not quote.rfq_obscure_creator_id or viewer == quote.rfq_creator_user_id
            or quote.status is QuoteStatus.EXECUTED):
        return quote.rfq_creator_id
    return OBSCURED_CREATOR_ID


def render_quote(quote: Quote, viewer: str | None, *, legacy: bool = False) -> dict[str, Any]:
    """Render a quote for ``viewer``, its maker or its requester."""
    maker = viewer == quote.creator_user_id
    requester = viewer == quote.rfq_creator_user_id
    data: dict[str, Any] = {
        "id": quote.id,
        "rfq_id": quote.rfq_id,
        "creator_id": quote.creator_id,
        "rfq_creator_id": rfq_creator_id_for(quote, viewer),
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


def render_market(market: Market) -> dict[str, Any]:
    """Render a market with both the current and the legacy integer fields."""
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
        "settlement_timer_seconds": 0,
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
        **_price_fields("yes_bid", zero),
        **_price_fields("yes_ask", ONE_DOLLAR),
        **_price_fields("no_bid", zero),
        **_price_fields("no_ask", ONE_DOLLAR),
        **_price_fields("last_price", market.last_price),
        **_price_fields("previous_yes_bid", zero),
        **_price_fields("previous_yes_ask", ONE_DOLLAR),
        **_price_fields("previous_price", zero),
        "yes_bid_size_fp": format_count(0),
        "yes_ask_size_fp": format_count(0),
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
    }
    return _compact(data)


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
        "side": order.side.value,
        "action": "buy",
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
        "self_trade_prevention_type": "taker_at_cross",
        "cancel_order_on_pause": False,
        "post_only": order.post_only,
        "subaccount_number": order.subaccount,
        "exchange_index": 0,
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


RFQ_STATUSES = tuple(s.value for s in RfqStatus)
QUOTE_STATUSES = tuple(s.value for s in QuoteStatus)
