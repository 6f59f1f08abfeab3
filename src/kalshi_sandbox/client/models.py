"""Typed views of Kalshi's JSON objects, read from either API generation.

See https://docs.kalshi.com/getting_started/fixed_point_migration.

Money and contract counts are :class:`decimal.Decimal`, never floats. Current responses carry
``*_dollars`` and ``*_fp`` strings; older ones (kalshi-python 3.2.0 era) carry integer cents,
centi-cents and whole contracts. Each model reads the current field and falls back to the
legacy one, so both parse to the same values. Every model keeps the decoded JSON in ``raw``.

One module for every model, past 500 lines on purpose: they are a catalogue of small value
types that share the same field readers, and the client's public surface imports them
from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")

CENT = Decimal("0.01")
CENTI_CENT = Decimal("0.0001")


class Side(StrEnum):
    """An outcome side. ``accepted_side`` is the side the requester ends up holding."""

    YES = "yes"
    NO = "no"

    @classmethod
    def parse(cls, value: Any) -> Side:
        """Read ``"yes"``/``"no"``, or the ``"true"``/``"false"`` of kalshi-python 3.2.0."""
        if isinstance(value, Side):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true"):
            return cls.YES
        if text in ("no", "false"):
            return cls.NO
        raise ValueError(f"side must be 'yes' or 'no', got {value!r}")


class RfqStatus(StrEnum):
    """RFQ statuses; models keep ``status`` as text so a new status never breaks parsing."""

    OPEN = "open"
    CLOSED = "closed"


class QuoteStatus(StrEnum):
    """Quote statuses (compare with ``quote.status == QuoteStatus.ACCEPTED``)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    EXECUTED = "executed"
    CANCELLED = "cancelled"


# Field readers ------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        # Only legacy fields are JSON numbers; go through repr so 0.45 stays 0.45.
        value = repr(value)
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite decimal number: {value!r}")
    return result


def amount(data: Mapping[str, Any], current: str, legacy: str | None = None,
           legacy_unit: Decimal = CENT) -> Decimal | None:
    """Read ``current`` (a decimal string) or else ``legacy`` (an integer in ``legacy_unit``)."""
    value = _decimal(data.get(current))
    if value is None and legacy is not None:
        old = _decimal(data.get(legacy))
        if old is not None:
            value = old * legacy_unit
    return value


def required_amount(data: Mapping[str, Any], current: str, legacy: str | None = None,
                    legacy_unit: Decimal = CENT) -> Decimal:
    """Like :func:`amount`, but the field must be present."""
    value = amount(data, current, legacy, legacy_unit)
    if value is None:
        names = current if legacy is None else f"{current} (or {legacy})"
        raise ValueError(f"missing {names}")
    return value


def count(data: Mapping[str, Any], current: str, legacy: str | None = None) -> Decimal | None:
    """Read a contract count from ``current`` (``*_fp``) or else whole contracts ``legacy``."""
    return amount(data, current, legacy, Decimal(1))


def timestamp(value: Any) -> datetime | None:
    """Read an RFC 3339 string, or Unix seconds, as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def required_timestamp(value: Any, name: str) -> datetime:
    """Like :func:`timestamp`, but the field must be present."""
    result = timestamp(value)
    if result is None:
        raise ValueError(f"missing {name}")
    return result


def text(data: Mapping[str, Any], name: str) -> str | None:
    """Read an optional string field."""
    value = data.get(name)
    return None if value is None else str(value)


def required_text(data: Mapping[str, Any], name: str) -> str:
    """Read a string field that must be present."""
    value = data.get(name)
    if value is None:
        raise ValueError(f"missing {name}")
    return str(value)


def flag(data: Mapping[str, Any], name: str) -> bool | None:
    """Read an optional boolean field."""
    value = data.get(name)
    return None if value is None else bool(value)


def integer(data: Mapping[str, Any], name: str) -> int | None:
    """Read an optional integer field."""
    value = data.get(name)
    return None if value is None else int(value)


def side(data: Mapping[str, Any], *names: str) -> Side | None:
    """Read the first of ``names`` present as a :class:`Side`."""
    for name in names:
        value = data.get(name)
        if value is not None and value != "":
            return Side.parse(value)
    return None


def first(*values: T | None) -> T | None:
    """Return the first value that is not None."""
    return next((v for v in values if v is not None), None)


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


# Communications -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MveSelectedLeg:
    """One leg of a combo (multivariate) market."""

    event_ticker: str | None
    market_ticker: str | None
    side: Side | None
    yes_settlement_value: Decimal | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> MveSelectedLeg:
        """Read a leg from its JSON object."""
        return cls(event_ticker=text(data, "event_ticker"),
                   market_ticker=text(data, "market_ticker"), side=side(data, "side"),
                   yes_settlement_value=amount(data, "yes_settlement_value_dollars"))


def legs(value: Any) -> tuple[MveSelectedLeg, ...]:
    """Read a list of combo legs (empty when absent)."""
    if not isinstance(value, Sequence):
        return ()
    return tuple(MveSelectedLeg.from_wire(leg) for leg in value if isinstance(leg, Mapping))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rfq:
    """A request for quote. ``contracts`` or ``target_cost`` (dollars) gives its size."""

    id: str
    creator_id: str
    market_ticker: str
    status: str
    created_ts: datetime
    contracts: Decimal | None = None
    target_cost: Decimal | None = None
    target_cost_excludes_fees: bool | None = None
    rest_remainder: bool | None = None
    updated_ts: datetime | None = None
    cancelled_ts: datetime | None = None
    cancellation_reason: str | None = None
    mve_collection_ticker: str | None = None
    mve_selected_legs: tuple[MveSelectedLeg, ...] = ()
    creator_user_id: str | None = None
    creator_subaccount: int | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Rfq:
        """Read an RFQ from either generation's JSON."""
        return cls(
            id=required_text(data, "id"),
            creator_id=required_text(data, "creator_id"),
            market_ticker=required_text(data, "market_ticker"),
            status=required_text(data, "status"),
            created_ts=required_timestamp(data.get("created_ts"), "created_ts"),
            contracts=count(data, "contracts_fp", "contracts"),
            target_cost=amount(data, "target_cost_dollars", "target_cost_centi_cents",
                               CENTI_CENT),
            target_cost_excludes_fees=flag(data, "target_cost_excludes_fees"),
            rest_remainder=flag(data, "rest_remainder"),
            updated_ts=timestamp(data.get("updated_ts")),
            cancelled_ts=timestamp(data.get("cancelled_ts")),
            cancellation_reason=text(data, "cancellation_reason"),
            mve_collection_ticker=text(data, "mve_collection_ticker"),
            mve_selected_legs=legs(data.get("mve_selected_legs")),
            creator_user_id=text(data, "creator_user_id"),
            creator_subaccount=integer(data, "creator_subaccount"),
            raw=data,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """A maker's two-sided quote on an RFQ; ``yes_bid``/``no_bid`` are dollars."""

    id: str
    rfq_id: str
    creator_id: str
    rfq_creator_id: str
    market_ticker: str
    status: str
    yes_bid: Decimal
    no_bid: Decimal
    created_ts: datetime
    updated_ts: datetime | None = None
    contracts: Decimal | None = None
    yes_contracts: Decimal | None = None
    no_contracts: Decimal | None = None
    accepted_side: Side | None = None
    accepted_ts: datetime | None = None
    confirmed_ts: datetime | None = None
    executed_ts: datetime | None = None
    cancelled_ts: datetime | None = None
    cancellation_reason: str | None = None
    rest_remainder: bool | None = None
    post_only: bool | None = None
    rfq_target_cost: Decimal | None = None
    target_cost_excludes_fees: bool | None = None
    creator_user_id: str | None = None
    rfq_creator_user_id: str | None = None
    creator_order_id: str | None = None
    rfq_creator_order_id: str | None = None
    creator_subaccount: int | None = None
    rfq_creator_subaccount: int | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Quote:
        """Read a quote from either generation's JSON."""
        return cls(
            id=required_text(data, "id"),
            rfq_id=required_text(data, "rfq_id"),
            creator_id=required_text(data, "creator_id"),
            rfq_creator_id=required_text(data, "rfq_creator_id"),
            market_ticker=required_text(data, "market_ticker"),
            status=required_text(data, "status"),
            yes_bid=required_amount(data, "yes_bid_dollars", "yes_bid"),
            no_bid=required_amount(data, "no_bid_dollars", "no_bid"),
            created_ts=required_timestamp(data.get("created_ts"), "created_ts"),
            updated_ts=timestamp(data.get("updated_ts")),
            contracts=count(data, "contracts_fp", "contracts"),
            yes_contracts=count(data, "yes_contracts_fp"),
            no_contracts=count(data, "no_contracts_fp"),
            accepted_side=side(data, "accepted_side"),
            accepted_ts=timestamp(data.get("accepted_ts")),
            confirmed_ts=timestamp(data.get("confirmed_ts")),
            executed_ts=timestamp(data.get("executed_ts")),
            cancelled_ts=timestamp(data.get("cancelled_ts")),
            cancellation_reason=text(data, "cancellation_reason"),
            rest_remainder=flag(data, "rest_remainder"),
            post_only=flag(data, "post_only"),
            rfq_target_cost=amount(data, "rfq_target_cost_dollars",
                                   "rfq_target_cost_centi_cents", CENTI_CENT),
            target_cost_excludes_fees=flag(data, "target_cost_excludes_fees"),
            creator_user_id=text(data, "creator_user_id"),
            rfq_creator_user_id=text(data, "rfq_creator_user_id"),
            creator_order_id=text(data, "creator_order_id"),
            rfq_creator_order_id=text(data, "rfq_creator_order_id"),
            creator_subaccount=integer(data, "creator_subaccount"),
            rfq_creator_subaccount=integer(data, "rfq_creator_subaccount"),
            raw=data,
        )

    def price_for(self, accepted: Side | str) -> Decimal:
        """Return what the requester pays per contract when accepting ``accepted``.

        Accepting ``yes`` takes the maker's NO bid, so the requester pays ``1 - no_bid``
        (docs/behaviour.md, "Money and execution").
        """
        chosen = Side.parse(accepted)
        return Decimal(1) - (self.no_bid if chosen is Side.YES else self.yes_bid)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockTradeProposal:
    """A negotiated block-trade proposal; prices stay in centi-cents.

    See https://docs.kalshi.com/api-reference/communications.
    """

    id: str
    market_ticker: str | None
    status: str | None
    price: Decimal | None
    contracts: Decimal | None
    maker_side: Side | None
    expiration_ts: datetime | None
    created_ts: datetime | None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> BlockTradeProposal:
        """Read a proposal from its JSON object."""
        centicount = _decimal(data.get("centicount"))
        return cls(
            id=required_text(data, "id"),
            market_ticker=text(data, "market_ticker"),
            status=text(data, "status"),
            price=amount(data, "price_dollars", "price_centi_cents", CENTI_CENT),
            contracts=None if centicount is None else centicount * CENT,
            maker_side=side(data, "maker_side"),
            expiration_ts=timestamp(data.get("expiration_ts")),
            created_ts=timestamp(data.get("created_ts")),
            raw=data,
        )


# Markets and exchange -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceRange:
    """A band of the price grid: prices from ``start`` to ``end`` in steps of ``step``."""

    start: Decimal
    end: Decimal
    step: Decimal

    def contains(self, price: Decimal) -> bool:
        """Return True if ``price`` lies on this band's grid."""
        return self.start <= price <= self.end and (price - self.start) % self.step == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    """A market; prices are dollars, volumes and interest are contracts."""

    ticker: str
    event_ticker: str | None
    status: str
    title: str | None = None
    subtitle: str | None = None
    market_type: str | None = None
    open_time: datetime | None = None
    close_time: datetime | None = None
    price_level_structure: str | None = None
    price_ranges: tuple[PriceRange, ...] = ()
    yes_bid: Decimal | None = None
    yes_ask: Decimal | None = None
    no_bid: Decimal | None = None
    no_ask: Decimal | None = None
    last_price: Decimal | None = None
    volume: Decimal | None = None
    open_interest: Decimal | None = None
    result: str | None = None
    mve_collection_ticker: str | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Market:
        """Read a market from either generation's JSON."""
        ranges: tuple[PriceRange, ...] = ()
        raw_ranges = data.get("price_ranges")
        if isinstance(raw_ranges, Sequence) and raw_ranges:
            ranges = tuple(PriceRange(required_amount(r, "start"), required_amount(r, "end"),
                                      required_amount(r, "step"))
                           for r in raw_ranges if isinstance(r, Mapping))
        elif data.get("tick_size") is not None:
            # The 3.2.0 generation only knows a whole-cent tick over the full range.
            ranges = (PriceRange(Decimal(0), Decimal(1), Decimal(int(data["tick_size"])) * CENT),)
        return cls(
            ticker=required_text(data, "ticker"),
            event_ticker=text(data, "event_ticker"),
            status=required_text(data, "status"),
            title=text(data, "title"),
            subtitle=text(data, "subtitle"),
            market_type=text(data, "market_type"),
            open_time=timestamp(data.get("open_time")),
            close_time=timestamp(data.get("close_time")),
            price_level_structure=text(data, "price_level_structure"),
            price_ranges=ranges,
            yes_bid=amount(data, "yes_bid_dollars", "yes_bid"),
            yes_ask=amount(data, "yes_ask_dollars", "yes_ask"),
            no_bid=amount(data, "no_bid_dollars", "no_bid"),
            no_ask=amount(data, "no_ask_dollars", "no_ask"),
            last_price=amount(data, "last_price_dollars", "last_price"),
            volume=count(data, "volume_fp", "volume"),
            open_interest=count(data, "open_interest_fp", "open_interest"),
            result=text(data, "result") or None,
            mve_collection_ticker=text(data, "mve_collection_ticker"),
            raw=data,
        )

    def on_grid(self, price: Decimal) -> bool:
        """Return True if ``price`` is a valid non-zero price on this market's grid."""
        return 0 < price < 1 and any(r.contains(price) for r in self.price_ranges)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeStatus:
    """Whether the exchange is up and trading."""

    exchange_active: bool
    trading_active: bool
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ExchangeStatus:
        """Read ``GET /exchange/status``."""
        return cls(exchange_active=bool(data.get("exchange_active")),
                   trading_active=bool(data.get("trading_active")), raw=data)


# Portfolio ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """Cash balance and portfolio value, in dollars."""

    balance: Decimal
    portfolio_value: Decimal | None
    updated_ts: datetime | None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Balance:
        """Read ``GET /portfolio/balance``; ``balance_dollars`` keeps sub-cent precision."""
        return cls(balance=required_amount(data, "balance_dollars", "balance"),
                   portfolio_value=amount(data, "portfolio_value_dollars", "portfolio_value"),
                   updated_ts=timestamp(data.get("updated_ts")), raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketLimit:
    """One token bucket: tokens added per second and the most it holds."""

    refill_rate: int
    bucket_capacity: int

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> BucketLimit:
        """Read a ``BucketLimit`` object."""
        return cls(refill_rate=_required_int(data, "refill_rate"),
                   bucket_capacity=_required_int(data, "bucket_capacity"))


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLimits:
    """``GET /account/limits``: your usage tier and its Read and Write token buckets."""

    usage_tier: str
    read: BucketLimit
    write: BucketLimit
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> AccountLimits:
        """Read ``GET /account/limits``."""
        read, write = data.get("read"), data.get("write")
        if not isinstance(read, Mapping) or not isinstance(write, Mapping):
            raise ValueError("missing read or write bucket")
        return cls(usage_tier=required_text(data, "usage_tier"),
                   read=BucketLimit.from_wire(read), write=BucketLimit.from_wire(write),
                   raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointCosts:
    """``GET /account/endpoint_costs``: tokens per request, by method and path."""

    default_cost: int
    costs: Mapping[tuple[str, str], int]
    raw: Mapping[str, Any] = _raw()

    def cost(self, method: str, path: str) -> int:
        """Return what a request to ``method path`` costs (the default unless listed)."""
        return self.costs.get((method.upper(), path), self.default_cost)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> EndpointCosts:
        """Read ``GET /account/endpoint_costs``."""
        entries = data.get("endpoint_costs") or []
        costs = {(required_text(e, "method").upper(), required_text(e, "path")):
                 _required_int(e, "cost") for e in entries if isinstance(e, Mapping)}
        return cls(default_cost=_required_int(data, "default_cost"), costs=costs, raw=data)


def _required_int(data: Mapping[str, Any], name: str) -> int:
    value = integer(data, name)
    if value is None:
        raise ValueError(f"missing {name}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """One of the caller's orders (an RFQ execution places one per party)."""

    order_id: str
    ticker: str
    side: Side | None
    status: str
    yes_price: Decimal | None
    no_price: Decimal | None
    initial_count: Decimal | None
    fill_count: Decimal | None
    remaining_count: Decimal | None
    client_order_id: str | None = None
    action: str | None = None
    type: str | None = None
    taker_fees: Decimal | None = None
    maker_fees: Decimal | None = None
    taker_fill_cost: Decimal | None = None
    maker_fill_cost: Decimal | None = None
    created_time: datetime | None = None
    last_update_time: datetime | None = None
    subaccount: int | None = None
    book_side: str | None = None
    """``bid`` (buys YES) or ``ask`` (sells YES, buys NO): the order's side of the YES book."""
    time_in_force: str | None = None
    expiration_time: datetime | None = None
    order_group_id: str | None = None
    post_only: bool | None = None
    self_trade_prevention_type: str | None = None
    last_update_reason: str | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Order:
        """Read an order from either generation's JSON."""
        return cls(
            order_id=required_text(data, "order_id"),
            ticker=required_text(data, "ticker"),
            side=side(data, "outcome_side", "side"),
            status=required_text(data, "status"),
            yes_price=amount(data, "yes_price_dollars", "yes_price"),
            no_price=amount(data, "no_price_dollars", "no_price"),
            initial_count=count(data, "initial_count_fp", "initial_count"),
            fill_count=count(data, "fill_count_fp", "fill_count"),
            remaining_count=count(data, "remaining_count_fp", "remaining_count"),
            client_order_id=text(data, "client_order_id"),
            action=text(data, "action"),
            type=text(data, "type"),
            taker_fees=amount(data, "taker_fees_dollars", "taker_fees"),
            maker_fees=amount(data, "maker_fees_dollars", "maker_fees"),
            taker_fill_cost=amount(data, "taker_fill_cost_dollars", "taker_fill_cost"),
            maker_fill_cost=amount(data, "maker_fill_cost_dollars", "maker_fill_cost"),
            created_time=timestamp(data.get("created_time")),
            last_update_time=timestamp(data.get("last_update_time")),
            subaccount=integer(data, "subaccount_number"),
            book_side=text(data, "book_side"),
            time_in_force=text(data, "time_in_force"),
            expiration_time=timestamp(data.get("expiration_time")),
            order_group_id=text(data, "order_group_id"),
            post_only=flag(data, "post_only"),
            self_trade_prevention_type=text(data, "self_trade_prevention_type"),
            last_update_reason=text(data, "last_update_reason"),
            raw=data,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One fill of one of the caller's orders."""

    fill_id: str
    order_id: str
    ticker: str
    side: Side | None
    count: Decimal
    yes_price: Decimal | None
    no_price: Decimal | None
    is_taker: bool | None
    fee_cost: Decimal | None
    created_time: datetime | None
    trade_id: str | None = None
    action: str | None = None
    subaccount: int | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Fill:
        """Read a fill from either generation's JSON."""
        ticker = text(data, "ticker") or required_text(data, "market_ticker")
        fill_count = count(data, "count_fp", "count")
        if fill_count is None:
            raise ValueError("missing count_fp (or count)")
        return cls(
            fill_id=text(data, "fill_id") or required_text(data, "trade_id"),
            order_id=required_text(data, "order_id"),
            ticker=ticker,
            side=side(data, "outcome_side", "side"),
            count=fill_count,
            yes_price=first(amount(data, "yes_price_dollars"),
                            amount(data, "yes_price_fixed", "yes_price")),
            no_price=first(amount(data, "no_price_dollars"),
                           amount(data, "no_price_fixed", "no_price")),
            is_taker=flag(data, "is_taker"),
            fee_cost=amount(data, "fee_cost"),
            created_time=timestamp(data.get("created_time")),
            trade_id=text(data, "trade_id"),
            action=text(data, "action"),
            subaccount=integer(data, "subaccount_number"),
            raw=data,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A market position: ``position`` is contracts, positive for YES, negative for NO."""

    ticker: str
    position: Decimal
    total_traded: Decimal | None
    market_exposure: Decimal | None
    realized_pnl: Decimal | None
    fees_paid: Decimal | None
    resting_orders_count: int | None = None
    last_updated_ts: datetime | None = None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Position:
        """Read a market position from either generation's JSON."""
        position = count(data, "position_fp", "position")
        if position is None:
            raise ValueError("missing position_fp (or position)")
        return cls(
            ticker=required_text(data, "ticker"),
            position=position,
            total_traded=amount(data, "total_traded_dollars", "total_traded"),
            market_exposure=amount(data, "market_exposure_dollars", "market_exposure"),
            realized_pnl=amount(data, "realized_pnl_dollars", "realized_pnl"),
            fees_paid=amount(data, "fees_paid_dollars", "fees_paid"),
            resting_orders_count=integer(data, "resting_orders_count"),
            last_updated_ts=timestamp(data.get("last_updated_ts")),
            raw=data,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EventPosition:
    """Positions aggregated over an event."""

    event_ticker: str
    total_cost: Decimal | None
    event_exposure: Decimal | None
    realized_pnl: Decimal | None
    fees_paid: Decimal | None
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> EventPosition:
        """Read an event position from either generation's JSON."""
        return cls(
            event_ticker=required_text(data, "event_ticker"),
            total_cost=amount(data, "total_cost_dollars", "total_cost"),
            event_exposure=amount(data, "event_exposure_dollars", "event_exposure"),
            realized_pnl=amount(data, "realized_pnl_dollars", "realized_pnl"),
            fees_paid=amount(data, "fees_paid_dollars", "fees_paid"),
            raw=data,
        )


# Pages --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list endpoint; pass ``cursor`` back for the next (empty when done)."""

    items: list[T]
    cursor: str

    @property
    def has_more(self) -> bool:
        """Return True if another page follows."""
        return bool(self.cursor)


@dataclass(frozen=True, slots=True)
class PositionsPage:
    """One page of ``GET /portfolio/positions``: market and event positions."""

    market_positions: list[Position]
    event_positions: list[EventPosition]
    cursor: str

    @property
    def has_more(self) -> bool:
        """Return True if another page follows."""
        return bool(self.cursor)
