"""Every list reads one page through an index in its order: no temporary sort.

Each list query is run through the SQL layer over a driver that asks SQLite for the plan of
each statement (``EXPLAIN QUERY PLAN``) instead of running it. A plan with ``USE TEMP
B-TREE`` collects every matching row and sorts them all for each page, which grows with the
database; a plan without one reads the index range from the cursor and stops at the limit.
Every combination of each list's filters is checked, with and without a cursor.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.domain.queries import (
    MarketQuery,
    PortfolioQuery,
    QuoteQuery,
    RfqQuery,
    TradeQuery,
)
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import RfqStatus
from kalshi_sandbox.storage.sql import SqlTransaction
from kalshi_sandbox.storage.sqlite import SqliteStore

pytestmark = pytest.mark.anyio


class PlanDriver:
    """A driver that records the query plan of every SELECT instead of running it."""

    placeholder = "?"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.plans: list[tuple[str, list[str]]] = []

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        rows = self.connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        self.plans.append((sql, [str(r[3]) for r in rows]))
        return []

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Any] | None:
        await self.fetchall(sql, params)
        return None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise AssertionError("a list does not write")

    async def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise AssertionError("a list does not write")

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise AssertionError("a list does not write")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def driver(tmp_path: Path) -> PlanDriver:
    store = SqliteStore(tmp_path / "plans.db")
    await store.open()  # migrates
    await store.close()
    return PlanDriver(sqlite3.connect(tmp_path / "plans.db"))


def subsets(options: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the given keyword filters (2^n of them)."""
    names = list(options)
    return [{n: options[n] for n in chosen}
            for size in range(len(names) + 1)
            for chosen in itertools.combinations(names, size)]


CURSORS = (None, (1_700_000_000_000, "zz"))


async def test_every_list_query_reads_an_index_in_its_order(driver: PlanDriver) -> None:
    tx = SqlTransaction(driver)
    for after in CURSORS:
        for quote_filters in subsets({
            "status": QuoteStatus.OPEN, "rfq_id": "r1", "creator_user_id": "u1",
            "rfq_creator_user_id": "u1", "min_updated": 5, "max_updated": 9,
            "cancelled_since": 3,
        }):
            await tx.list_quotes(QuoteQuery(viewer_user_id="u1", limit=101, after=after,
                                            **quote_filters))
        for other in ("creator_user_id", "rfq_creator_user_id"):
            stranger: dict[str, Any] = {other: "u2"}
            await tx.list_quotes(QuoteQuery(viewer_user_id="u1", limit=21, after=after,
                                            **stranger))
        for rfq_filters in subsets({
            "market_ticker": "M", "event_ticker": "E", "status": RfqStatus.OPEN,
            "creator_user_id": "u1", "subaccount": 0, "closed_since": 3,
            "hide_obscured": True,
        }):
            await tx.list_rfqs(RfqQuery(limit=21, after=after, **rfq_filters))
        portfolio = {"ticker": "M", "subaccount": 0, "min_ts": 1, "max_ts": 9,
                     "event_ticker": "E1,E2"}
        for filters in subsets({**portfolio, "status": "resting"}):
            await tx.list_orders(PortfolioQuery(user_id="u1", limit=101, after=after,
                                                **filters))
        for filters in subsets({**portfolio, "order_id": "o1"}):
            filters.pop("event_ticker", None)
            await tx.list_fills(PortfolioQuery(user_id="u1", limit=101, after=after,
                                               **filters))
        for filters in subsets({"ticker": "M", "min_ts": 1, "max_ts": 9,
                                "is_block_trade": False}):
            await tx.list_trades(TradeQuery(limit=101, after=after, **filters))
    for filters in subsets({"ticker": "M", "subaccount": 0, "event_ticker": "E1"}):
        for position_after in (None, (0, "M")):
            await tx.list_positions(PortfolioQuery(user_id="u1", limit=101,
                                                   after=position_after, **filters))
    for filters in subsets({"event_ticker": "E", "series_ticker": "S",
                            "statuses": ("active",), "mve": False, "min_close": 1}):
        for market_after in (None, "M"):
            await tx.list_markets(MarketQuery(limit=101, after=market_after, **filters))
    await tx.list_accounts()
    await tx.keys_of("u1")
    await tx.open_rfqs_of("u1")
    await tx.open_rfqs_on("M")
    await tx.quotes_of_rfq("r1", (QuoteStatus.OPEN, QuoteStatus.ACCEPTED))
    await tx.list_order_groups("u1")
    await tx.list_order_groups("u1", 0)
    await tx.pending_timers()

    assert len(driver.plans) > 500
    sorted_plans = [(sql, plan) for sql, plan in driver.plans
                    if any("TEMP B-TREE" in step for step in plan)]
    assert not sorted_plans, "\n\n".join(f"{sql}\n  {plan}" for sql, plan in sorted_plans[:5])
    # And none reads a whole table in storage order where it filters on a person.
    scans = [(sql, plan) for sql, plan in driver.plans
             if any(step.startswith("SCAN") and "INDEX" not in step for step in plan)]
    assert not scans, "\n\n".join(f"{sql}\n  {plan}" for sql, plan in scans[:5])


async def test_the_quote_list_reads_two_ranges_of_the_viewer_not_every_quote(
        driver: PlanDriver) -> None:
    tx = SqlTransaction(driver)
    await tx.list_quotes(QuoteQuery(viewer_user_id="u1", limit=101))
    used = [" ".join(plan) for _, plan in driver.plans]
    assert len(used) == 2
    assert "quotes_creator (creator_user_id=?)" in used[0]
    assert "quotes_rfq_creator (rfq_creator_user_id=?)" in used[1]


async def test_the_open_quote_flush_finds_open_quotes_through_an_index(
        driver: PlanDriver) -> None:
    plan = driver.connection.execute(
        "EXPLAIN QUERY PLAN DELETE FROM quotes WHERE status = ?", ("open",)).fetchall()
    steps = " ".join(str(row[3]) for row in plan)
    assert "USING INDEX ix_perf_quotes_status_" in steps, steps
    assert "(status=?)" in steps, steps
