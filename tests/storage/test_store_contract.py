"""The storage contract: what every ``Store`` backend must do, run against each backend.

Only the ``Store``/``Transaction`` ports are used, so a new backend passes or fails this suite
without any test knowing its type.

Past 500 lines on purpose: one contract for every backend, kept in one suite so a backend
is checked against all of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.domain.market import MarketStatus
from kalshi_sandbox.domain.portfolio import OrderStatus
from kalshi_sandbox.domain.queries import (
    MarketQuery,
    PortfolioQuery,
    QuoteQuery,
    RfqQuery,
    TradeQuery,
)
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import RfqStatus
from kalshi_sandbox.domain.timer import TimerKind
from kalshi_sandbox.exchange.ports import (
    Dump,
    IntegrityViolation,
    InvalidDump,
    StorageError,
    Store,
    Transaction,
)
from kalshi_sandbox.storage.schema import MIGRATIONS, TABLES
from tests.storage import entities as e
from tests.storage.conftest import Backend

pytestmark = pytest.mark.anyio

BIG = 1_000


class Boom(Exception):
    """Raised inside a transaction to make it roll back."""


Work = Callable[[Transaction], Awaitable[Any]]


async def run(store: Store, *steps: Work) -> None:
    """Run ``steps`` in one transaction."""
    async with store.transaction() as tx:
        for step in steps:
            await step(tx)


async def fail(tx: Transaction) -> None:
    raise Boom


async def insert_all(tx: Transaction) -> None:
    """Write one of every entity."""
    await tx.insert_account(e.account())
    await tx.insert_key(e.api_key())
    await tx.set_balance("user-1", 0, 5_000_000, 1)
    await tx.set_meta("k", "v")
    await tx.insert_market(e.market())
    await tx.insert_rfq(e.rfq())
    await tx.insert_quote(e.quote())
    await tx.insert_order(e.order())
    await tx.insert_fill(e.fill())
    await tx.upsert_position(e.position())
    await tx.add_timer(TimerKind.EXECUTE, "quote-1", 500)


async def assert_empty(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.list_accounts() == []
        assert await tx.get_key("key-1") is None
        assert await tx.get_balance("user-1", 0) == 0
        assert await tx.balance_updated_ts("user-1", 0) is None
        assert await tx.get_meta("k") is None
        assert await tx.list_markets(MarketQuery(limit=BIG)) == []
        assert await tx.list_rfqs(RfqQuery(limit=BIG)) == []
        assert await tx.get_quote("quote-1") is None
        assert await tx.get_order("order-1") is None
        assert await tx.list_fills(PortfolioQuery(user_id="user-1", limit=BIG)) == []
        assert await tx.get_position("user-1", 0, "KXA-26DEC31-T1") is None
        assert await tx.pending_timers() == []


# Round-trips ----------------------------------------------------------------------------


async def test_fresh_store_is_empty(store: Store) -> None:
    await assert_empty(store)


async def test_account_round_trips_and_lists_in_creation_order(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_account(e.account("user-b", created_ts=2))
        await tx.insert_account(e.account("user-a", created_ts=2))
        await tx.insert_account(e.account("user-c", created_ts=1))
    async with store.transaction() as tx:
        assert await tx.get_account("user-a") == e.account("user-a", created_ts=2)
        assert await tx.get_account("nobody") is None
        assert [a.user_id for a in await tx.list_accounts()] == ["user-c", "user-a", "user-b"]


async def test_api_keys_round_trip_and_list_per_user(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_key(e.api_key("key-2", created_ts=2))
        await tx.insert_key(e.api_key("key-1", created_ts=1))
        await tx.insert_key(e.api_key("key-3", user_id="user-2"))
    async with store.transaction() as tx:
        assert await tx.get_key("key-1") == e.api_key("key-1", created_ts=1)
        assert await tx.get_key("nope") is None
        assert [k.key_id for k in await tx.keys_of("user-1")] == ["key-1", "key-2"]
        assert await tx.keys_of("nobody") == []


async def test_balance_defaults_to_zero_and_is_kept_per_subaccount(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.set_balance("user-1", 0, 7_000_000, 10)
        await tx.set_balance("user-1", 3, 1, 11)
    async with store.transaction() as tx:
        await tx.set_balance("user-1", 0, 6_500_000, 12)
    async with store.transaction() as tx:
        assert await tx.get_balance("user-1", 0) == 6_500_000
        assert await tx.balance_updated_ts("user-1", 0) == 12
        assert await tx.get_balance("user-1", 3) == 1
        assert await tx.get_balance("user-1", 4) == 0
        assert await tx.balance_updated_ts("user-1", 4) is None


async def test_balance_may_hold_large_and_negative_amounts(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.set_balance("whale", 0, 10**15, 1)
        await tx.set_balance("debtor", 0, -5, 1)
    async with store.transaction() as tx:
        assert await tx.get_balance("whale", 0) == 10**15
        assert await tx.get_balance("debtor", 0) == -5


async def test_meta_is_none_until_set_and_overwrites(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.get_meta("colour") is None
        await tx.set_meta("colour", "red")
        await tx.set_meta("colour", "blue")
    async with store.transaction() as tx:
        assert await tx.get_meta("colour") == "blue"


async def test_market_round_trips_with_its_price_grid(store: Store) -> None:
    plain = e.market()
    combo = e.market("KXMVE-1", event="KXMVE", series="KXMVE", mve="KXMVECOLL",
                     structure="center_deci_edge_centi_cent")
    async with store.transaction() as tx:
        await tx.insert_market(plain)
        await tx.insert_market(combo)
    async with store.transaction() as tx:
        assert await tx.get_market(plain.ticker) == plain
        assert await tx.get_market(combo.ticker) == combo
        assert await tx.get_market("NOPE") is None


async def test_market_update_changes_every_mutable_field(store: Store) -> None:
    original = e.market()
    changed = dataclasses.replace(original, status=MarketStatus.CLOSED, hvm=True,
                                  last_price=9_990, volume=5, open_interest=0, result="yes",
                                  updated_ts=99, title="new")
    async with store.transaction() as tx:
        await tx.insert_market(original)
        await tx.update_market(changed)
    async with store.transaction() as tx:
        assert await tx.get_market(original.ticker) == changed


async def test_list_markets_filters_and_pages_in_ticker_order(store: Store) -> None:
    markets = [
        e.market("A-1", event="A", series="S1"),
        e.market("B-1", event="B", series="S1", status=MarketStatus.CLOSED),
        e.market("C-1", event="C", series="S2", mve="COLL"),
        e.market("D-1", event="A", series="S2"),
    ]
    async with store.transaction() as tx:
        for m in reversed(markets):
            await tx.insert_market(m)

    async def tickers(query: MarketQuery) -> list[str]:
        async with store.transaction() as tx:
            return [m.ticker for m in await tx.list_markets(query)]

    assert await tickers(MarketQuery(limit=BIG)) == ["A-1", "B-1", "C-1", "D-1"]
    assert await tickers(MarketQuery(limit=2)) == ["A-1", "B-1"]
    assert await tickers(MarketQuery(limit=2, after="B-1")) == ["C-1", "D-1"]
    assert await tickers(MarketQuery(limit=BIG, event_ticker="A")) == ["A-1", "D-1"]
    assert await tickers(MarketQuery(limit=BIG, series_ticker="S2")) == ["C-1", "D-1"]
    assert await tickers(MarketQuery(limit=BIG, statuses=("closed",))) == ["B-1"]
    assert await tickers(MarketQuery(limit=BIG, tickers=("D-1", "A-1", "Z"))) == ["A-1", "D-1"]
    assert await tickers(MarketQuery(limit=BIG, mve=True)) == ["C-1"]
    assert await tickers(MarketQuery(limit=BIG, mve=False)) == ["A-1", "B-1", "D-1"]


async def test_rfq_round_trips_with_optional_fields_empty_and_set(store: Store) -> None:
    sized = e.rfq("rfq-1")
    targeted = e.rfq("rfq-2", target_cost=35_000_000, status=RfqStatus.CLOSED)
    async with store.transaction() as tx:
        await tx.insert_rfq(sized)
        await tx.insert_rfq(targeted)
    async with store.transaction() as tx:
        assert await tx.get_rfq("rfq-1") == sized
        assert await tx.get_rfq("rfq-2") == targeted
        assert await tx.get_rfq("rfq-3") is None


async def test_rfq_update_persists_the_closed_state(store: Store) -> None:
    open_rfq = e.rfq()
    async with store.transaction() as tx:
        await tx.insert_rfq(open_rfq)
    closed = dataclasses.replace(e.rfq(status=RfqStatus.CLOSED), created_ts=open_rfq.created_ts)
    async with store.transaction() as tx:
        await tx.update_rfq(closed)
    async with store.transaction() as tx:
        assert await tx.get_rfq(open_rfq.id) == closed


async def test_quote_round_trips_in_every_status(store: Store) -> None:
    quotes = [e.quote(f"quote-{s.value}", status=s) for s in QuoteStatus]
    async with store.transaction() as tx:
        for q in quotes:
            await tx.insert_quote(q)
    async with store.transaction() as tx:
        for q in quotes:
            assert await tx.get_quote(q.id) == q
        assert await tx.get_quote("none") is None


async def test_quote_update_persists_every_lifecycle_field(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote())
    executed = e.quote(status=QuoteStatus.EXECUTED)
    async with store.transaction() as tx:
        await tx.update_quote(executed)
    async with store.transaction() as tx:
        assert await tx.get_quote("quote-1") == executed


async def test_order_fill_and_position_round_trip(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_order(e.order())
        await tx.insert_fill(e.fill())
        await tx.upsert_position(e.position())
    async with store.transaction() as tx:
        assert await tx.get_order("order-1") == e.order()
        assert await tx.get_order("order-2") is None
        assert await tx.list_fills(PortfolioQuery(user_id="user-1", limit=BIG)) == [e.fill()]
        assert await tx.get_position("user-1", 0, "KXA-26DEC31-T1") == e.position()
        assert await tx.get_position("user-1", 1, "KXA-26DEC31-T1") is None


async def test_upsert_position_inserts_then_updates_one_row(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.upsert_position(e.position(size=100))
        await tx.upsert_position(e.position(size=-40, updated_ts=400))
        await tx.upsert_position(e.position(subaccount=1, size=7))
    async with store.transaction() as tx:
        assert await tx.get_position("user-1", 0, "KXA-26DEC31-T1") == e.position(
            size=-40, updated_ts=400)
        listed = await tx.list_positions(PortfolioQuery(user_id="user-1", limit=BIG))
        assert [(p.subaccount, p.position) for p in listed] == [(0, -40), (1, 7)]


# Listing: keyset pagination and filters ---------------------------------------------------

RFQ_TIMES = {"rfq-a": 1, "rfq-d": 1, "rfq-c": 2, "rfq-b": 2, "rfq-f": 2, "rfq-e": 3}
NEWEST_FIRST = ["rfq-e", "rfq-f", "rfq-c", "rfq-b", "rfq-d", "rfq-a"]


async def test_list_rfqs_pages_newest_first_with_ties_broken_by_id(store: Store) -> None:
    async with store.transaction() as tx:
        for rfq_id, ts in RFQ_TIMES.items():
            await tx.insert_rfq(e.rfq(rfq_id, created_ts=ts))
    seen: list[str] = []
    after = None
    while True:
        async with store.transaction() as tx:
            page = await tx.list_rfqs(RfqQuery(limit=2, after=after))
        if not page:
            break
        assert len(page) <= 2
        seen += [r.id for r in page]
        after = (page[-1].created_ts, page[-1].id)
    assert seen == NEWEST_FIRST


async def test_list_rfqs_filters_combine(store: Store) -> None:
    rfqs = [
        e.rfq("r1", creator="u1", ticker="M1", event="E1", created_ts=1),
        e.rfq("r2", creator="u1", ticker="M2", event="E1", created_ts=2,
              status=RfqStatus.CLOSED),
        e.rfq("r3", creator="u2", ticker="M1", event="E1", created_ts=3, subaccount=4),
        e.rfq("r4", creator="u2", ticker="M3", event="E2", created_ts=4,
              status=RfqStatus.CLOSED),
    ]
    async with store.transaction() as tx:
        for r in rfqs:
            await tx.insert_rfq(r)

    async def ids(**filters: Any) -> list[str]:
        async with store.transaction() as tx:
            query = dataclasses.replace(RfqQuery(limit=BIG), **filters)
            return [r.id for r in await tx.list_rfqs(query)]

    assert await ids() == ["r4", "r3", "r2", "r1"]
    assert await ids(market_ticker="M1") == ["r3", "r1"]
    assert await ids(event_ticker="E1") == ["r3", "r2", "r1"]
    assert await ids(status=RfqStatus.OPEN) == ["r3", "r1"]
    assert await ids(status=RfqStatus.CLOSED, creator_user_id="u2") == ["r4"]
    assert await ids(subaccount=4) == ["r3"]
    # Closed RFQs last updated before the retention horizon disappear; open ones stay.
    # (r2 was updated at 7, r4 at 9.)
    assert await ids(closed_since=8) == ["r4", "r3", "r1"]
    assert await ids(closed_since=100) == ["r3", "r1"]


async def test_open_rfq_lookups_see_only_open_rfqs_oldest_first(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_rfq(e.rfq("r2", creator="u1", ticker="M1", created_ts=2))
        await tx.insert_rfq(e.rfq("r1", creator="u1", ticker="M2", created_ts=1))
        await tx.insert_rfq(e.rfq("r3", creator="u1", ticker="M3", created_ts=3,
                                  status=RfqStatus.CLOSED))
        await tx.insert_rfq(e.rfq("r4", creator="u2", ticker="M1", created_ts=4))
    async with store.transaction() as tx:
        assert [r.id for r in await tx.open_rfqs_of("u1")] == ["r1", "r2"]
        assert [r.id for r in await tx.open_rfqs_on("M1")] == ["r2", "r4"]
        assert await tx.open_rfqs_on("M3") == []
        assert await tx.count_open_rfqs("u1") == 2
        assert await tx.count_open_rfqs("u3") == 0
        found = await tx.open_rfq_on_market("u1", "M1")
        assert found is not None
        assert found.id == "r2"
        assert await tx.open_rfq_on_market("u1", "M3") is None


async def test_list_quotes_shows_a_viewer_only_their_quotes_and_quotes_on_their_rfqs(
        store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote("q1", maker="m1", requester="r1", created_ts=1))
        await tx.insert_quote(e.quote("q2", maker="m2", requester="r1", created_ts=2))
        await tx.insert_quote(e.quote("q3", maker="m1", requester="r2", created_ts=3))

    async def ids(viewer: str, **filters: Any) -> list[str]:
        query = dataclasses.replace(QuoteQuery(viewer_user_id=viewer, limit=BIG), **filters)
        async with store.transaction() as tx:
            return [q.id for q in await tx.list_quotes(query)]

    assert await ids("m1") == ["q3", "q1"]
    assert await ids("r1") == ["q2", "q1"]
    assert await ids("stranger") == []
    assert await ids("m1", creator_user_id="m1") == ["q3", "q1"]
    assert await ids("r1", rfq_creator_user_id="r1") == ["q2", "q1"]
    assert await ids("m1", rfq_creator_user_id="m1") == []


async def test_list_quotes_filters_by_status_rfq_update_window_and_retention(
        store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote("q1", rfq_id="A", created_ts=1, updated_ts=10))
        await tx.insert_quote(e.quote("q2", rfq_id="B", created_ts=2, updated_ts=20,
                                      status=QuoteStatus.CANCELLED))
        await tx.insert_quote(e.quote("q3", rfq_id="A", created_ts=3, updated_ts=30,
                                      status=QuoteStatus.ACCEPTED))

    async def ids(**filters: Any) -> list[str]:
        query = dataclasses.replace(QuoteQuery(viewer_user_id="maker", limit=BIG), **filters)
        async with store.transaction() as tx:
            return [q.id for q in await tx.list_quotes(query)]

    assert await ids(status=QuoteStatus.CANCELLED) == ["q2"]
    assert await ids(rfq_id="A") == ["q3", "q1"]
    # The update window is exclusive at both ends.
    assert await ids(min_updated=10) == ["q3", "q2"]
    assert await ids(max_updated=30) == ["q2", "q1"]
    assert await ids(min_updated=10, max_updated=30) == ["q2"]
    assert await ids(cancelled_since=20) == ["q3", "q2", "q1"]
    assert await ids(cancelled_since=21) == ["q3", "q1"]


async def test_list_quotes_pages_newest_first(store: Store) -> None:
    async with store.transaction() as tx:
        for quote_id, ts in RFQ_TIMES.items():
            await tx.insert_quote(e.quote(quote_id, created_ts=ts))
    seen: list[str] = []
    after = None
    for _ in range(10):
        async with store.transaction() as tx:
            page = await tx.list_quotes(QuoteQuery(viewer_user_id="maker", limit=4,
                                                   after=after))
        seen += [q.id for q in page]
        if len(page) < 4:
            break
        after = (page[-1].created_ts, page[-1].id)
    assert seen == NEWEST_FIRST


async def test_list_quotes_pages_a_viewer_who_is_maker_and_requester_in_one_order(
        store: Store) -> None:
    # The viewer's own quotes and quotes on the viewer's RFQs interleave, with ties on
    # created_ts across the two roles and a quote the viewer made on its own RFQ.
    expected: list[tuple[int, str]] = []
    async with store.transaction() as tx:
        for n in range(23):
            ts = n // 3
            maker, requester = [("me", "other"), ("other", "me"), ("me", "me")][n % 3]
            quote_id = f"q{(n * 7) % 23:02d}"
            await tx.insert_quote(e.quote(quote_id, maker=maker, requester=requester,
                                          created_ts=ts))
            expected.append((ts, quote_id))
        await tx.insert_quote(e.quote("stranger", maker="x", requester="y", created_ts=5))
    newest_first = [quote_id for _, quote_id in sorted(expected, reverse=True)]
    for size in (1, 2, 5, 50):
        seen: list[str] = []
        after = None
        while True:
            async with store.transaction() as tx:
                page = await tx.list_quotes(QuoteQuery(viewer_user_id="me", limit=size,
                                                       after=after))
            seen += [q.id for q in page]
            if len(page) < size:
                break
            after = (page[-1].created_ts, page[-1].id)
        assert seen == newest_first, size


async def test_quotes_of_rfq_selects_statuses_oldest_first(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote("q2", created_ts=2))
        await tx.insert_quote(e.quote("q1", created_ts=1, status=QuoteStatus.ACCEPTED))
        await tx.insert_quote(e.quote("q3", created_ts=3, status=QuoteStatus.CANCELLED))
        await tx.insert_quote(e.quote("q4", rfq_id="other", created_ts=4))
    async with store.transaction() as tx:
        live = await tx.quotes_of_rfq("rfq-1", (QuoteStatus.OPEN, QuoteStatus.ACCEPTED))
        assert [q.id for q in live] == ["q1", "q2"]
        assert [q.id for q in await tx.quotes_of_rfq("rfq-1", (QuoteStatus.CANCELLED,))] == [
            "q3"]
        assert await tx.quotes_of_rfq("rfq-1", (QuoteStatus.EXECUTED,)) == []


async def test_delete_quotes_in_removes_one_status_and_counts(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote("q1"))
        await tx.insert_quote(e.quote("q2"))
        await tx.insert_quote(e.quote("q3", status=QuoteStatus.ACCEPTED))
    async with store.transaction() as tx:
        assert await tx.delete_quotes_in(QuoteStatus.OPEN) == 2
        assert await tx.delete_quotes_in(QuoteStatus.OPEN) == 0
    async with store.transaction() as tx:
        assert await tx.get_quote("q1") is None
        assert await tx.get_quote("q3") is not None


async def test_list_orders_and_fills_page_newest_first_and_filter(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_market(e.market("M1", event="E1"))
        await tx.insert_market(e.market("M2", event="E2"))
        for index, (oid, ts) in enumerate(RFQ_TIMES.items()):
            ticker = "M1" if index % 2 == 0 else "M2"
            status = OrderStatus.EXECUTED if index < 4 else OrderStatus.CANCELED
            await tx.insert_order(e.order(oid, ticker=ticker, created_ts=ts,
                                          subaccount=index % 3, status=status))
            await tx.insert_fill(e.fill(f"f-{oid}", order_id=oid, ticker=ticker,
                                        created_ts=ts, subaccount=index % 3))
        await tx.insert_order(e.order("other-user", user="user-2"))

    async def order_ids(**filters: Any) -> list[str]:
        query = dataclasses.replace(PortfolioQuery(user_id="user-1", limit=BIG), **filters)
        async with store.transaction() as tx:
            return [o.order_id for o in await tx.list_orders(query)]

    async def fill_ids(**filters: Any) -> list[str]:
        query = dataclasses.replace(PortfolioQuery(user_id="user-1", limit=BIG), **filters)
        async with store.transaction() as tx:
            return [f.order_id for f in await tx.list_fills(query)]

    # RFQ_TIMES order: a d c b f e -> tickers M1 M2 M1 M2 M1 M2, subaccounts 0 1 2 0 1 2.
    assert await order_ids() == NEWEST_FIRST
    assert await fill_ids() == NEWEST_FIRST
    assert await order_ids(limit=3) == NEWEST_FIRST[:3]
    assert await order_ids(after=(2, "rfq-c")) == ["rfq-b", "rfq-d", "rfq-a"]
    assert await fill_ids(after=(2, "f-rfq-c")) == ["rfq-b", "rfq-d", "rfq-a"]
    assert await order_ids(ticker="M1") == ["rfq-f", "rfq-c", "rfq-a"]
    assert await order_ids(event_ticker="E2") == ["rfq-e", "rfq-b", "rfq-d"]
    assert await order_ids(event_ticker="E1,E2") == NEWEST_FIRST
    assert await order_ids(subaccount=0) == ["rfq-b", "rfq-a"]
    assert await order_ids(status="canceled") == ["rfq-e", "rfq-f"]
    # The time window is inclusive at both ends.
    assert await order_ids(min_ts=2, max_ts=2) == ["rfq-f", "rfq-c", "rfq-b"]
    assert await fill_ids(min_ts=3) == ["rfq-e"]
    assert await fill_ids(order_id="rfq-d") == ["rfq-d"]


async def test_list_positions_pages_by_ticker(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_market(e.market("M1", event="E1"))
        await tx.insert_market(e.market("M2", event="E2"))
        await tx.insert_market(e.market("M3", event="E1"))
        for ticker in ("M3", "M1", "M2"):
            await tx.upsert_position(e.position(ticker=ticker))
        await tx.upsert_position(e.position(user="user-2", ticker="M1"))

    async def tickers(**filters: Any) -> list[str]:
        query = dataclasses.replace(PortfolioQuery(user_id="user-1", limit=BIG), **filters)
        async with store.transaction() as tx:
            return [p.ticker for p in await tx.list_positions(query)]

    assert await tickers() == ["M1", "M2", "M3"]
    assert await tickers(limit=2) == ["M1", "M2"]
    assert await tickers(after=(0, "M2")) == ["M3"]
    assert await tickers(ticker="M2") == ["M2"]
    assert await tickers(event_ticker="E1") == ["M1", "M3"]


# Timers ----------------------------------------------------------------------------------


async def test_timers_are_pending_in_due_then_creation_order(store: Store) -> None:
    async with store.transaction() as tx:
        late = await tx.add_timer(TimerKind.EXECUTE, "q1", 30)
        first = await tx.add_timer(TimerKind.CONFIRM_DEADLINE, "q2", 10)
        tie = await tx.add_timer(TimerKind.RFQ_EXPIRY, "r1", 30)
    assert (late.kind, late.subject, late.due) == ("execute", "q1", 30)
    assert late.id < first.id < tie.id
    async with store.transaction() as tx:
        assert await tx.pending_timers() == [first, late, tie]


async def test_take_timer_succeeds_exactly_once(store: Store) -> None:
    async with store.transaction() as tx:
        timer = await tx.add_timer(TimerKind.EXECUTE, "q1", 30)
    async with store.transaction() as tx:
        assert await tx.take_timer(timer.id) is True
    async with store.transaction() as tx:
        assert await tx.take_timer(timer.id) is False
        assert await tx.take_timer(timer.id + 1000) is False
        assert await tx.pending_timers() == []


async def test_concurrent_takers_of_one_timer_get_it_once(store: Store) -> None:
    async with store.transaction() as tx:
        timer = await tx.add_timer(TimerKind.EXECUTE, "q1", 30)

    async def take() -> bool:
        async with store.transaction() as tx:
            await asyncio.sleep(0)
            return await tx.take_timer(timer.id)

    assert sorted(await asyncio.gather(*(take() for _ in range(5)))) == [False] * 4 + [True]


async def test_cancel_timers_removes_every_timer_of_a_subject_only(store: Store) -> None:
    async with store.transaction() as tx:
        a = await tx.add_timer(TimerKind.CONFIRM_DEADLINE, "q1", 10)
        b = await tx.add_timer(TimerKind.EXECUTE, "q1", 20)
        other = await tx.add_timer(TimerKind.EXECUTE, "q2", 15)
    async with store.transaction() as tx:
        assert sorted(await tx.cancel_timers("q1")) == sorted([a.id, b.id])
        assert await tx.cancel_timers("q1") == []
        assert await tx.cancel_timers("never") == []
    async with store.transaction() as tx:
        assert await tx.pending_timers() == [other]


async def test_timer_ids_are_not_reused_after_take(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.add_timer(TimerKind.EXECUTE, "q1", 10)
        assert await tx.take_timer(first.id)
        second = await tx.add_timer(TimerKind.EXECUTE, "q1", 10)
    assert second.id > first.id


# What the store remembers against what it wrote -------------------------------------------
# A backend may answer reads from memory; these tests look at what reached the database
# (through dump, a second store over the same database, or both) as well.

LIVE = (QuoteStatus.OPEN, QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED)


async def change_everything_step_by_step(store: Store) -> None:
    """Insert one of every entity, then walk each mutable one through its updates."""
    async with store.transaction() as tx:
        await insert_all(tx)
        await tx.insert_rfq(e.rfq("rfq-2", ticker="KXB-26DEC31-T1"))
        await tx.insert_quote(e.quote("quote-2", rfq_id="rfq-2"))
    for status in (QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED, QuoteStatus.EXECUTED):
        async with store.transaction() as tx:
            await tx.update_quote(e.quote(status=status))
    async with store.transaction() as tx:
        await tx.update_quote(e.quote("quote-2", rfq_id="rfq-2", status=QuoteStatus.CANCELLED))
        await tx.update_rfq(dataclasses.replace(e.rfq(status=RfqStatus.CLOSED), created_ts=100))
        await tx.update_market(dataclasses.replace(e.market(), status=MarketStatus.CLOSED,
                                                   hvm=True, last_price=1, updated_ts=9))
        await tx.upsert_position(e.position(size=5, updated_ts=310))
        await tx.upsert_position(e.position(ticker="KXB-26DEC31-T1", size=3))
        await tx.set_balance("user-1", 0, 4_000_000, 5)
        await tx.set_balance("user-1", 2, 1, 6)
        await tx.set_meta("k", "w")


async def insert_final_states(store: Store) -> None:
    """Insert directly what ``change_everything_step_by_step`` ends with."""
    async with store.transaction() as tx:
        await tx.insert_account(e.account())
        await tx.insert_key(e.api_key())
        await tx.set_balance("user-1", 0, 4_000_000, 5)
        await tx.set_balance("user-1", 2, 1, 6)
        await tx.set_meta("k", "w")
        await tx.insert_market(dataclasses.replace(e.market(), status=MarketStatus.CLOSED,
                                                   hvm=True, last_price=1, updated_ts=9))
        await tx.insert_rfq(dataclasses.replace(e.rfq(status=RfqStatus.CLOSED), created_ts=100))
        await tx.insert_rfq(e.rfq("rfq-2", ticker="KXB-26DEC31-T1"))
        await tx.insert_quote(e.quote(status=QuoteStatus.EXECUTED))
        await tx.insert_quote(e.quote("quote-2", rfq_id="rfq-2", status=QuoteStatus.CANCELLED))
        await tx.insert_order(e.order())
        await tx.insert_fill(e.fill())
        await tx.upsert_position(e.position(size=5, updated_ts=310))
        await tx.upsert_position(e.position(ticker="KXB-26DEC31-T1", size=3))
        await tx.add_timer(TimerKind.EXECUTE, "quote-1", 500)


async def test_updates_reach_the_database_as_if_the_final_rows_were_inserted(
        backend: Backend, tmp_path: Path) -> None:
    stepwise, direct = backend.make(tmp_path / "a"), backend.make(tmp_path / "b")
    await stepwise.open()
    await direct.open()
    try:
        await change_everything_step_by_step(stepwise)
        await insert_final_states(direct)
        assert await stepwise.dump() == await direct.dump()
    finally:
        await stepwise.close()
        await direct.close()


async def test_a_second_store_sees_each_transaction_once_its_block_has_exited(
        persistent_backend: Backend, tmp_path: Path) -> None:
    writer, reader = persistent_backend.make(tmp_path), persistent_backend.make(tmp_path)
    await writer.open()
    await reader.open()
    try:
        await change_everything_step_by_step(writer)
        async with reader.transaction() as tx:
            assert await tx.get_quote("quote-1") == e.quote(status=QuoteStatus.EXECUTED)
            assert await tx.get_balance("user-1", 0) == 4_000_000
        assert await reader.dump() == await writer.dump()
    finally:
        await reader.close()
        await writer.close()


async def test_open_rfq_and_live_quote_lookups_follow_every_change(store: Store) -> None:
    async with store.transaction() as tx:
        # Look first, so that whatever a backend remembers of the answers is then updated.
        assert await tx.count_open_rfqs("user-1") == 0
        assert await tx.quotes_of_rfq("rfq-1", LIVE) == []
        await tx.insert_rfq(e.rfq("rfq-1", ticker="M1", created_ts=2))
        await tx.insert_rfq(e.rfq("rfq-0", ticker="M2", created_ts=1))
        await tx.insert_rfq(e.rfq("rfq-x", ticker="M3", status=RfqStatus.CLOSED))
        await tx.insert_quote(e.quote("q1", created_ts=2))
        await tx.insert_quote(e.quote("q0", created_ts=1, status=QuoteStatus.ACCEPTED))
        await tx.insert_quote(e.quote("qx", status=QuoteStatus.CANCELLED))
        assert await tx.count_open_rfqs("user-1") == 2
        assert [r.id for r in await tx.open_rfqs_of("user-1")] == ["rfq-0", "rfq-1"]
        assert [q.id for q in await tx.quotes_of_rfq("rfq-1", LIVE)] == ["q0", "q1"]
    async with store.transaction() as tx:
        await tx.update_rfq(dataclasses.replace(e.rfq("rfq-0", ticker="M2", created_ts=1,
                                                      status=RfqStatus.CLOSED)))
        await tx.update_quote(e.quote("q0", created_ts=1, status=QuoteStatus.CONFIRMED))
        await tx.update_quote(e.quote("q1", created_ts=2, status=QuoteStatus.CANCELLED))
    async with store.transaction() as tx:
        assert await tx.count_open_rfqs("user-1") == 1
        assert await tx.open_rfq_on_market("user-1", "M2") is None
        assert await tx.open_rfq_on_market("user-1", "M1") == e.rfq("rfq-1", ticker="M1",
                                                                created_ts=2)
        assert [q.id for q in await tx.quotes_of_rfq("rfq-1", LIVE)] == ["q0"]
        assert [q.id for q in await tx.quotes_of_rfq("rfq-1", (QuoteStatus.OPEN,))] == []
        assert [q.id for q in await tx.quotes_of_rfq(
            "rfq-1", (QuoteStatus.CANCELLED,))] == ["q1", "qx"]
        await tx.insert_quote(e.quote("q2", created_ts=3))
        assert await tx.delete_quotes_in(QuoteStatus.OPEN) == 1
        assert [q.id for q in await tx.quotes_of_rfq("rfq-1", LIVE)] == ["q0"]


async def test_rollback_restores_every_lookup(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    async with store.transaction() as tx:
        before = (await tx.open_rfqs_of("user-1"), await tx.quotes_of_rfq("rfq-1", LIVE),
                  await tx.get_market(e.market().ticker), await tx.get_meta("k"),
                  await tx.get_position("user-1", 0, e.market().ticker),
                  await tx.get_balance("user-1", 0), await tx.get_account("user-1"))

    async def change(tx: Transaction) -> None:
        await tx.update_rfq(dataclasses.replace(e.rfq(status=RfqStatus.CLOSED), created_ts=100))
        await tx.insert_rfq(e.rfq("rfq-2", ticker="M2"))
        await tx.update_quote(e.quote(status=QuoteStatus.CANCELLED))
        await tx.insert_quote(e.quote("quote-2", status=QuoteStatus.ACCEPTED))
        await tx.update_market(dataclasses.replace(e.market(), volume=0))
        await tx.set_meta("k", "x")
        await tx.upsert_position(e.position(size=1))
        await tx.set_balance("user-1", 0, 1, 9)
        assert await tx.count_open_rfqs("user-1") == 1

    with pytest.raises(Boom):
        await run(store, change, fail)
    with pytest.raises(IntegrityViolation):
        await run(store, change, lambda tx: tx.insert_account(e.account()))
    async with store.transaction() as tx:
        after = (await tx.open_rfqs_of("user-1"), await tx.quotes_of_rfq("rfq-1", LIVE),
                 await tx.get_market(e.market().ticker), await tx.get_meta("k"),
                 await tx.get_position("user-1", 0, e.market().ticker),
                 await tx.get_balance("user-1", 0), await tx.get_account("user-1"))
        assert await tx.get_rfq("rfq-2") is None
        assert await tx.get_quote("quote-2") is None
    assert after == before


async def test_quotes_named_before_their_rfq_exists_are_found_once_it_does(
        store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_rfq(e.rfq("rfq-1"))
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote("q-early", rfq_id="rfq-late"))
    async with store.transaction() as tx:
        await tx.insert_rfq(e.rfq("rfq-late"))
        assert [q.id for q in await tx.quotes_of_rfq("rfq-late", LIVE)] == ["q-early"]
        await tx.insert_rfq(e.rfq("rfq-new"))
        assert await tx.quotes_of_rfq("rfq-new", LIVE) == []


async def test_a_reopened_store_finds_quotes_named_before_their_rfq(
        persistent_backend: Backend, tmp_path: Path) -> None:
    store = persistent_backend.make(tmp_path)
    await store.open()
    async with store.transaction() as tx:
        await tx.insert_quote(e.quote("q-early", rfq_id="rfq-late"))
    await store.close()
    again = persistent_backend.make(tmp_path)
    await again.open()
    try:
        async with again.transaction() as tx:
            await tx.insert_rfq(e.rfq("rfq-late"))
            assert [q.id for q in await tx.quotes_of_rfq("rfq-late", LIVE)] == ["q-early"]
    finally:
        await again.close()


async def test_timer_lookups_follow_adds_takes_cancels_and_rollbacks(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.add_timer(TimerKind.CONFIRM_DEADLINE, "q1", 10)
        second = await tx.add_timer(TimerKind.EXECUTE, "q1", 20)
        other = await tx.add_timer(TimerKind.EXECUTE, "q2", 15)
    added: list[int] = []

    async def change(tx: Transaction) -> None:
        # The first timer query of this transaction may load what a backend remembers.
        assert await tx.cancel_timers("never") == []
        added.append((await tx.add_timer(TimerKind.EXECUTE, "q9", 5)).id)
        assert await tx.cancel_timers("q1") == [first.id, second.id]
        assert await tx.take_timer(other.id)

    with pytest.raises(Boom):
        await run(store, change, fail)
    async with store.transaction() as tx:
        assert await tx.pending_timers() == [first, other, second]
        assert await tx.take_timer(added[0]) is False
        assert await tx.cancel_timers("q9") == []
        assert await tx.cancel_timers("q1") == [first.id, second.id]
        assert await tx.take_timer(other.id) is True
        assert await tx.take_timer(other.id) is False
        fresh = await tx.add_timer(TimerKind.EXECUTE, "q1", 30)
    async with store.transaction() as tx:
        assert await tx.pending_timers() == [fresh]
        assert await tx.cancel_timers("q1") == [fresh.id]


async def test_timers_added_before_a_rolled_back_lookup_are_not_remembered(
        store: Store) -> None:
    async def add_then_look(tx: Transaction) -> None:
        await tx.add_timer(TimerKind.EXECUTE, "q5", 5)
        assert await tx.cancel_timers("elsewhere") == []

    with pytest.raises(Boom):
        await run(store, add_then_look, fail)
    async with store.transaction() as tx:
        assert await tx.cancel_timers("q5") == []
        assert await tx.pending_timers() == []


# Commit callbacks and deferred commits ---------------------------------------------------


async def test_on_commit_callbacks_run_after_commit_in_order_and_never_on_rollback(
        store: Store) -> None:
    calls: list[str] = []

    async def writer(name: str, *, failing: bool = False) -> None:
        async with store.transaction() as tx:
            tx.on_commit(lambda: calls.append(f"{name} first"))
            await tx.set_meta(name, "1")
            tx.on_commit(lambda: calls.append(f"{name} second"))
            await asyncio.sleep(0)
            if failing:
                raise Boom
        calls.append(f"{name} exited")

    results = await asyncio.gather(writer("a"), writer("b", failing=True), writer("c"),
                                   return_exceptions=True)
    assert [type(r) for r in results] == [type(None), Boom, type(None)]
    assert [c for c in calls if "exited" not in c] == [
        "a first", "a second", "c first", "c second"]
    assert calls.index("a second") < calls.index("a exited")
    assert calls.index("c second") < calls.index("c exited")
    async with store.transaction() as tx:
        assert await tx.get_meta("b") is None


class Payload:
    """Something a commit callback holds on to."""


async def test_a_finished_transaction_leaves_no_cycle_for_the_garbage_collector(
        store: Store) -> None:
    # The exchange's own context holds its transaction and registers a callback that refers
    # back to it; were the store to keep the callback, every request's objects would wait
    # for the cyclic collector.
    gc.disable()
    try:
        payload = Payload()
        alive = weakref.ref(payload)
        transaction = store.transaction()
        async with transaction as tx:
            await tx.set_meta("k", "v")
            tx.on_commit(lambda held=(payload, transaction): None)  # type: ignore[misc]
        del payload, transaction, tx
        assert alive() is None
    finally:
        gc.enable()


async def test_deferred_transactions_are_committed_by_the_end_of_the_block(
        persistent_backend: Backend, tmp_path: Path) -> None:
    writer, reader = persistent_backend.make(tmp_path), persistent_backend.make(tmp_path)
    await writer.open()
    await reader.open()
    calls: list[int] = []
    try:
        async with writer.deferred():
            for number in range(300):
                async with writer.transaction() as tx:
                    await tx.set_meta(f"key-{number}", str(number))
                    tx.on_commit(lambda number=number: calls.append(number))  # type: ignore[misc]
            with pytest.raises(Boom):
                await run(writer, lambda tx: tx.set_meta("rolled-back", "1"), fail)
        assert calls == list(range(300))
        async with reader.transaction() as tx:
            assert await tx.get_meta("key-299") == "299"
            assert await tx.get_meta("rolled-back") is None
    finally:
        await reader.close()
        await writer.close()


# Dump and load ---------------------------------------------------------------------------


async def test_dump_holds_every_table_in_key_order_as_json_values(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
        await tx.insert_quote(e.quote("quote-0"))
        await tx.set_balance("user-0", 1, 7, 1)
        await tx.set_balance("user-0", 0, 8, 1)
    dump = await store.dump()
    assert list(dump) == list(TABLES)
    assert json.loads(json.dumps(dump)) == dump
    assert [q["id"] for q in dump["quotes"]] == ["quote-0", "quote-1"]
    assert [(b["user_id"], b["subaccount"]) for b in dump["balances"]] == [
        ("user-0", 0), ("user-0", 1), ("user-1", 0)]
    quote = dump["quotes"][1]
    assert quote["status"] == "open"
    assert quote["post_only"] is True
    assert quote["accepted_side"] is None
    assert dump["markets"][0]["hvm"] is False
    assert [t["subject"] for t in dump["timers"]] == ["quote-1"]
    assert {m["key"]: m["value"] for m in dump["meta"]}["schema_version"] == str(
        len(MIGRATIONS))
    assert await store.dump() == dump


async def test_load_replaces_everything_and_lookups_follow(backend: Backend,
                                                           tmp_path: Path) -> None:
    source, target = backend.make(tmp_path / "a"), backend.make(tmp_path / "b")
    await source.open()
    await target.open()
    try:
        await change_everything_step_by_step(source)
        dump = json.loads(json.dumps(await source.dump()))
        async with target.transaction() as tx:
            await insert_all(tx)
            await tx.insert_account(e.account("user-gone"))
            # Read first, so that whatever the target remembers must be refreshed by load.
            assert await tx.get_quote("quote-1") == e.quote()
            assert await tx.count_open_rfqs("user-1") == 1
            assert await tx.quotes_of_rfq("rfq-1", LIVE) == [e.quote()]
        await target.load(dump)
        assert await target.dump() == dump
        async with target.transaction() as tx:
            assert await tx.get_account("user-gone") is None
            assert await tx.get_quote("quote-1") == e.quote(status=QuoteStatus.EXECUTED)
            assert await tx.count_open_rfqs("user-1") == 1
            assert [r.id for r in await tx.open_rfqs_of("user-1")] == ["rfq-2"]
            assert await tx.quotes_of_rfq("rfq-1", LIVE) == []
            assert await tx.get_balance("user-1", 2) == 1
            assert [t.subject for t in await tx.pending_timers()] == ["quote-1"]
            loaded_ids = {t.id for t in await tx.pending_timers()}
            fresh = await tx.add_timer(TimerKind.EXECUTE, "quote-9", 1)
        assert fresh.id not in loaded_ids
    finally:
        await source.close()
        await target.close()


async def test_load_of_an_empty_dump_leaves_an_empty_store(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    await store.load({})
    await assert_empty(store)
    async with store.transaction() as tx:
        assert await tx.get_meta("schema_version") == str(len(MIGRATIONS))


def _corrupt(dump: Dump, table: str, **changes: Any) -> Dump:
    changed = json.loads(json.dumps(dump))
    changed[table][0].update(changes)
    return dict(changed)


async def test_load_refuses_a_dump_that_does_not_fit_and_changes_nothing(
        store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    good = await store.dump()
    without_column = json.loads(json.dumps(good))
    del without_column["quotes"][0]["status"]
    duplicated = json.loads(json.dumps(good))
    duplicated["rfqs"].append(duplicated["rfqs"][0])
    bad: list[Any] = [
        [],
        {**good, "unknown_table": []},
        {**good, "quotes": {}},
        {**good, "quotes": ["not a row"]},
        without_column,
        _corrupt(good, "quotes", extra_column=1),
        _corrupt(good, "quotes", yes_bid="4510"),
        _corrupt(good, "quotes", yes_bid=True),
        _corrupt(good, "quotes", post_only=1),
        _corrupt(good, "quotes", status=None),
        _corrupt(good, "balances", micros=2**63),
        duplicated,
        {**good, "meta": [{"key": "schema_version", "value": "999"}]},
    ]
    for dump in bad:
        with pytest.raises(InvalidDump):
            await store.load(dump)
    assert issubclass(InvalidDump, StorageError)
    assert await store.dump() == good


# Transactions ---------------------------------------------------------------------------


async def test_committed_writes_are_visible_to_later_transactions(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    async with store.transaction() as tx:
        assert await tx.get_account("user-1") == e.account()
        assert await tx.get_meta("k") == "v"
        assert [t.subject for t in await tx.pending_timers()] == ["quote-1"]


async def test_exception_rolls_back_every_write_and_propagates(store: Store) -> None:
    with pytest.raises(Boom):
        await run(store, insert_all, fail)
    await assert_empty(store)


async def test_rollback_undoes_updates_and_deletes_too(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)

    async def change_everything(tx: Transaction) -> None:
        await tx.set_balance("user-1", 0, 1, 2)
        await tx.update_quote(e.quote(status=QuoteStatus.CANCELLED))
        await tx.cancel_timers("quote-1")
        await tx.delete_quotes_in(QuoteStatus.CANCELLED)
        await tx.set_meta("k", "changed")

    with pytest.raises(Boom):
        await run(store, change_everything, fail)
    async with store.transaction() as tx:
        assert await tx.get_balance("user-1", 0) == 5_000_000
        assert await tx.get_quote("quote-1") == e.quote()
        assert len(await tx.pending_timers()) == 1
        assert await tx.get_meta("k") == "v"


async def test_failed_statement_rolls_back_the_whole_transaction(store: Store) -> None:
    with pytest.raises(IntegrityViolation):
        await run(store, lambda tx: tx.insert_account(e.account("first")),
                  lambda tx: tx.insert_rfq(e.rfq()), lambda tx: tx.insert_rfq(e.rfq()))
    async with store.transaction() as tx:
        assert await tx.get_account("first") is None
        assert await tx.get_rfq("rfq-1") is None
    async with store.transaction() as tx:
        await tx.insert_rfq(e.rfq())
    async with store.transaction() as tx:
        assert await tx.get_rfq("rfq-1") == e.rfq()


async def test_a_transaction_failing_after_writes_leaves_concurrent_ones_intact(
        store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    timers: dict[str, Any] = {}

    async def writer(name: str, *, failing: bool = False) -> None:
        async with store.transaction() as tx:
            timer = await tx.add_timer(TimerKind.EXECUTE, name, 10)
            await tx.insert_rfq(e.rfq(f"rfq-{name}", creator=name))
            await tx.set_balance(name, 0, 7, 1)
            await tx.update_quote(e.quote(status=QuoteStatus.ACCEPTED))
            await tx.cancel_timers("quote-1")
            if failing:
                raise Boom
        timers[name] = timer

    results = await asyncio.gather(writer("a"), writer("b", failing=True), writer("c"),
                                   return_exceptions=True)
    assert [type(r) for r in results] == [type(None), Boom, type(None)]
    async with store.transaction() as tx:
        assert await tx.pending_timers() == [timers["a"], timers["c"]]
        assert await tx.get_rfq("rfq-a") == e.rfq("rfq-a", creator="a")
        assert await tx.get_rfq("rfq-b") is None
        assert await tx.get_rfq("rfq-c") == e.rfq("rfq-c", creator="c")
        assert [await tx.get_balance(n, 0) for n in "abc"] == [7, 0, 7]
        assert await tx.get_quote("quote-1") == e.quote(status=QuoteStatus.ACCEPTED)
        later = await tx.add_timer(TimerKind.EXECUTE, "d", 10)
    assert later.id > timers["c"].id
    assert await store.dump() == await store.dump()


async def test_concurrent_transactions_are_isolated(store: Store) -> None:
    async def deposit() -> None:
        async with store.transaction() as tx:
            balance = await tx.get_balance("user-1", 0)
            await asyncio.sleep(0)
            await tx.set_balance("user-1", 0, balance + 1, 1)

    await asyncio.gather(*(deposit() for _ in range(20)))
    async with store.transaction() as tx:
        assert await tx.get_balance("user-1", 0) == 20


async def test_wipe_deletes_every_row_and_keeps_the_schema(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    await store.wipe()
    await assert_empty(store)
    async with store.transaction() as tx:
        await insert_all(tx)
    async with store.transaction() as tx:
        assert await tx.get_rfq("rfq-1") == e.rfq()


async def test_schema_version_is_recorded(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.get_meta("schema_version") == str(len(MIGRATIONS))


# Errors ---------------------------------------------------------------------------------


async def test_duplicate_keys_raise_integrity_violation(store: Store) -> None:
    async with store.transaction() as tx:
        await insert_all(tx)
    duplicates: list[Work] = [
        lambda tx: tx.insert_account(e.account()),
        lambda tx: tx.insert_account(dataclasses.replace(e.account("user-9"),
                                                         communications_id="comm-user-1")),
        lambda tx: tx.insert_key(e.api_key()),
        lambda tx: tx.insert_market(e.market()),
        lambda tx: tx.insert_rfq(e.rfq()),
        lambda tx: tx.insert_quote(e.quote()),
        lambda tx: tx.insert_order(e.order()),
        lambda tx: tx.insert_fill(e.fill()),
    ]
    for duplicate in duplicates:
        with pytest.raises(IntegrityViolation):
            await run(store, duplicate)
    assert issubclass(IntegrityViolation, StorageError)


async def test_value_out_of_the_databases_range_raises_storage_error(store: Store) -> None:
    with pytest.raises(StorageError):
        await run(store, lambda tx: tx.set_balance("user-1", 0, 2**63, 1))
    with pytest.raises(StorageError):
        await run(store, lambda tx: tx.insert_rfq(dataclasses.replace(e.rfq(), contracts=2**64)))
    async with store.transaction() as tx:
        assert await tx.get_rfq("rfq-1") is None


async def test_transaction_on_a_closed_store_raises_storage_error(backend: Backend,
                                                                  tmp_path: Path) -> None:
    store = backend.make(tmp_path)
    with pytest.raises(StorageError):
        await run(store)
    await store.open()
    await store.close()
    with pytest.raises(StorageError):
        await run(store)


# Persistence and migrations -------------------------------------------------------------


async def test_reopening_keeps_committed_data_and_migrates_once(
        persistent_backend: Backend, tmp_path: Path) -> None:
    for round_number in range(3):
        store = persistent_backend.make(tmp_path)
        await store.open()
        try:
            async with store.transaction() as tx:
                assert await tx.get_meta("schema_version") == str(len(MIGRATIONS))
                assert await tx.get_meta("opened") == (str(round_number - 1)
                                                       if round_number else None)
                await tx.set_meta("opened", str(round_number))
                if round_number == 0:
                    await insert_all(tx)
                else:
                    assert await tx.get_quote("quote-1") == e.quote()
                    assert len(await tx.pending_timers()) == 1
        finally:
            await store.close()


async def test_rolled_back_writes_are_gone_after_reopening(persistent_backend: Backend,
                                                           tmp_path: Path) -> None:
    store = persistent_backend.make(tmp_path)
    await store.open()
    with pytest.raises(Boom):
        await run(store, insert_all, fail)
    await store.close()
    again = persistent_backend.make(tmp_path)
    await again.open()
    try:
        await assert_empty(again)
    finally:
        await again.close()


async def test_wiped_database_reopens_cleanly(persistent_backend: Backend,
                                              tmp_path: Path) -> None:
    store = persistent_backend.make(tmp_path)
    await store.open()
    async with store.transaction() as tx:
        await insert_all(tx)
    await store.wipe()
    await store.close()
    again = persistent_backend.make(tmp_path)
    await again.open()
    try:
        await assert_empty(again)
        async with again.transaction() as tx:
            assert await tx.get_meta("schema_version") == str(len(MIGRATIONS))
    finally:
        await again.close()


async def test_database_from_a_newer_version_is_refused(persistent_backend: Backend,
                                                        tmp_path: Path) -> None:
    store = persistent_backend.make(tmp_path)
    await store.open()
    async with store.transaction() as tx:
        await tx.set_meta("schema_version", str(len(MIGRATIONS) + 1))
    await store.close()
    newer = persistent_backend.make(tmp_path)
    with pytest.raises(StorageError, match="newer"):
        await newer.open()
    await newer.close()


# The order book --------------------------------------------------------------------------


async def test_book_order_round_trips_every_field_and_updates(store: Store) -> None:
    placed = e.book_order("book-1", group="group-1")
    async with store.transaction() as tx:
        await tx.insert_order(placed)
    async with store.transaction() as tx:
        assert await tx.get_order("book-1") == placed
        changed = placed.filled(50, 4_000, 700, taker=False, now=400).resized(10, 401)
        await tx.update_order(changed)
    async with store.transaction() as tx:
        assert await tx.get_order("book-1") == changed


async def test_resting_orders_are_listed_by_ticker_then_priority(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_order(e.book_order("b3", ticker="M1", priority=3))
        await tx.insert_order(e.book_order("b1", ticker="M1", priority=1))
        await tx.insert_order(e.book_order("c2", ticker="M0", priority=2))
        await tx.insert_order(e.book_order("gone", ticker="M1", priority=0,
                                           status=OrderStatus.CANCELED))
        await tx.insert_order(e.order("rfq"))
    async with store.transaction() as tx:
        assert [o.order_id for o in await tx.resting_orders()] == ["c2", "b1", "b3"]
        assert [o.order_id for o in await tx.resting_orders("M1")] == ["b1", "b3"]
        assert await tx.resting_orders("M9") == []


async def test_last_priority_counts_every_order_of_the_market(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.last_priority("M1") == 0
        await tx.insert_order(e.book_order("b3", ticker="M1", priority=3))
        await tx.insert_order(e.book_order("late", ticker="M1", priority=9,
                                           status=OrderStatus.CANCELED))
        await tx.insert_order(e.book_order("c2", ticker="M0", priority=20))
    async with store.transaction() as tx:
        assert await tx.last_priority("M1") == 9
        assert await tx.last_priority("M0") == 20


async def test_order_by_client_id_finds_the_users_newest(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_order(e.book_order("mine", client_order_id="c-1"))
        await tx.insert_order(e.book_order("theirs", user="user-2", client_order_id="c-1"))
    async with store.transaction() as tx:
        found = await tx.order_by_client_id("user-1", "c-1")
        assert found is not None
        assert found.order_id == "mine"
        assert await tx.order_by_client_id("user-1", "c-2") is None


async def test_orders_in_group_are_its_resting_orders(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_order(e.book_order("g2", group="g", priority=2))
        await tx.insert_order(e.book_order("g1", group="g", priority=1))
        await tx.insert_order(e.book_order("done", group="g", status=OrderStatus.EXECUTED))
        await tx.insert_order(e.book_order("free", priority=0))
    async with store.transaction() as tx:
        assert [o.order_id for o in await tx.orders_in_group("g")] == ["g1", "g2"]


async def test_list_trades_lists_takers_fills_newest_first_with_filters(store: Store) -> None:
    async with store.transaction() as tx:
        for index, (ts, ticker) in enumerate(((1, "M1"), (2, "M2"), (3, "M1"), (3, "M2"))):
            taker = e.fill(f"t{index}", ticker=ticker, created_ts=ts)
            await tx.insert_fill(dataclasses.replace(taker, is_block_trade=index == 0))
            await tx.insert_fill(dataclasses.replace(
                taker, fill_id=f"m{index}", user_id="user-2", is_taker=False))

    async def ids(**filters: Any) -> list[str]:
        query = dataclasses.replace(TradeQuery(limit=BIG), **filters)
        async with store.transaction() as tx:
            return [f.fill_id for f in await tx.list_trades(query)]

    assert await ids() == ["t3", "t2", "t1", "t0"]
    assert await ids(limit=2) == ["t3", "t2"]
    assert await ids(after=(3, "t2")) == ["t1", "t0"]
    assert await ids(ticker="M1") == ["t2", "t0"]
    assert await ids(min_ts=2, max_ts=2) == ["t1"]
    assert await ids(is_block_trade=True) == ["t0"]
    assert await ids(is_block_trade=False) == ["t3", "t2", "t1"]


async def test_order_groups_round_trip_list_update_and_delete(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_order_group(e.order_group("g2", created_ts=200))
        await tx.insert_order_group(e.order_group("g1", created_ts=100, subaccount=1))
        await tx.insert_order_group(e.order_group("other", user="user-2"))
    async with store.transaction() as tx:
        assert [g.id for g in await tx.list_order_groups("user-1")] == ["g1", "g2"]
        assert [g.id for g in await tx.list_order_groups("user-1", 1)] == ["g1"]
        group = await tx.get_order_group("g2")
        assert group == e.order_group("g2", created_ts=200)
        await tx.update_order_group(group.record(700, 300).trigger(301))
    async with store.transaction() as tx:
        updated = await tx.get_order_group("g2")
        assert updated is not None
        assert updated.triggered
        await tx.delete_order_group("g2")
    async with store.transaction() as tx:
        assert await tx.get_order_group("g2") is None
        assert await tx.get_order_group("missing") is None
