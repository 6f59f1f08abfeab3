"""The one place that wires concrete storage, clock, hub, front doors and powers into an app.

``build`` makes every part and connects them; ``Sandbox`` starts and stops them in order, and
``reload``s them, in order, when the whole state is replaced (a reset, a restored snapshot).

Past 500 lines on purpose: wiring is read top to bottom in one place; splitting it would
scatter the order parts must be built, started and reloaded in.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from kalshi_sandbox.api.auth import Authenticator
from kalshi_sandbox.api.blocktrades import BlockTradesApi
from kalshi_sandbox.api.bodylimit import BodyLimit
from kalshi_sandbox.api.combos import CombosApi
from kalshi_sandbox.api.http import (
    http_error_handler,
    internal_error_handler,
    sandbox_error_handler,
    use_route_table,
)
from kalshi_sandbox.api.lifecycle import LifecycleApi
from kalshi_sandbox.api.maintenance import MaintenanceGate
from kalshi_sandbox.api.marketdata import MarketDataApi
from kalshi_sandbox.api.orders import OrdersApi
from kalshi_sandbox.api.routes import TradeApi
from kalshi_sandbox.api.ws import WebSocketApi
from kalshi_sandbox.domain.clock import MICROS, Clock, ManualClock, SystemClock, parse_instant
from kalshi_sandbox.domain.errors import SandboxError
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.domain.timer import Timer
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.blocktrades import BlockTrades
from kalshi_sandbox.exchange.bus import Hub
from kalshi_sandbox.exchange.catalog import Catalog
from kalshi_sandbox.exchange.combos import Combos
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.lifecycle import Lifecycle
from kalshi_sandbox.exchange.markets import Markets
from kalshi_sandbox.exchange.orders import Orders
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.exchange.ratelimits import RateLimits
from kalshi_sandbox.exchange.schedule import ExchangeSchedule
from kalshi_sandbox.exchange.scheduler import Scheduler
from kalshi_sandbox.powers import Cause, Reloadable
from kalshi_sandbox.powers.admin.lifecycle import LifecycleAdminApi
from kalshi_sandbox.powers.admin.routes import AdminApi, admin_market
from kalshi_sandbox.powers.admin.seed import KEYS, MANIFEST, DemoAccount, DemoSeed
from kalshi_sandbox.powers.admin.service import Admin
from kalshi_sandbox.powers.clock.keeper import UNPLACED, ClockKeeper
from kalshi_sandbox.powers.clock.routes import ClockApi
from kalshi_sandbox.powers.counterparties.routes import CounterpartiesApi
from kalshi_sandbox.powers.counterparties.runner import Counterparties, Defaults
from kalshi_sandbox.powers.faults.middleware import FaultMiddleware
from kalshi_sandbox.powers.faults.registry import FaultRegistry
from kalshi_sandbox.powers.faults.routes import FaultsApi
from kalshi_sandbox.powers.guard import (
    CONTROL_PREFIX,
    ControlGuard,
    ControlPlaneGuard,
    ControlPolicy,
)
from kalshi_sandbox.powers.liquidity.routes import LiquidityApi
from kalshi_sandbox.powers.liquidity.service import Liquidity
from kalshi_sandbox.powers.single import SingleInstancePowers
from kalshi_sandbox.powers.state.files import DataDir
from kalshi_sandbox.powers.state.journal import Journal, JournalIds
from kalshi_sandbox.powers.state.middleware import (
    AuthorizedGuard,
    InProcess,
    JournalAuthenticator,
    JournalMiddleware,
    MarkReached,
)
from kalshi_sandbox.powers.state.replay import Replayer
from kalshi_sandbox.powers.state.routes import StateApi
from kalshi_sandbox.powers.state.snapshots import Snapshots
from kalshi_sandbox.settings import Settings
from kalshi_sandbox.storage.instances import Instance, Nowhere
from kalshi_sandbox.storage.postgres import PostgresStore
from kalshi_sandbox.storage.sqlite import SqliteStore
from kalshi_sandbox.web.logs import RequestLog, log_events
from kalshi_sandbox.web.routes import WebApi
from kalshi_sandbox.web.state import Sources

log = logging.getLogger("kalshi_sandbox")


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


def rules_from(settings: Settings) -> Rules:
    """Convert the seconds and decimal strings of ``settings`` into the exchange's rules."""

    def seconds(value: float) -> int:
        return round(value * MICROS)

    def bps(multiplier: str) -> int:
        from decimal import Decimal

        return int(Decimal(multiplier) * 10_000)

    return Rules(
        confirm_window=seconds(settings.confirm_window),
        execution_delay=seconds(settings.execution_delay),
        hvm_confirm_window=seconds(settings.hvm_confirm_window),
        hvm_execution_delay=seconds(settings.hvm_execution_delay),
        taker_fee_bps=bps(settings.taker_fee_multiplier),
        maker_fee_bps=bps(settings.maker_fee_multiplier),
        max_open_rfqs=settings.max_open_rfqs,
        retention=seconds(settings.retention_days * 86_400),
        accepted_side_flip=settings.accepted_side_flip,
        idempotent_confirm=settings.idempotent_confirm,
        whole_contracts=settings.whole_contracts,
        replace_existing_scope=settings.replace_existing_scope,
        rfq_ttl=seconds(settings.rfq_ttl),
        block_trade_fills=settings.block_trade_fills,
    )


@dataclass
class Sandbox:
    """A wired sandbox: its parts and the ASGI app that serves them."""

    settings: Settings
    store: Store
    clock: Clock
    hub: Hub
    exchange: Exchange
    accounts: Accounts
    markets: Markets
    admin: Admin
    scheduler: Scheduler
    authenticator: Authenticator
    limits: RateLimits
    keeper: ClockKeeper
    journal: Journal
    seeder: DemoSeed
    faults: FaultRegistry
    counterparties: Counterparties
    snapshots: Snapshots
    liquidity: Liquidity
    app: Starlette = field(init=False)
    on_ready: Callable[[Sandbox], None] | None = None
    lifecycle: Lifecycle | None = None
    schedule: ExchangeSchedule | None = None
    combos: Combos | None = None
    instance: Instance | None = None
    """This instance's share of a PostgreSQL exchange (storage/instances.py), else None."""
    _reloading: asyncio.Task[None] | None = None

    @property
    def powers(self) -> Sequence[Reloadable]:
        """The powers that keep state in memory, in the order they reload."""
        # The journal before the counterparties: a reload that creates default
        # counterparties draws ids the new journal records.
        return (self.keeper, self.journal, self.faults, self.counterparties, self.liquidity)

    @property
    def demo(self) -> list[DemoAccount]:
        """The seeded demo accounts."""
        return self.seeder.demo

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    async def start(self) -> None:
        """Open the database, restore timers, seed if empty, and start firing timers."""
        _collector.tune()
        # Instances sharing a database start one at a time: one seeds, the others find it.
        starting: AbstractAsyncContextManager[None] = (
            nullcontext() if self.instance is None else self.instance.starting())
        async with starting:
            await self._start()
        if self.instance is not None:
            await self.instance.start()

    async def _start(self) -> None:
        await self.store.open()
        await self.exchange.marketdata.load()
        await self.journal.open()
        await self.keeper.restore()
        await self.limits.load()
        if self.schedule is not None:
            await self.schedule.load()

        async def flush() -> int:
            # One instance's restart is no server roll when others serve on.
            if (not self.settings.flush_open_quotes_on_restart
                    or self.settings.multi_instance):
                return 0
            async with self.store.transaction() as tx:
                flushed = await tx.delete_quotes_in(QuoteStatus.OPEN)
            if flushed:
                log.info("forgot %d open quotes, as a Kalshi server roll does", flushed)
            return flushed

        await self.journal.start("manual" if self.clock.manual else "system", flush)
        await self.restore_timers()
        # Timers that fell due while the server was down fire before the first request.
        await self.scheduler.fire_overdue()
        if self.settings.seed:
            async with self.store.transaction() as tx:
                empty = not await tx.list_accounts()
            if empty:
                await self.seeder.seed()
            else:
                self.seeder.load()
        # After the timers are restored (which clears the scheduler) and the demo is seeded
        # (which looks for an empty database).
        await self.journal.recorded("ready", self.ready)
        self.scheduler.start()
        if self.on_ready is not None:
            self.on_ready(self)

    async def ready(self) -> None:
        """Start the powers that act on their own: counterparties, then liquidity makers."""
        await self.counterparties.start()
        await self.liquidity.start()

    async def stop(self) -> None:
        """Stop firing timers and close the database."""
        await self.scheduler.stop()
        if self.instance is not None:
            await self.instance.stop()
        await self.journal.close()
        await self.store.close()
        _collector.restore()

    async def restore_timers(self) -> None:
        """Load every pending timer from the database into the scheduler."""
        self.scheduler.clear()
        async with self.store.transaction() as tx:
            self.scheduler.add(await tx.pending_timers())

    async def replaced(self, cause: Cause) -> None:
        """Reload after this instance replaced the state; other instances then reload too."""
        await self.reload(cause)
        if self.instance is not None:
            await self.instance.store.announce_replaced()

    def reload_later(self) -> None:
        """Reload soon: another instance replaced the state (called inside a transaction)."""
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.get_running_loop().create_task(
                self.reload(Cause.RESTORE), name="reload")

    async def reload(self, cause: Cause) -> None:
        """Bring every part's memory in line with a replaced state: the exchange's first
        (timers, cached keys, rate-limit tiers), then each power's."""
        await self.restore_timers()
        self.exchange.books.forget()
        await self.exchange.marketdata.load()
        self.authenticator.clear()
        await self.limits.load()
        if self.schedule is not None:
            await self.schedule.load()
        for power in self.powers:
            await power.reload(cause)


UPLOADS = (CONTROL_PREFIX + "/journal/replay", CONTROL_PREFIX + "/snapshots/restore")
"""Endpoints that take a whole journal or snapshot: their bodies may reach max_upload_bytes."""


GRACEFUL_SHUTDOWN = 3.0
"""Seconds a stopping server waits for responses in flight before it cancels them."""


def server_options(settings: Settings) -> dict[str, Any]:
    """Return the options of uvicorn's ``Config`` that the settings decide.

    Forwarding headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are ignored unless
    ``forwarded_allow_ips`` names the proxies to believe: the caller is the socket's peer.
    """
    trusted = settings.forwarded_allow_ips.strip()
    return {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "ws_ping_interval": settings.ws_ping_interval or None,
        "ws_ping_timeout": settings.ws_ping_timeout or None,
        "ws_per_message_deflate": settings.ws_compression,
        "ws_max_size": settings.max_body_bytes,
        # The dashboard's event stream never ends by itself: a stop waits this long for
        # the requests in flight, then cancels what is left (the streams).
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN,
    }


def journal_path(settings: Settings) -> Path | None:
    """Return the base name of the journal's segments: beside the database, as
    ``<stem>.journal.NNNNNN.jsonl[.gz]`` (in memory with an in-memory database)."""
    if settings.db == ":memory:":
        return None
    database = settings.database_path
    return database.with_name(database.stem + ".journal")


def data_files(settings: Settings) -> DataDir:
    """Return the data directory as the place for files callers name, the sandbox's own
    files (database, journal, demo keys) excepted."""
    reserved = [KEYS, MANIFEST]
    database = settings.database_path
    if settings.db != ":memory:":
        reserved += [database.name + "*", database.stem + ".journal*"]
    return DataDir(Path(settings.data_dir), reserved,
                   limit=int(settings.file_limit_mb * (1 << 20)))


async def _nowhere(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the replay's app is not wired yet")


def make_clock(settings: Settings) -> Clock:
    """Return the clock the settings ask for."""
    if settings.clock == "manual":
        # Without a start instant, Sandbox.start places the clock where it stopped, or now.
        return ManualClock(parse_instant(settings.clock_start) if settings.clock_start
                           else UNPLACED)
    return SystemClock(settings.clock_speed)


def make_store(settings: Settings) -> Store:
    """Return the store ``--db`` names: a PostgreSQL URL, else a SQLite file."""
    if settings.postgres:
        return PostgresStore(settings.db)
    return SqliteStore(settings.database_path)


def build(settings: Settings, *, store: Store | None = None, clock: Clock | None = None,
          ids: IdGenerator | None = None) -> Sandbox:
    """Wire a sandbox from ``settings``; parts may be injected (tests, embedding)."""
    settings.validate()
    store = store or make_store(settings)
    clock = clock or make_clock(settings)
    hub = Hub()
    # With several instances the journal would hold one process's share of the requests.
    journal = Journal(journal_path(settings), clock, store,
                      enabled=settings.journal and not settings.multi_instance,
                      encode=msgspec.json.Encoder().encode_lines, events=settings.journal_events,
                      segment_bytes=int(settings.journal_segment_mb * (1 << 20)),
                      retention_bytes=int(settings.journal_retention_mb * (1 << 20)))
    hub.subscribe(journal.listen)
    exchange = Exchange(store, clock, hub, rules_from(settings),
                        JournalIds(ids or IdGenerator(clock=clock)))
    # Before the WebSocket's listener: a ticker message reads the view this batch updated.
    hub.subscribe(exchange.marketdata.listen)
    accounts = Accounts(exchange)
    accounts.generate_key_pair = journal.key_pairs(accounts.generate_key_pair)
    lifecycle = Lifecycle(exchange)
    markets = Markets(exchange, lifecycle)
    combos = Combos(markets)
    block_trades = BlockTrades(exchange)
    catalog = Catalog(store, clock)
    schedule = ExchangeSchedule(store, clock)

    async def fire(timer: Timer) -> None:
        # Counterparties' delays share the exchange's scheduler, so they fire in order with it.
        if counterparties.owns(timer):
            await counterparties.fire(timer)
        elif liquidity.owns(timer):
            await liquidity.fire(timer)
        else:
            await exchange.fire(timer)

    fire_journaled = journal.timers(fire)
    scheduler = Scheduler(clock, fire_journaled, batch=store.deferred)
    exchange.timers = scheduler
    counterparties = Counterparties(exchange, scheduler, Defaults(
        settings.makers, settings.requesters, round(settings.requester_interval * MICROS)))
    counterparties.listen(hub.subscribe)
    orders = Orders(exchange)
    liquidity = Liquidity(exchange, orders, scheduler, default=settings.liquidity)
    # Signature freshness is measured in real time: a manual or sped-up clock governs the
    # exchange's timers, not how old a client's wall-clock timestamp may be.
    authenticator = JournalAuthenticator(
        accounts, SystemClock(),
        past_tolerance_ms=int(settings.timestamp_past_tolerance * 1000),
        future_tolerance_ms=int(settings.timestamp_future_tolerance * 1000),
        verbose=settings.verbose_auth,
    )
    # Buckets refill by the sandbox clock: a manual clock refills them only as it advances.
    limits = RateLimits.from_settings(store, clock, settings)
    keeper = ClockKeeper(clock, store)
    seeder = DemoSeed(accounts, markets, journal, Path(settings.data_dir),
                      settings.seed_balance_dollars)
    faults = FaultRegistry(authenticator, exchange, accounts)
    admin = Admin(store)
    snapshots = Snapshots(store, clock)
    sandbox = Sandbox(settings, store, clock, hub, exchange, accounts, markets, admin,
                      scheduler, authenticator, limits, keeper, journal, seeder, faults,
                      counterparties, snapshots, liquidity)
    admin.reload = snapshots.reload = sandbox.replaced
    sandbox.lifecycle, sandbox.schedule, sandbox.combos = lifecycle, schedule, combos
    if isinstance(store, PostgresStore):
        # Events travel through the database to every instance, this one included; the
        # order books follow changes other instances make (storage/instances.py).
        instance = sandbox.instance = Instance(
            store, clock, hub.publish, scheduler.add, shared=settings.multi_instance,
            rate_limited=limits.enforced, refresh_tiers=limits.refresh_tiers)
        exchange.outbox = instance.outbox
        exchange.publisher = Nowhere()
        store.on_foreign_change.append(exchange.books.forget)
        store.on_foreign_replace.append(sandbox.reload_later)
        if instance.buckets is not None:
            limits.shared = instance.buckets.charge
            limits.forget_shared = instance.buckets.forget

    # The journal keeps the body of a control-plane request only if the guard let it in.
    policy = ControlPolicy.from_settings(settings)
    guard = AuthorizedGuard(ControlGuard(policy))
    reseed = seeder.seed if settings.seed else None
    in_process = InProcess(_nowhere, settings.admin_token)
    replayer = Replayer(journal, store, clock, scheduler, accounts, fire_journaled, in_process,
                        prepare_seed=seeder.prepare, seed=reseed, ready=sandbox.ready)
    admin_api = AdminApi(admin, accounts, markets, limits, scheduler, clock, guard,
                         reseed=reseed)
    if sandbox.instance is not None:
        admin_api.instance = sandbox.instance.describe
    websockets = WebSocketApi(hub, authenticator, clock, queue_limit=settings.ws_queue_limit,
                              faults=faults)
    websockets.fanout.marketdata = exchange.marketdata
    sandbox_routes: list[BaseRoute] = [
        *websockets.routes(),
        *admin_api.routes(),
        *LifecycleAdminApi(lifecycle, schedule, combos, guard, admin_market).routes(),
        *ClockApi(clock, scheduler, guard).routes(),
        *FaultsApi(faults, guard).routes(),
        *CounterpartiesApi(counterparties, guard).routes(),
        *LiquidityApi(liquidity, guard).routes(),
        *StateApi(snapshots, journal, replayer, guard, data_files(settings)).routes(),
    ]

    web = WebApi(store, Sources(
        store=store, clock=clock, marketdata=exchange.marketdata,
        pending_timers=scheduler.__len__, counterparties=counterparties.describe_all,
        liquidity=liquidity.describe_all, faults=lambda: [r.render() for r in faults.rules],
        journal_tail=lambda: journal.recent), policy, guard)
    # The dashboard's feed hears of every committed change, journal entry and clock move.
    hub.subscribe(web.feed.changed)
    hub.subscribe(log_events)
    journal.on_append = web.feed.changed

    async def moved(instant: int) -> None:
        await keeper.save(instant)
        web.feed.changed()

    scheduler.on_moved = moved

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    trade = TradeApi(exchange, authenticator, settings, limits)
    trade.extensions += [OrdersApi(trade, orders).endpoints,
                         MarketDataApi(trade).endpoints,
                         LifecycleApi(trade, catalog, schedule).endpoints,
                         CombosApi(trade, catalog, combos).endpoints,
                         BlockTradesApi(trade, block_trades).endpoints]
    handlers: dict[Any, Any] = {
        SandboxError: sandbox_error_handler,
        HTTPException: http_error_handler,
        Exception: internal_error_handler,
    }
    sandbox.app = Starlette(
        routes=[*trade.routes(), *sandbox_routes, *web.routes()],
        middleware=[
            # One line per request at info; at warning and above the layer is left out.
            *([Middleware(RequestLog)] if settings.log_level.lower() in ("debug", "info")
              else []),
            # Then: no body larger than the cap is read, by anything.
            Middleware(BodyLimit, limit=settings.max_body_bytes,
                       larger=dict.fromkeys(UPLOADS, settings.max_upload_bytes)),
            # A control-plane request the guard refuses is neither read nor journaled.
            Middleware(ControlPlaneGuard, policy=policy),
            # Outside fault injection, so a faulted request is journaled with its status.
            Middleware(JournalMiddleware, journal=journal, clock=clock,
                       authenticator=authenticator),
            # Faults answer before the request reaches a handler, so they change no state.
            Middleware(FaultMiddleware, registry=faults),
            # Inside the journal: a request refused for maintenance is journaled with it.
            Middleware(MaintenanceGate, schedule=schedule),
            Middleware(MarkReached),
            *([Middleware(SingleInstancePowers)] if settings.multi_instance else []),
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
    unlimited.extensions += [OrdersApi(unlimited, orders).endpoints,
                             MarketDataApi(unlimited).endpoints,
                             LifecycleApi(unlimited, catalog, schedule).endpoints,
                             CombosApi(unlimited, catalog, combos).endpoints,
                             BlockTradesApi(unlimited, block_trades).endpoints]
    replay_app = Starlette(routes=[*unlimited.routes(), *sandbox_routes],
                           exception_handlers=handlers)
    replay_app.router.redirect_slashes = False
    in_process.app = JournalMiddleware(MarkReached(replay_app), journal, clock, authenticator)
    return sandbox


__all__ = ["Sandbox", "build", "data_files", "journal_path", "make_store", "rules_from",
           "server_options"]
