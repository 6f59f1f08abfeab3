"""What the dashboard shows, read at once: the clock, markets with their book ladders and
last trades, open RFQs with their quotes and windows, executions, fills, accounts with
balances and positions, counterparties, liquidity makers, fault rules and the journal's tail.

Everything is read in one transaction, so one picture never mixes two states. Prices and
amounts are rendered as Kalshi's dollar strings; instants as milliseconds on the sandbox
clock, which the page counts down from (a manual clock's timers stand still).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from kalshi_sandbox.domain.clock import Clock, Instant, SystemClock, format_instant
from kalshi_sandbox.domain.money import format_count, format_money, format_price
from kalshi_sandbox.domain.portfolio import Fill
from kalshi_sandbox.domain.queries import MarketQuery, PortfolioQuery, RfqQuery, TradeQuery
from kalshi_sandbox.domain.quote import Quote, QuoteStatus
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.exchange.marketdata import MarketData
from kalshi_sandbox.exchange.ports import Store

MAX_MARKETS = 50
MAX_RFQS = 50
RECENT = 20
TAIL = 30
LADDER = 8

Describe = Callable[[], list[dict[str, Any]]]


def ms(instant: Instant | None) -> int | None:
    """Return an instant in milliseconds (None stays None)."""
    return None if instant is None else instant // 1000


@dataclass
class Sources:
    """Where the dashboard reads from: the store, the clock and the powers' descriptions."""

    store: Store
    clock: Clock
    marketdata: MarketData
    pending_timers: Callable[[], int]
    counterparties: Describe
    liquidity: Describe
    faults: Describe
    journal_tail: Callable[[], Iterable[Mapping[str, Any]]]


def render_quote(quote: Quote, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": quote.id,
        "rfq_id": quote.rfq_id,
        "maker": names.get(quote.creator_user_id, quote.creator_user_id),
        "market_ticker": quote.market_ticker,
        "status": quote.status.value,
        "yes_bid_dollars": format_price(quote.yes_bid),
        "no_bid_dollars": format_price(quote.no_bid),
        "contracts_fp": format_count(quote.contracts),
        "accepted_side": None if quote.accepted_side is None else quote.accepted_side.value,
        "created_ms": ms(quote.created_ts),
        "confirm_deadline_ms": ms(quote.confirm_deadline),
        "execute_at_ms": ms(quote.execute_at),
        "executed_ms": ms(quote.executed_ts),
        "cancellation_reason": (None if quote.cancellation_reason is None
                                else quote.cancellation_reason.value),
    }


def render_rfq(rfq: Rfq, quotes: list[Quote], names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": rfq.id,
        "market_ticker": rfq.market_ticker,
        "requester": names.get(rfq.creator_user_id, rfq.creator_user_id),
        "contracts_fp": format_count(rfq.contracts),
        "status": rfq.status.value,
        "created_ms": ms(rfq.created_ts),
        "quotes": [render_quote(q, names) for q in quotes],
    }


def render_fill(fill: Fill, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "account": names.get(fill.user_id, fill.user_id),
        "ticker": fill.ticker,
        "side": fill.side.value,
        "yes_price_dollars": format_price(fill.yes_price),
        "count_fp": format_count(fill.count),
        "is_taker": fill.is_taker,
        "is_block_trade": fill.is_block_trade,
        "created_ms": ms(fill.created_ts),
    }


def journal_line(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Summarise a journal entry in one line (never its keys or bodies)."""
    kind = str(entry.get("type", ""))
    text = kind
    if kind == "request":
        text = f"{entry.get('method', '')} {entry.get('path', '')}"
        if "status" in entry:
            text += f" -> {entry['status']}"
    elif kind == "event":
        text = str(entry.get("event", "event"))
        ids = [f"{k}={v}" for k, v in entry.items()
               if k.endswith("_id") and isinstance(v, str)]
        if ids:
            text += " " + " ".join(ids[:3])
    elif kind == "timer":
        text = f"timer {entry.get('kind', '')} {entry.get('subject', '')}".rstrip()
    return {"seq": entry.get("seq"), "type": kind, "instant": entry.get("instant"),
            "text": text[:200]}


async def read_state(src: Sources) -> dict[str, Any]:
    """Return everything the dashboard shows, from one transaction."""
    clock = src.clock
    now = clock.now()
    async with src.store.transaction() as tx:
        accounts = await tx.list_accounts()
        names = {a.user_id: a.name for a in accounts}
        markets = await tx.list_markets(MarketQuery(limit=MAX_MARKETS))
        open_rfqs = await tx.list_rfqs(RfqQuery(limit=MAX_RFQS, status=RfqStatus.OPEN))
        closed = await tx.list_rfqs(RfqQuery(limit=RECENT, status=RfqStatus.CLOSED))
        every_status = list(QuoteStatus)
        rfqs = []
        for rfq in open_rfqs:
            rfqs.append(render_rfq(rfq, await tx.quotes_of_rfq(rfq.id, every_status), names))
        executions = []
        for rfq in closed:
            for quote in await tx.quotes_of_rfq(rfq.id, [QuoteStatus.EXECUTED]):
                executions.append(render_quote(quote, names) | {
                    "requester": names.get(rfq.creator_user_id, rfq.creator_user_id)})
        executions.sort(key=lambda q: q["executed_ms"] or 0, reverse=True)
        fills: list[Fill] = []
        rendered_accounts = []
        for account in accounts:
            query = PortfolioQuery(user_id=account.user_id, limit=RECENT)
            fills += await tx.list_fills(query)
            positions = await tx.list_positions(query)
            rendered_accounts.append({
                "user_id": account.user_id,
                "name": account.name,
                "balance_dollars": format_money(await tx.get_balance(account.user_id, 0)),
                "positions": [{"ticker": p.ticker, "position_fp": format_count(p.position),
                               "exposure_dollars": format_money(p.exposure),
                               "realized_pnl_dollars": format_money(p.realized_pnl)}
                              for p in positions if p.position or p.exposure],
            })
        rendered_markets = []
        for market in markets:
            yes, no = src.marketdata.levels(market.ticker)
            trades = await tx.list_trades(TradeQuery(limit=5, ticker=market.ticker))
            rendered_markets.append({
                "ticker": market.ticker,
                "title": market.title,
                "status": market.status.value,
                "hvm": market.hvm,
                "yes_bids": [[format_price(p), format_count(c)]
                             for p, c in reversed(yes[-LADDER:])],
                "no_bids": [[format_price(p), format_count(c)]
                            for p, c in reversed(no[-LADDER:])],
                "trades": [{"yes_price_dollars": format_price(t.yes_price),
                            "count_fp": format_count(t.count), "taker_side": t.side.value,
                            "created_ms": ms(t.created_ts)} for t in trades],
            })
    fills.sort(key=lambda f: (f.created_ts, f.fill_id), reverse=True)
    clock_state: dict[str, Any] = {
        "mode": "manual" if clock.manual else "system",
        "now": format_instant(now),
        "now_ms": now // 1000,
        "speed": clock.speed if isinstance(clock, SystemClock) else 0,
        "pending_timers": src.pending_timers(),
    }
    return {
        "clock": clock_state,
        "markets": rendered_markets,
        "rfqs": rfqs,
        "executions": executions[:RECENT],
        "fills": [render_fill(f, names) for f in fills[:RECENT]],
        "accounts": rendered_accounts,
        "counterparties": src.counterparties(),
        "liquidity": src.liquidity(),
        "faults": src.faults(),
        "journal": [journal_line(e) for e in list(src.journal_tail())[-TAIL:]],
    }


_encoder = msgspec.json.Encoder()


def encode(state: Mapping[str, Any]) -> bytes:
    """Encode a state as JSON."""
    return _encoder.encode(state)


__all__ = ["Sources", "encode", "journal_line", "read_state"]
