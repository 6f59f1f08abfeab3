"""The storage of a market's life on every backend: series, events, settlements, collections
and block trades round-trip and list in order; and every list query reads its page through
an index (SQLite's plan uses no temporary B-tree to sort)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from kalshi_sandbox.domain.blocktrade import BlockTrade, BlockTradeStatus
from kalshi_sandbox.domain.combos import Collection
from kalshi_sandbox.domain.lifecycle import MarketEvent, Series, Settlement
from kalshi_sandbox.domain.portfolio import Position
from kalshi_sandbox.domain.queries import (
    BlockTradeQuery,
    CollectionQuery,
    EventQuery,
    PortfolioQuery,
    SeriesQuery,
)
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.storage.schema import MIGRATIONS
from kalshi_sandbox.storage.sql import SqlTransaction

pytestmark = pytest.mark.anyio


def series(ticker: str, category: str = "Economics", tags: str = "") -> Series:
    return Series(ticker, f"{ticker} title", category, "daily", tags, "quadratic", "1", 1, 2)


def event(ticker: str, series_ticker: str, collection: str | None = None) -> MarketEvent:
    return MarketEvent(ticker, series_ticker, "title", "", False, 1, 2, collection, None)


def settlement(number: int, user: str = "u1", ticker: str = "M-1") -> Settlement:
    return Settlement(f"s{number}", user, 0, ticker, "M", "yes", 100, 4_000_000, 0, 0,
                      10_000_000, 70_000, 0, 10_000, 1_000 + number)


def proposal(number: int, buyer: str, seller: str) -> BlockTrade:
    return BlockTrade(f"b{number}", "broker", buyer, 0, seller, 0, "M-1", 4_200, 2_500, "yes",
                      10_000, BlockTradeStatus.OPEN, 100 + number, 100 + number)


async def test_series_events_and_collections_round_trip_and_list_in_ticker_order(
        store: Store) -> None:
    async with store.transaction() as tx:
        for ticker in ("KXB", "KXA", "KXC"):
            await tx.insert_series(series(ticker, tags="Fed,Rates" if ticker == "KXB" else ""))
        await tx.insert_event(event("KXA-1", "KXA"))
        await tx.insert_event(event("KXB-2", "KXB"))
        await tx.insert_event(event("KXB-1", "KXB"))
        await tx.insert_event(event("KXMVE-1", "KXMVE", collection="KXMVE"))
        await tx.insert_collection(Collection("KXMVE", "KXMVE", "t", "d", "KXA-1,KXB-1", 0,
                                              100, True, False, 2, 3, 0))
    async with store.transaction() as tx:
        assert await tx.get_series("KXB") == series("KXB", tags="Fed,Rates")
        assert await tx.get_series("NOPE") is None
        listed = await tx.list_series(SeriesQuery(limit=2))
        assert [s.ticker for s in listed] == ["KXA", "KXB"]
        after = await tx.list_series(SeriesQuery(limit=5, after="KXB"))
        assert [s.ticker for s in after] == ["KXC"]
        tagged = await tx.list_series(SeriesQuery(limit=5, tags=("Rates",)))
        assert [s.ticker for s in tagged] == ["KXB"]
        assert [e.event_ticker for e in await tx.list_events(EventQuery(limit=10))] == [
            "KXA-1", "KXB-1", "KXB-2"]
        assert [e.event_ticker for e in await tx.list_events(
            EventQuery(limit=10, series_ticker="KXB", after="KXB-1"))] == ["KXB-2"]
        assert [e.event_ticker for e in await tx.list_events(
            EventQuery(limit=10, mve=True))] == ["KXMVE-1"]
        assert await tx.get_event("KXMVE-1") == event("KXMVE-1", "KXMVE", collection="KXMVE")
        found = await tx.list_collections(CollectionQuery(limit=5, associated_event="KXB-1"))
        assert [c.collection_ticker for c in found] == ["KXMVE"]
        assert await tx.list_collections(CollectionQuery(limit=5,
                                                         associated_event="KXB-2")) == []


async def test_settlements_list_newest_first_per_user_and_positions_by_market(
        store: Store) -> None:
    async with store.transaction() as tx:
        for number in range(4):
            await tx.insert_settlement(settlement(number))
        await tx.insert_settlement(settlement(9, user="u2"))
        for user in ("u2", "u1"):
            await tx.upsert_position(Position(user, 0, "M-1", 100, 1, 1, 0, 0, 5))
        await tx.upsert_position(Position("u1", 0, "M-2", 100, 1, 1, 0, 0, 5))
    async with store.transaction() as tx:
        page = await tx.list_settlements(PortfolioQuery(user_id="u1", limit=2))
        assert [s.id for s in page] == ["s3", "s2"]
        rest = await tx.list_settlements(PortfolioQuery(user_id="u1", limit=5,
                                                        after=(1_002, "s2")))
        assert [s.id for s in rest] == ["s1", "s0"]
        assert page[0] == settlement(3)
        on = await tx.positions_on("M-1")
        assert [(p.user_id, p.ticker) for p in on] == [("u1", "M-1"), ("u2", "M-1")]
        await tx.delete_position("u1", 0, "M-1")
        assert await tx.get_position("u1", 0, "M-1") is None
    async with store.transaction() as tx:
        assert [p.user_id for p in await tx.positions_on("M-1")] == ["u2"]


async def test_block_trades_are_listed_to_their_parties_only(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_block_trade(proposal(1, "alice", "bob"))
        await tx.insert_block_trade(proposal(2, "carol", "alice"))
    async with store.transaction() as tx:
        mine = await tx.list_block_trades(BlockTradeQuery(viewer_user_id="alice", limit=5))
        assert [p.id for p in mine] == ["b2", "b1"]
        theirs = await tx.list_block_trades(BlockTradeQuery(viewer_user_id="bob", limit=5))
        assert [p.id for p in theirs] == ["b1"]
        assert await tx.list_block_trades(BlockTradeQuery(viewer_user_id="dave",
                                                          limit=5)) == []
        accepted = replace(proposal(1, "alice", "bob"), buyer_accepted=True,
                           buyer_accepted_ts=150, updated_ts=150)
        await tx.update_block_trade(accepted)
        assert await tx.get_block_trade("b1") == accepted


class _Recorder:
    """A driver over a plain SQLite connection that keeps every SELECT it runs."""

    placeholder = "?"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.selects: list[tuple[str, Sequence[Any]]] = []

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.connection.execute(sql, params).rowcount

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Any] | None:
        self.selects.append((sql, params))
        row: Sequence[Any] | None = self.connection.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        self.selects.append((sql, params))
        return self.connection.execute(sql, params).fetchall()

    async def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.connection.execute(sql, params).lastrowid or 0)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)


async def test_every_lifecycle_list_reads_its_page_through_an_index() -> None:
    connection = sqlite3.connect(":memory:")
    for script in MIGRATIONS:
        connection.executescript(script.format(id="INTEGER PRIMARY KEY AUTOINCREMENT"))
    driver = _Recorder(connection)
    tx = SqlTransaction(driver)
    await tx.list_series(SeriesQuery(limit=10, after="A"))
    await tx.list_series(SeriesQuery(limit=10, category="Economics", tags=("Fed",)))
    await tx.list_events(EventQuery(limit=10, after="A"))
    await tx.list_events(EventQuery(limit=10, series_ticker="KX", after="KX-1"))
    await tx.list_events(EventQuery(limit=10, mve=True, collection_ticker="KXMVE"))
    await tx.list_events(EventQuery(limit=10, statuses=("active",), min_close=5))
    await tx.list_settlements(PortfolioQuery(user_id="u", limit=10, after=(5, "s"),
                                             ticker="M", event_ticker="E"))
    await tx.list_collections(CollectionQuery(limit=10, after="A", series_ticker="S"))
    await tx.list_block_trades(BlockTradeQuery(viewer_user_id="u", limit=10, after=(5, "b"),
                                               market_ticker="M", status="open"))
    await tx.positions_on("M")
    await tx.markets_of_events(["E-1", "E-2"])
    assert len(driver.selects) == 11
    for sql, params in driver.selects:
        plan = " | ".join(row[3] for row in connection.execute(
            "EXPLAIN QUERY PLAN " + sql, params))
        assert "TEMP B-TREE" not in plan, (sql, plan)
    connection.close()
