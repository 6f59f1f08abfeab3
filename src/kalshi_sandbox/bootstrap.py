"""The one place that wires concrete storage, clock, hub and front doors into an app."""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import Receive, Scope, Send

from kalshi_sandbox.api.auth import Authenticator
from kalshi_sandbox.api.faults import FaultMiddleware, FaultRegistry
from kalshi_sandbox.api.http import (
    http_error_handler,
    internal_error_handler,
    sandbox_error_handler,
    use_route_table,
)
from kalshi_sandbox.api.journal import InProcess, JournalAuthenticator, JournalMiddleware, Reached
from kalshi_sandbox.api.routes import TradeApi
from kalshi_sandbox.api.ws import WebSocketApi
from kalshi_sandbox.control.counterparties import CounterpartiesApi
from kalshi_sandbox.control.faults import FaultsApi
from kalshi_sandbox.control.routes import ControlApi
from kalshi_sandbox.control.state import StateApi
from kalshi_sandbox.domain.clock import MICROS, Clock, ManualClock, SystemClock, parse_instant
from kalshi_sandbox.domain.errors import SandboxError
from kalshi_sandbox.domain.money import parse_dollars
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.timer import Timer
from kalshi_sandbox.service.admin import Admin, MarketSpec
from kalshi_sandbox.service.bus import Hub
from kalshi_sandbox.service.counterparties import Counterparties, Defaults
from kalshi_sandbox.service.exchange import Exchange, Rules
from kalshi_sandbox.service.ids import IdGenerator
from kalshi_sandbox.service.journal import Journal, JournalIds, Record, current_record, set_record
from kalshi_sandbox.service.keys import public_pem_of
from kalshi_sandbox.service.limits import RateLimits
from kalshi_sandbox.service.ports import Store
from kalshi_sandbox.service.replay import Replayer
from kalshi_sandbox.service.scheduler import Scheduler
from kalshi_sandbox.service.snapshots import Snapshots
from kalshi_sandbox.settings import Settings
from kalshi_sandbox.storage.sqlite import SqliteStore

log = logging.getLogger("kalshi_sandbox")

DEMO_MARKETS = (
    MarketSpec(ticker="KXSANDBOX-26DEC31-T50", title="Will the sandbox index close above 50?",
               subtitle="Above 50", price_level_structure="linear_cent"),
    MarketSpec(ticker="KXSANDBOXHVM-26DEC31-B100", title="Sandbox high-volatility market",
               subtitle="Between 100 and 101", hvm=True,
               price_level_structure="tapered_deci_cent"),
    MarketSpec(ticker="KXSANDBOXFINE-26DEC31-T25", title="Sandbox sub-penny market",
               subtitle="Above 25", price_level_structure="deci_cent"),
)
DEMO_ACCOUNTS = ("requester", "maker")
MANIFEST = "demo-accounts.json"
CLOCK_KEY = "manual_clock"
UNPLACED = 0
"""The instant of a manual clock that start-up has yet to place."""


@dataclass
class DemoAccount:
    """A seeded account whose private key lives in the data directory."""

    name: str
    user_id: str
    key_id: str
    key_path: str
    balance_dollars: str


class _Collector:
    """Raises the garbage collector's thresholds while any sandbox runs in the process.

    CPython collects its youngest generation every 700 net allocations, and each pass walks
    every young object alive, which on a busy server means those of every request in
    flight: about a fifth of the server's time under load. Passes every 20,000 allocations
    walk about as many objects each, so far fewer of them do far less work.
    """

    THRESHOLDS = (20_000, 20, 20)

    def __init__(self) -> None:
        self.running = 0
        self.saved: tuple[int, int, int] | None = None

    def tune(self) -> None:
        if self.running == 0:
            self.saved = gc.get_threshold()
            gc.set_threshold(*self.THRESHOLDS)
        self.running += 1

    def restore(self) -> None:
        if self.running == 0:
            return
        self.running -= 1
        if self.running == 0 and self.saved is not None:
            gc.set_threshold(*self.saved)


_collector = _Collector()


@dataclass
class Sandbox:
    """A wired sandbox: its parts and the ASGI app that serves them."""

    settings: Settings
    store: Store
    clock: Clock
    hub: Hub
    exchange: Exchange
    admin: Admin
    scheduler: Scheduler
    authenticator: Authenticator
    limits: RateLimits
    app: Starlette = field(init=False)
    faults: FaultRegistry = field(init=False)
    counterparties: Counterparties = field(init=False)
    journal: Journal = field(init=False)
    snapshots: Snapshots = field(init=False)
    demo: list[DemoAccount] = field(default_factory=list)
    on_ready: Callable[[Sandbox], None] | None = None

    async def start(self) -> None:
        """Open the database, restore timers, seed if empty, and start firing timers."""
        _collector.tune()
        await self.store.open()
        await self.journal.open()
        await self.restore_clock()
        await self.limits.load()
        flushed = 0
        if self.settings.flush_open_quotes_on_restart:
            async with self.store.transaction() as tx:
                flushed = await tx.delete_quotes_in(QuoteStatus.OPEN)
            if flushed:
                log.info("forgot %d open quotes, as a Kalshi server roll does", flushed)
        self.journal.started("manual" if self.clock.manual else "system", flushed)
        await self.restore_timers()
        # Timers that fell due while the server was down fire before the first request.
        await self.scheduler.fire_overdue()
        if self.settings.seed:
            async with self.store.transaction() as tx:
                empty = not await tx.list_accounts()
            if empty:
                await self.seed()
            else:
                self.demo = load_manifest(self.data_dir)
        # After the timers are restored (which clears the scheduler) and the demo is seeded
        # (which looks for an empty database).
        await self.journal.recorded("ready", self.counterparties.start)
        self.scheduler.start()
        if self.on_ready is not None:
            self.on_ready(self)

    async def stop(self) -> None:
        """Stop firing timers and close the database."""
        await self.scheduler.stop()
        self.journal.close()
        await self.store.close()
        _collector.restore()

    async def restore_clock(self) -> None:
        """Put a manual clock back where it stopped (or later, at ``clock_start``).

        A clock that ``make_clock`` left unplaced starts at the current time on a fresh
        database. The instant is stored at once, so a restart before any advance resumes it
        instead of skipping the real time that passed meanwhile.
        """
        if isinstance(self.clock, ManualClock):
            async with self.store.transaction() as tx:
                stored = await tx.get_meta(CLOCK_KEY)
            if stored is not None and int(stored) > self.clock.now():
                self.clock.set(int(stored))
            elif self.clock.now() == UNPLACED:
                self.clock.set(SystemClock().now())
            await self.remember_clock()

    async def remember_clock(self) -> None:
        """Store where a manual clock stands now (after start-up or a reset)."""
        if isinstance(self.clock, ManualClock):
            await self.save_clock(self.clock.now())

    async def save_clock(self, instant: int) -> None:
        """Remember where a manual clock stands."""
        async with self.store.transaction() as tx:
            await tx.set_meta(CLOCK_KEY, str(instant))

    async def restore_timers(self) -> None:
        """Load every pending timer from the database into the scheduler."""
        self.scheduler.clear()
        async with self.store.transaction() as tx:
            self.scheduler.add(await tx.pending_timers())

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    async def seed(self) -> dict[str, Any]:
        """Create the demo markets and accounts, reusing demo keys already on disk.

        The journal gets the accounts and keys (a line of its own at start-up, part of the
        reset's line otherwise), so a replay seeds the same ones.
        """
        own = Record("seed") if current_record() is None else None
        undo = set_record(own) if own is not None else None
        keys: dict[str, tuple[bool, str]] = {}
        try:
            result = await self._seed(keys)
        finally:
            if undo is not None:
                undo()
        accounts = [{"name": d.name, "user_id": d.user_id, "key_id": d.key_id,
                     "balance_dollars": d.balance_dollars, "reused_key": keys[d.name][0],
                     "private_key_pem": keys[d.name][1]} for d in self.demo]
        if own is not None:
            self.journal.seeded(accounts, own)
        else:
            self.journal.note("seed", accounts)
        return result

    def prepare_seed(self, accounts: Sequence[Mapping[str, Any]]) -> None:
        """Lay out a journaled seed's demo keys, so seeding here repeats what it did there.

        Keys the seed found on disk are written back with the manifest; keys it generated
        are left out, so the seed generates them again (from the replay's recorded keys).
        """
        keys_dir = self.data_dir / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        manifest = []
        for item in accounts:
            if item.get("reused_key"):
                path = keys_dir / f"{item['name']}.pem"
                path.write_text(str(item["private_key_pem"]))
                os.chmod(path, 0o600)
                manifest.append(DemoAccount(str(item["name"]), str(item["user_id"]),
                                            str(item["key_id"]), str(path),
                                            str(item["balance_dollars"])).__dict__)
        (self.data_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))

    async def _seed(self, keys: dict[str, tuple[bool, str]]) -> dict[str, Any]:
        for spec in DEMO_MARKETS:
            await self.admin.create_market(spec)
        balance = parse_dollars(self.settings.seed_balance_dollars)
        previous = {d.name: d for d in load_manifest(self.data_dir)}
        keys_dir = self.data_dir / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        demo = []
        for name in DEMO_ACCOUNTS:
            path = keys_dir / f"{name}.pem"
            old = previous.get(name)
            if old is not None and path.exists():
                private_pem = path.read_text()
                created = await self.admin.create_account(
                    name, balance, public_key_pem=public_pem_of(private_pem),
                    key_id=old.key_id, user_id=old.user_id)
                keys[name] = (True, private_pem)
            else:
                created = await self.admin.create_account(name, balance)
                assert created.private_key_pem is not None
                path.write_text(created.private_key_pem)
                os.chmod(path, 0o600)
                keys[name] = (False, created.private_key_pem)
            demo.append(DemoAccount(name, created.account.user_id, created.key.key_id,
                                    str(path), self.settings.seed_balance_dollars))
        self.demo = demo
        (self.data_dir / MANIFEST).write_text(json.dumps([d.__dict__ for d in demo], indent=2))
        return {"markets": [m.ticker for m in DEMO_MARKETS],
                "accounts": [d.__dict__ for d in demo]}


def load_manifest(data_dir: Path) -> list[DemoAccount]:
    """Read the demo accounts written by an earlier seed, if any."""
    path = data_dir / MANIFEST
    if not path.exists():
        return []
    try:
        return [DemoAccount(**item) for item in json.loads(path.read_text())]
    except (ValueError, TypeError):
        return []


def journal_path(settings: Settings) -> Path | None:
    """Return where the journal is kept: beside the database (in memory with it)."""
    if settings.db == ":memory:":
        return None
    database = settings.database_path
    return database.with_name(database.stem + ".journal.jsonl")


async def _nowhere(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the replay's app is not wired yet")


def make_clock(settings: Settings) -> Clock:
    """Return the clock the settings ask for."""
    if settings.clock == "manual":
        # Without a start instant, Sandbox.start places the clock where it stopped, or now.
        return ManualClock(parse_instant(settings.clock_start) if settings.clock_start
                           else UNPLACED)
    return SystemClock(settings.clock_speed)


def build(settings: Settings, *, store: Store | None = None, clock: Clock | None = None,
          ids: IdGenerator | None = None) -> Sandbox:
    """Wire a sandbox from ``settings``; parts may be injected (tests, embedding)."""
    settings.validate()
    store = store or SqliteStore(settings.database_path)
    clock = clock or make_clock(settings)
    hub = Hub()
    journal = Journal(journal_path(settings), clock, store, enabled=settings.journal,
                      encode_lines=msgspec.json.Encoder().encode_lines)
    hub.subscribe(journal.listen)
    exchange = Exchange(store, clock, hub, Rules.from_settings(settings),
                        JournalIds(ids or IdGenerator(clock=clock)))

    async def fire(timer: Timer) -> None:
        # Counterparties' delays share the exchange's scheduler, so they fire in order with it.
        if counterparties.owns(timer):
            await counterparties.fire(timer)
        else:
            await exchange.fire(timer)

    fire_journaled = journal.timers(fire)
    scheduler = Scheduler(clock, fire_journaled, batch=store.deferred)
    exchange.timers = scheduler
    counterparties = Counterparties(exchange, scheduler, Defaults(
        settings.makers, settings.requesters, round(settings.requester_interval * MICROS)))
    counterparties.listen(hub.subscribe)
    admin = Admin(exchange)
    admin.generate_key_pair = journal.key_pairs(admin.generate_key_pair)
    # Signature freshness is measured in real time: a manual or sped-up clock governs the
    # exchange's timers, not how old a client's wall-clock timestamp may be.
    authenticator = JournalAuthenticator(
        admin, SystemClock(),
        past_tolerance_ms=int(settings.timestamp_past_tolerance * 1000),
        future_tolerance_ms=int(settings.timestamp_future_tolerance * 1000),
    )
    # Buckets refill by the sandbox clock: a manual clock refills them only as it advances.
    limits = RateLimits.from_settings(store, clock, settings)
    sandbox = Sandbox(settings, store, clock, hub, exchange, admin, scheduler, authenticator,
                      limits)
    scheduler.on_moved = sandbox.save_clock
    sandbox.journal = journal
    admin.on_reset(journal.clear)
    admin.on_reset(authenticator.clear)
    admin.on_reset(scheduler.clear)
    admin.on_reset(sandbox.remember_clock)
    admin.on_reset(counterparties.reload)
    admin.on_reset(limits.load)
    sandbox.counterparties = counterparties
    trade = TradeApi(exchange, authenticator, settings, limits)
    faults = sandbox.faults = FaultRegistry(authenticator, exchange, admin)
    admin.on_reset(faults.clear)
    websockets = WebSocketApi(hub, authenticator, clock, queue_limit=settings.ws_queue_limit,
                              faults=faults)
    control = ControlApi(admin, scheduler, settings.admin_token,
                         reseed=sandbox.seed if settings.seed else None, limits=limits)
    snapshots = sandbox.snapshots = Snapshots(store, clock)
    # After a restore, everything kept in memory is brought back in line with the database.
    snapshots.on_restore(sandbox.restore_timers)
    snapshots.on_restore(authenticator.clear)
    snapshots.on_restore(sandbox.remember_clock)
    snapshots.on_restore(journal.adopt)
    snapshots.on_restore(counterparties.reload)
    snapshots.on_restore(limits.load)
    in_process = InProcess(_nowhere, settings.admin_token)
    replayer = Replayer(journal, store, clock, scheduler, admin, fire_journaled, in_process,
                        prepare_seed=sandbox.prepare_seed,
                        seed=sandbox.seed if settings.seed else None,
                        ready=counterparties.start)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    sandbox_routes = [*websockets.routes(), *control.routes(),
                      *FaultsApi(faults, control.guard).routes(),
                      *CounterpartiesApi(counterparties).routes(control.guard),
                      *StateApi(snapshots, journal, replayer, control.guard).routes()]
    routes = [*trade.routes(), *sandbox_routes]
    handlers: dict[Any, Any] = {
        SandboxError: sandbox_error_handler,
        HTTPException: http_error_handler,
        Exception: internal_error_handler,
    }
    sandbox.app = Starlette(
        routes=routes,
        middleware=[
            # Outside fault injection, so a faulted request is journaled with its status.
            Middleware(JournalMiddleware, journal=journal, clock=clock,
                       authenticator=authenticator),
            # Faults answer before the request reaches a handler, so they change no state.
            Middleware(FaultMiddleware, registry=faults),
            Middleware(Reached),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    # A path with a trailing slash is an unknown path (404 in Kalshi's shape), not a redirect.
    sandbox.app.router.redirect_slashes = False
    use_route_table(sandbox.app)
    # A replay sends its requests through the same routes, journaled, with no faults and no
    # rate limits: it sends only requests that succeeded, faster than they first came.
    unlimited = TradeApi(exchange, authenticator, settings, limits, enforce=False)
    replay_app = Starlette(routes=[*unlimited.routes(), *sandbox_routes],
                           exception_handlers=handlers)
    replay_app.router.redirect_slashes = False
    in_process.app = JournalMiddleware(Reached(replay_app), journal, clock, authenticator)
    return sandbox


__all__ = ["DEMO_MARKETS", "DemoAccount", "Sandbox", "build"]
