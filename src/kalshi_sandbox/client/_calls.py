"""Each endpoint as data: method, path, query, body and how to read the answer.

Both clients execute these, so the sync and async APIs send byte-identical requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote as _quote

from kalshi_sandbox.client.models import (
    AccountLimits,
    Balance,
    BlockTradeProposal,
    EndpointCosts,
    EventPosition,
    ExchangeStatus,
    Fill,
    Market,
    Order,
    Page,
    Position,
    PositionsPage,
    Quote,
    Rfq,
    Side,
)

T = TypeVar("T")

Amount = Decimal | int | str
"""A money amount or count: a Decimal, an int, or a decimal string. Never a float."""

Timestamp = datetime | int
"""A query timestamp: an aware datetime or Unix seconds."""

UserFilter = Literal["self"]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One HTTP request and the parser of its success body."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False


def segment(value: str) -> str:
    """Quote an id for use as one path segment."""
    if not value:
        raise ValueError("ids must not be empty")
    return _quote(value, safe="")


def _decimal(value: Amount, what: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, int or str, not float (floats are inexact)")
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number")
    try:
        number = Decimal(value) if isinstance(value, int | Decimal) else Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"{what} must be a decimal number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{what} must be a non-negative finite number, got {value!r}")
    return number


def fixed(value: Amount, places: int, what: str, *, min_places: int = 2) -> str:
    """Render ``value`` as a fixed-point string with ``min_places`` to ``places`` decimals."""
    number = _decimal(value, what)
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places:
        raise ValueError(f"{what} allows at most {places} decimal places, got {value!r}")
    shown = max(min_places, -exponent)
    return f"{number:.{shown}f}"


def price(value: Amount, what: str) -> str:
    """Render a bid in dollars; zero (declining the side) is sent as ``"0"``."""
    number = _decimal(value, what)
    return "0" if number == 0 else fixed(number, 4, what)


def contracts_fp(value: Amount, what: str = "contracts") -> str:
    """Render a contract count with two decimals."""
    return fixed(value, 2, what, min_places=2)


def unix_seconds(value: Timestamp) -> str:
    """Render a query timestamp as Unix seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("use an aware datetime (with tzinfo) for query timestamps")
        return str(int(value.timestamp()))
    return str(int(value))


def query(**values: Any) -> dict[str, str]:
    """Build query parameters, dropping None and rendering booleans, times and lists."""
    params: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[name] = unix_seconds(value)
        elif isinstance(value, list | tuple):
            params[name] = ",".join(str(v) for v in value)
        else:
            params[name] = str(value)
    return params


def _items(data: Any, key: str, parse: Callable[[Mapping[str, Any]], T]) -> list[T]:
    values = data.get(key) if isinstance(data, Mapping) else None
    return [parse(item) for item in values or [] if isinstance(item, Mapping)]


def _cursor(data: Any) -> str:
    value = data.get("cursor") if isinstance(data, Mapping) else None
    return str(value) if value else ""


def _page(key: str, parse: Callable[[Mapping[str, Any]], T]) -> Callable[[Any], Page[T]]:
    def read(data: Any) -> Page[T]:
        return Page(_items(data, key, parse), _cursor(data))
    return read


def _field(key: str, parse: Callable[[Mapping[str, Any]], T]) -> Callable[[Any], T]:
    def read(data: Any) -> T:
        value = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(value, Mapping):
            raise ValueError(f"the response has no {key!r} object")
        return parse(value)
    return read


def _string(key: str) -> Callable[[Any], str]:
    def read(data: Any) -> str:
        value = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(value, str):
            raise ValueError(f"the response has no {key!r} string")
        return value
    return read


def _nothing(data: Any) -> None:
    return None


def _quote_path(quote_id: str, rfq_id: str | None) -> str:
    if rfq_id is None:
        return f"/communications/quotes/{segment(quote_id)}"
    return f"/communications/rfqs/{segment(rfq_id)}/quotes/{segment(quote_id)}"


# Communications: https://docs.kalshi.com/getting_started/rfqs -----------------------------


def communications_id() -> Call[str]:
    return Call("GET", "/communications/id", _string("communications_id"))


def create_rfq(market_ticker: str, *, contracts: Amount | None, target_cost: Amount | None,
               rest_remainder: bool, replace_existing: bool,
               target_cost_excludes_fees: bool | None, subaccount: int | None,
               subtrader_id: str | None) -> Call[str]:
    if (contracts is None) == (target_cost is None):
        raise ValueError("give exactly one of contracts and target_cost")
    body: dict[str, Any] = {"market_ticker": market_ticker, "rest_remainder": rest_remainder}
    if contracts is not None:
        body["contracts_fp"] = contracts_fp(contracts)
    if target_cost is not None:
        body["target_cost_dollars"] = fixed(target_cost, 4, "target_cost")
    if target_cost_excludes_fees is not None:
        body["target_cost_excludes_fees"] = target_cost_excludes_fees
    if replace_existing:
        body["replace_existing"] = True
    if subaccount is not None:
        body["subaccount"] = subaccount
    if subtrader_id is not None:
        body["subtrader_id"] = subtrader_id
    return Call("POST", "/communications/rfqs", _string("id"), body=body, has_body=True)


def list_rfqs(*, market_ticker: str | None, event_ticker: str | None, status: str | None,
              subaccount: int | None, user_filter: UserFilter | None,
              creator_user_id: str | None, limit: int | None,
              cursor: str | None) -> Call[Page[Rfq]]:
    return Call("GET", "/communications/rfqs", _page("rfqs", Rfq.from_wire), query(
        market_ticker=market_ticker, event_ticker=event_ticker, status=status,
        subaccount=subaccount, user_filter=user_filter, creator_user_id=creator_user_id,
        limit=limit, cursor=cursor or None))


def get_rfq(rfq_id: str) -> Call[Rfq]:
    return Call("GET", f"/communications/rfqs/{segment(rfq_id)}", _field("rfq", Rfq.from_wire))


def delete_rfq(rfq_id: str) -> Call[None]:
    return Call("DELETE", f"/communications/rfqs/{segment(rfq_id)}", _nothing)


def create_quote(rfq_id: str, yes_bid: Amount, no_bid: Amount, *, rest_remainder: bool,
                 post_only: bool | None, subaccount: int | None) -> Call[str]:
    body: dict[str, Any] = {"rfq_id": rfq_id, "yes_bid": price(yes_bid, "yes_bid"),
                            "no_bid": price(no_bid, "no_bid"), "rest_remainder": rest_remainder}
    if post_only is not None:
        body["post_only"] = post_only
    if subaccount is not None:
        body["subaccount"] = subaccount
    return Call("POST", "/communications/quotes", _string("id"), body=body, has_body=True)


def list_quotes(*, rfq_id: str | None, status: str | None, user_filter: UserFilter | None,
                rfq_user_filter: UserFilter | None, quote_creator_user_id: str | None,
                rfq_creator_user_id: str | None, rfq_creator_subtrader_id: str | None,
                min_ts: Timestamp | None, max_ts: Timestamp | None, limit: int | None,
                cursor: str | None) -> Call[Page[Quote]]:
    return Call("GET", "/communications/quotes", _page("quotes", Quote.from_wire), query(
        rfq_id=rfq_id, status=status, user_filter=user_filter, rfq_user_filter=rfq_user_filter,
        quote_creator_user_id=quote_creator_user_id, rfq_creator_user_id=rfq_creator_user_id,
        rfq_creator_subtrader_id=rfq_creator_subtrader_id,
        min_ts=None if min_ts is None else unix_seconds(min_ts),
        max_ts=None if max_ts is None else unix_seconds(max_ts),
        limit=limit, cursor=cursor or None))


def get_quote(rfq_id: str | None, quote_id: str) -> Call[Quote]:
    return Call("GET", _quote_path(quote_id, rfq_id), _field("quote", Quote.from_wire))


def delete_quote(rfq_id: str | None, quote_id: str) -> Call[None]:
    return Call("DELETE", _quote_path(quote_id, rfq_id), _nothing)


def accept_quote(rfq_id: str | None, quote_id: str, accepted_side: Side | str) -> Call[None]:
    body = {"accepted_side": Side.parse(accepted_side).value}
    return Call("PUT", _quote_path(quote_id, rfq_id) + "/accept", _nothing, body=body,
                has_body=True)


def confirm_quote(rfq_id: str | None, quote_id: str) -> Call[None]:
    # Kalshi's TypeScript SDK sends {} here; the body is optional and ignored.
    return Call("PUT", _quote_path(quote_id, rfq_id) + "/confirm", _nothing, body={},
                has_body=True)


def list_block_trade_proposals(*, market_ticker: str | None, status: str | None,
                               limit: int | None, cursor: str | None
                               ) -> Call[Page[BlockTradeProposal]]:
    return Call("GET", "/communications/block-trade-proposals",
                _page("block_trade_proposals", BlockTradeProposal.from_wire),
                query(market_ticker=market_ticker, status=status, limit=limit,
                      cursor=cursor or None))


def propose_block_trade(*, market_ticker: str, buyer_user_id: str, seller_user_id: str,
                        price_dollars: Amount, contracts: Amount, maker_side: Side | str,
                        expiration_ts: datetime, buyer_subaccount: int | None,
                        seller_subaccount: int | None, buyer_subtrader_id: str | None,
                        seller_subtrader_id: str | None) -> Call[str]:
    centi_cents = _decimal(price_dollars, "price") * 10_000
    centicount = _decimal(contracts, "contracts") * 100
    if centi_cents != centi_cents.to_integral_value() or centicount != int(centicount):
        raise ValueError("block trades take prices in $0.0001 and counts in 0.01 contracts")
    if expiration_ts.tzinfo is None:
        raise ValueError("expiration_ts must be an aware datetime")
    body: dict[str, Any] = {
        "market_ticker": market_ticker, "buyer_user_id": buyer_user_id,
        "seller_user_id": seller_user_id, "price_centi_cents": int(centi_cents),
        "centicount": int(centicount), "maker_side": Side.parse(maker_side).value,
        "expiration_ts": expiration_ts.isoformat().replace("+00:00", "Z"),
    }
    for name, value in (("buyer_subaccount", buyer_subaccount),
                        ("seller_subaccount", seller_subaccount),
                        ("buyer_subtrader_id", buyer_subtrader_id),
                        ("seller_subtrader_id", seller_subtrader_id)):
        if value is not None:
            body[name] = value
    return Call("POST", "/communications/block-trade-proposals",
                _string("block_trade_proposal_id"), body=body, has_body=True)


def accept_block_trade_proposal(proposal_id: str, *, subaccount: int | None,
                                subtrader_id: str | None) -> Call[None]:
    body: dict[str, Any] = {}
    if subaccount is not None:
        body["subaccount"] = subaccount
    if subtrader_id is not None:
        body["subtrader_id"] = subtrader_id
    return Call("POST", f"/communications/block-trade-proposals/{segment(proposal_id)}/accept",
                _nothing, body=body, has_body=True)


# Markets, exchange, portfolio ------------------------------------------------


def list_markets(*, limit: int | None, cursor: str | None, event_ticker: str | None,
                 series_ticker: str | None, status: str | None,
                 tickers: Sequence[str] | None, mve_filter: str | None,
                 min_close_ts: Timestamp | None, max_close_ts: Timestamp | None
                 ) -> Call[Page[Market]]:
    return Call("GET", "/markets", _page("markets", Market.from_wire), query(
        limit=limit, cursor=cursor or None, event_ticker=event_ticker,
        series_ticker=series_ticker, status=status,
        tickers=None if tickers is None else list(tickers), mve_filter=mve_filter,
        min_close_ts=None if min_close_ts is None else unix_seconds(min_close_ts),
        max_close_ts=None if max_close_ts is None else unix_seconds(max_close_ts)))


def get_market(ticker: str) -> Call[Market]:
    return Call("GET", f"/markets/{segment(ticker)}", _field("market", Market.from_wire))


def exchange_status() -> Call[ExchangeStatus]:
    return Call("GET", "/exchange/status", ExchangeStatus.from_wire)


def account_limits() -> Call[AccountLimits]:
    return Call("GET", "/account/limits", AccountLimits.from_wire)


def endpoint_costs() -> Call[EndpointCosts]:
    return Call("GET", "/account/endpoint_costs", EndpointCosts.from_wire)


def balance(subaccount: int | None) -> Call[Balance]:
    return Call("GET", "/portfolio/balance", Balance.from_wire, query(subaccount=subaccount))


def positions(*, ticker: str | None, event_ticker: str | None,
              count_filter: Sequence[str] | None, subaccount: int | None, limit: int | None,
              cursor: str | None) -> Call[PositionsPage]:
    def read(data: Any) -> PositionsPage:
        return PositionsPage(_items(data, "market_positions", Position.from_wire),
                             _items(data, "event_positions", EventPosition.from_wire),
                             _cursor(data))
    return Call("GET", "/portfolio/positions", read, query(
        ticker=ticker, event_ticker=event_ticker,
        count_filter=None if count_filter is None else list(count_filter),
        subaccount=subaccount, limit=limit, cursor=cursor or None))


def fills(*, ticker: str | None, order_id: str | None, min_ts: Timestamp | None,
          max_ts: Timestamp | None, subaccount: int | None, limit: int | None,
          cursor: str | None) -> Call[Page[Fill]]:
    return Call("GET", "/portfolio/fills", _page("fills", Fill.from_wire), query(
        ticker=ticker, order_id=order_id,
        min_ts=None if min_ts is None else unix_seconds(min_ts),
        max_ts=None if max_ts is None else unix_seconds(max_ts),
        subaccount=subaccount, limit=limit, cursor=cursor or None))


def orders(*, ticker: str | None, event_ticker: str | None, status: str | None,
           min_ts: Timestamp | None, max_ts: Timestamp | None, subaccount: int | None,
           limit: int | None, cursor: str | None) -> Call[Page[Order]]:
    return Call("GET", "/portfolio/orders", _page("orders", Order.from_wire), query(
        ticker=ticker, event_ticker=event_ticker, status=status,
        min_ts=None if min_ts is None else unix_seconds(min_ts),
        max_ts=None if max_ts is None else unix_seconds(max_ts),
        subaccount=subaccount, limit=limit, cursor=cursor or None))


def order(order_id: str) -> Call[Order]:
    return Call("GET", f"/portfolio/orders/{segment(order_id)}", _field("order", Order.from_wire))


def positions_as_page(call: Call[PositionsPage]) -> Call[Page[Position]]:
    """View a positions call as a page of market positions, for iteration."""
    parse = call.parse

    def read(data: Any) -> Page[Position]:
        page = parse(data)
        return Page(page.market_positions, page.cursor)

    return Call(call.method, call.path, read, call.params, call.body, call.has_body)
