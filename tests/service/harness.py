"""An in-process exchange for service and property tests.

Real parts throughout: a SQLite store (``:memory:`` unless a path is given), a manual clock,
the scheduler that fires timers from the database, and a publisher that records every batch
it is handed. Accounts are written straight to the store, so no RSA key is generated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kalshi_sandbox.domain.account import Account, communications_id
from kalshi_sandbox.domain.clock import MICROS, ManualClock
from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.queries import PortfolioQuery, QuoteQuery, RfqQuery
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.markets import Markets, MarketSpec
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.exchange.scheduler import Scheduler
from kalshi_sandbox.storage.sqlite import SqliteStore

START = 1_767_225_600 * MICROS
"""2026-01-01T00:00:00Z, where every test clock starts."""

ALL = 1_000_000


@dataclass
class Recorder:
    """A publisher that keeps every batch it is handed, in order."""

    batches: list[list[Event]] = field(default_factory=list)

    def publish(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))

    def kinds(self) -> list[list[str]]:
        """Return each batch as the class names of its events."""
        return [[type(event).__name__ for event in batch] for batch in self.batches]


@dataclass
class Harness:
    """A wired exchange and the parts a test pokes at."""

    store: Store
    clock: ManualClock
    publisher: Recorder
    exchange: Exchange
    scheduler: Scheduler
    accounts: Accounts
    market_admin: Markets
    users: list[Actor] = field(default_factory=list)
    markets: list[Market] = field(default_factory=list)

    async def account(self, name: str, balance: int) -> Actor:
        """Create an account holding ``balance`` micro-dollars on subaccount 0."""
        now = self.clock.now()
        account = Account(user_id=f"user-{name}", name=name,
                          communications_id=communications_id("test", f"user-{name}"),
                          created_ts=now)
        async with self.store.transaction() as tx:
            await tx.insert_account(account)
            await tx.set_balance(account.user_id, 0, balance, now)
        actor = Actor(account.user_id, account.communications_id)
        self.users.append(actor)
        return actor

    async def market(self, ticker: str, *, hvm: bool = False,
                     structure: str = "linear_cent") -> Market:
        """Create an active market."""
        market = await self.market_admin.create_market(
            MarketSpec(ticker=ticker, hvm=hvm, price_level_structure=structure))
        self.markets.append(market)
        return market

    async def advance(self, micros: int) -> int:
        """Move the clock forward, firing due timers; return how many fired."""
        return await self.scheduler.advance_to(self.clock.now() + micros)

    async def balance(self, actor: Actor) -> int:
        micros, _, _ = await self.exchange.balance(actor, 0)
        return micros

    async def snapshot(self) -> dict[str, Any]:
        """Read everything the store holds about the known users and markets."""
        async with self.store.transaction() as tx:
            state: dict[str, Any] = {
                "rfqs": await tx.list_rfqs(RfqQuery(limit=ALL)),
                "timers": await tx.pending_timers(),
                "markets": [await tx.get_market(m.ticker) for m in self.markets],
            }
            for user in self.users:
                uid = user.user_id
                portfolio = PortfolioQuery(user_id=uid, limit=ALL)
                state[uid] = {
                    "balance": await tx.get_balance(uid, 0),
                    "quotes": await tx.list_quotes(QuoteQuery(viewer_user_id=uid, limit=ALL)),
                    "orders": await tx.list_orders(portfolio),
                    "fills": await tx.list_fills(portfolio),
                    "positions": await tx.list_positions(portfolio),
                }
        return state


async def make_harness(rules: Rules | None = None, path: str | Path = ":memory:",
                       store: Store | None = None) -> Harness:
    """Open a store (SQLite at ``path`` unless one is given) and wire an exchange, scheduler
    and recording publisher over it."""
    store = store or SqliteStore(path)
    await store.open()
    clock = ManualClock(START)
    publisher = Recorder()
    exchange = Exchange(store, clock, publisher, rules or Rules(), IdGenerator(seed=7))
    scheduler = Scheduler(clock, exchange.fire)
    exchange.timers = scheduler
    return Harness(store, clock, publisher, exchange, scheduler, Accounts(exchange),
                   Markets(exchange))


def with_rules(harness: Harness, **changes: Any) -> None:
    """Change the exchange's rules in place (an operator retuning a running sandbox)."""
    harness.exchange.rules = dataclasses.replace(harness.exchange.rules, **changes)
