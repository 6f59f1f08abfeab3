"""The running liquidity makers: their accounts, stored configurations, fair values and timers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from kalshi_sandbox.domain.account import Account, communications_id
from kalshi_sandbox.domain.clock import Clock, Instant
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound, SandboxError
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.money import ONE_DOLLAR, format_count, format_price
from kalshi_sandbox.domain.orders import POST_ONLY_CROSS, OrderRequest
from kalshi_sandbox.domain.portfolio import Order, TimeInForce
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.accounts import communications_salt
from kalshi_sandbox.exchange.engine import ALL, Exchange
from kalshi_sandbox.exchange.orders import Orders
from kalshi_sandbox.exchange.unit import TimerSink
from kalshi_sandbox.powers import Cause
from kalshi_sandbox.powers.liquidity.config import (
    QUOTING_FIELDS,
    LiquidityConfig,
    MarketSettings,
    config_json,
    parse_config,
    parse_fair,
    parse_path,
    parse_settings,
)
from kalshi_sandbox.powers.liquidity.ladder import ladder, path_value, walk
from kalshi_sandbox.powers.liquidity.makers import Maker, MarketState, stored_maker

log = logging.getLogger(__name__)

TIMER_KIND = TimerKind.LIQUIDITY
"""The kind of every liquidity timer; the scheduler's dispatcher routes it here."""
CONFIG_KEY = "liquidity"
"""The ``meta`` key holding every liquidity maker's configuration and fair values."""
TIMER_IDS_START = (1 << 62) + (1 << 61)
"""Liquidity timer ids start here: far above any timer row's id and the counterparties'."""
DEFAULT_NAME = "auto-liquidity"
"""The maker ``serve --liquidity`` keeps on every open market."""


class Liquidity:
    """Every liquidity maker: configurations, fair values, requote timers."""

    def __init__(self, exchange: Exchange, orders: Orders, timers: TimerSink, *,
                 default: bool = False) -> None:
        self.exchange = exchange
        self.orders = orders
        self.clock: Clock = exchange.clock
        self.timers = timers
        self.default = default
        self._makers: dict[str, Maker] = {}
        self._pending: dict[int, str] = {}
        self._next_id = TIMER_IDS_START
        self._lock = asyncio.Lock()

    # Lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the stored makers, create the default one, and arm their requotes."""
        await self.load()

    async def reload(self, cause: Cause) -> None:
        """The database was replaced (a reset, a restored snapshot): load it again."""
        await self.load()

    async def load(self) -> None:
        """Forget everything in memory and load the makers from the database again.

        A loaded maker quotes again at its next requote; its resting orders stayed in the
        book meanwhile, as any account's do across a restart.
        """
        async with self._lock:
            self._pending.clear()
            self._makers.clear()
            async with self.exchange.store.transaction() as tx:
                raw = await tx.get_meta(CONFIG_KEY)
            for item in _decode(raw):
                try:
                    maker = stored_maker(item)
                except (KeyError, TypeError, ValueError, SandboxError) as exc:
                    log.error("skipping a stored liquidity maker that does not parse: %s", exc)
                    continue
                self._makers[maker.name] = maker
                self._arm(maker)
            if self.default and DEFAULT_NAME not in self._makers:
                await self._create(LiquidityConfig(name=DEFAULT_NAME), {})

    # Configuration ----------------------------------------------------------------------------

    def describe_all(self) -> list[dict[str, Any]]:
        """Describe every maker, in creation order."""
        return [maker.describe() for maker in self._makers.values()]

    def describe(self, name: str) -> dict[str, Any]:
        """Describe maker ``name``."""
        return self._maker(name).describe()

    async def add(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create a maker with its own account, and quote its markets now."""
        config, paths = parse_config(data)
        async with self._lock:
            if config.name in self._makers:
                raise Conflict(f"a liquidity maker named {config.name} already exists")
            maker = await self._create(config, paths)
        return maker.describe()

    async def _create(self, config: LiquidityConfig,
                      paths: Mapping[str, tuple[tuple[int, int], ...]]) -> Maker:
        user_id = self.exchange.ids.new()
        now = self.clock.now()
        async with self.exchange.store.transaction() as tx:
            for ticker in config.markets or ():
                if await tx.get_market(ticker) is None:
                    raise InvalidParameters(f"market {ticker} not found")
            salt = await communications_salt(tx, self.exchange.ids)
            account = Account(user_id=user_id, name=config.name,
                              communications_id=communications_id(salt, user_id),
                              created_ts=now)
            await tx.insert_account(account)
            await tx.set_balance(user_id, 0, config.balance, now)
            maker = Maker(config, user_id, account.communications_id, active=True)
            for ticker, path in paths.items():
                maker.markets[ticker] = MarketState(path[0][1], path, now)
            await self._save(tx, [*self._makers.values(), maker])
        self._makers[maker.name] = maker
        log.info("liquidity maker %s started as user %s", config.name, user_id)
        await self._quote(maker, step=False)
        async with self.exchange.store.transaction() as tx:
            await self._save(tx, self._makers.values())
        self._arm(maker)
        return maker

    async def update(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Change a maker's configuration and/or pause (``active: false``) or resume it.

        Pausing withdraws its orders. Whatever changed, its markets are quoted again now.
        A ``balance_dollars`` different from the configured one sets the account's balance.
        """
        async with self._lock:
            maker = self._maker(name)
            changes = dict(data)
            active = changes.pop("active", None)
            if active is not None and not isinstance(active, bool):
                raise InvalidParameters("active must be a boolean")
            for key, current in (("user_id", maker.user_id), ("name", maker.name),
                                 ("communications_id", maker.communications_id)):
                if key in changes and changes.pop(key) != current:
                    raise InvalidParameters(f"{key} cannot be changed")
            for key in ("state", "stats", "activity", "market_settings"):
                changes.pop(key, None)
            merged = {**config_json(maker.config), **changes}
            merged.pop("market_settings", None)
            config, paths = parse_config(merged)
            config = replace(config, per_market={**maker.config.per_market,
                                                 **config.per_market})
            now = self.clock.now()
            async with self.exchange.store.transaction() as tx:
                for ticker in config.markets or ():
                    if await tx.get_market(ticker) is None:
                        raise InvalidParameters(f"market {ticker} not found")
                if config.balance != maker.config.balance:
                    await tx.set_balance(maker.user_id, 0, config.balance, now)
                reseed = config.seed != maker.config.seed
                retimed = config.interval != maker.config.interval
                maker.config = config
                if active is not None:
                    maker.active = active
                for ticker, path in paths.items():
                    maker.markets[ticker] = MarketState(path[0][1], path, now)
                await self._save(tx, self._makers.values())
            if reseed:
                maker.reseed()
            if retimed or not maker.active:
                self._disarm(maker)
            await self._quote(maker, step=False)
            async with self.exchange.store.transaction() as tx:
                await self._save(tx, self._makers.values())
            self._arm(maker)
            return maker.describe()

    async def remove(self, name: str) -> None:
        """Stop maker ``name``, withdraw its orders and forget it; its account stays."""
        async with self._lock:
            maker = self._maker(name)
            self._disarm(maker)
            maker.active = False
            await self._quote(maker, step=False)
            del self._makers[name]
            async with self.exchange.store.transaction() as tx:
                await self._save(tx, self._makers.values())

    async def set_market(self, name: str, ticker: str, data: Mapping[str, Any]
                         ) -> dict[str, Any]:
        """Set one market's fair value or path, or its own quoting parameters; requote it.

        ``fair_value`` moves the fair value there now (and ends any path); ``path`` makes it
        follow ``[[seconds, price], ...]`` from now (null ends it); the other fields
        (``spread``, ``depth``, ``size``, ``step``, ``volatility``) become the market's own.
        """
        if not isinstance(data, Mapping):
            raise InvalidParameters("the body must be a JSON object")
        unknown = sorted(set(data) - {*QUOTING_FIELDS, "path"})
        if unknown:
            raise InvalidParameters(f"unknown field(s): {', '.join(unknown)}; expected "
                                    f"{', '.join(sorted({*QUOTING_FIELDS, 'path'}))}")
        fair = parse_fair(data["fair_value"]) if data.get("fair_value") is not None else None
        path = parse_path(data["path"]) if data.get("path") is not None else None
        own = parse_settings({k: v for k, v in data.items() if k != "fair_value"})
        async with self._lock:
            maker = self._maker(name)
            if not maker.config.quotes(ticker):
                raise InvalidParameters(f"{ticker} is not one of {name}'s markets")
            market = await self._markets([ticker])
            if ticker not in market:
                raise NotFound(f"market {ticker} not found", message="market not found")
            now = self.clock.now()
            if own != MarketSettings():
                per_market = dict(maker.config.per_market)
                per_market[ticker] = per_market.get(ticker, MarketSettings()).merged(own)
                maker.config = replace(maker.config, per_market=per_market)
            state = self._state(maker, market[ticker])
            if "path" in data:
                state.path, state.path_start = path, now
                if path is not None:
                    state.fair = path_value(path, now, now) or state.fair
            if fair is not None:
                state.fair = fair
                if data.get("path") is None:
                    state.path = None
            await self._quote_market(maker, ticker, market[ticker], step=False)
            async with self.exchange.store.transaction() as tx:
                await self._save(tx, self._makers.values())
            return state.describe()

    async def requote(self, name: str | None = None) -> None:
        """Quote every market of maker ``name`` (or of every maker) now, without moving the
        fair values."""
        async with self._lock:
            makers = [self._maker(name)] if name is not None else list(self._makers.values())
            for maker in makers:
                await self._quote(maker, step=False)
            async with self.exchange.store.transaction() as tx:
                await self._save(tx, self._makers.values())

    def _maker(self, name: str) -> Maker:
        maker = self._makers.get(name)
        if maker is None:
            raise NotFound(f"liquidity maker {name} not found",
                           message="liquidity maker not found")
        return maker

    async def _save(self, tx: Any, makers: Iterable[Maker]) -> None:
        await tx.set_meta(CONFIG_KEY, json.dumps({"version": 1,
                                                  "makers": [m.stored() for m in makers]}))

    # Timers -----------------------------------------------------------------------------------

    def _arm(self, maker: Maker, after: Instant | None = None) -> None:
        if not maker.active or maker.tick is not None:
            return
        now = self.clock.now()
        # A requote that fell behind (a stalled system clock) skips the turns it missed.
        due = max((now if after is None else after) + maker.config.interval, now)
        timer_id = self._next_id
        self._next_id += 1
        self._pending[timer_id] = maker.name
        maker.tick = timer_id
        self.timers.add((Timer(due, timer_id, TIMER_KIND, f"{maker.name}:requote"),))

    def _disarm(self, maker: Maker) -> None:
        if maker.tick is not None:
            self._pending.pop(maker.tick, None)
            self.timers.drop([maker.tick])
            maker.tick = None

    @staticmethod
    def owns(timer: Timer) -> bool:
        """Return True if ``timer`` is a liquidity maker's (the scheduler routes it here)."""
        return timer.kind == TIMER_KIND

    async def fire(self, timer: Timer) -> None:
        """Move the maker's fair values one step and quote again; arm the next requote."""
        async with self._lock:
            name = self._pending.pop(timer.id, None)
            maker = self._makers.get(name) if name is not None else None
            if maker is None or maker.tick != timer.id:
                return
            maker.tick = None
            if not maker.active:
                return
            try:
                await self._quote(maker, step=True)
                async with self.exchange.store.transaction() as tx:
                    await self._save(tx, self._makers.values())
            finally:
                self._arm(maker, after=timer.due)

    # Quoting ----------------------------------------------------------------------------------

    async def _markets(self, tickers: Iterable[str] | None) -> dict[str, Market]:
        """Return the markets named (or every market), by ticker; unknown ones are left out."""
        if tickers is None:
            page = await self.exchange.list_markets(MarketQuery(limit=ALL))
            return {m.ticker: m for m in page.items}
        found: dict[str, Market] = {}
        async with self.exchange.store.transaction() as tx:
            for ticker in tickers:
                market = await tx.get_market(ticker)
                if market is not None:
                    found[ticker] = market
        return found

    def _state(self, maker: Maker, market: Market) -> MarketState:
        state = maker.markets.get(market.ticker)
        if state is None:
            start = maker.config.start_value(market.ticker)
            fair = start or market.last_price or ONE_DOLLAR // 2
            state = maker.markets[market.ticker] = MarketState(fair)
        return state

    async def _quote(self, maker: Maker, *, step: bool) -> None:
        """Quote every market the maker quotes; withdraw from those it no longer does."""
        config = maker.config
        markets = await self._markets(config.markets)
        wanted = {t for t, m in markets.items()
                  if maker.active and m.tradable and config.quotes(t)}
        for ticker in sorted(wanted | set(maker.markets)):
            await self._quote_market(maker, ticker, markets.get(ticker), step=step)

    async def _resting(self, maker: Maker, ticker: str) -> list[Order]:
        async with self.exchange.store.transaction() as tx:
            orders = await tx.resting_orders(ticker)
        return [o for o in orders if o.user_id == maker.user_id]

    async def _quote_market(self, maker: Maker, ticker: str, market: Market | None, *,
                            step: bool) -> None:
        """Bring the maker's orders in ``ticker`` in line with its ladder (or withdraw them
        when the market is not open, or no longer one of its markets)."""
        now = self.clock.now()
        mine = await self._resting(maker, ticker)
        if (market is None or not market.tradable or not maker.active
                or not maker.config.quotes(ticker)):
            for order in mine:
                await self._cancel(maker, order)
            state = maker.markets.get(ticker)
            if state is not None and state.quoted is not None:
                state.quoted = None
                maker.record(now, "withdraw", market=ticker, cancelled=len(mine),
                             status=None if market is None else str(market.status))
            if market is None or not maker.config.quotes(ticker):
                maker.markets.pop(ticker, None)
            return
        state = self._state(maker, market)
        params = maker.config.params(ticker)
        if step:
            if state.path is not None:
                value = path_value(state.path, state.path_start, now)
                if value is not None:
                    state.fair = value
            else:
                state.fair = walk(state.fair, params.volatility, maker.rng)
        levels = ladder(state.fair, params, market.price_ranges)
        wanted = {(level.side, level.yes_price): level.size for level in levels}
        held: dict[tuple[Side, int], list[Order]] = {}
        for order in mine:
            held.setdefault((order.side, order.yes_price), []).append(order)
        cancelled = 0
        for key, orders in held.items():
            if sum(o.remaining_count for o in orders) > wanted.get(key, 0):
                for order in orders:
                    cancelled += await self._cancel(maker, order)
                held[key] = []
        placed = crossed = 0
        for level in levels:
            key = (level.side, level.yes_price)
            missing = level.size - sum(o.remaining_count for o in held.get(key, ()))
            if missing <= 0:
                continue
            request = OrderRequest(ticker, level.side, level.yes_price, missing,
                                   TimeInForce.GOOD_TILL_CANCELED,
                                   post_only=maker.config.post_only)
            try:
                await self.orders.create_order(maker.actor, request)
            except SandboxError as exc:
                if exc.details == POST_ONLY_CROSS:
                    crossed += 1
                else:
                    maker.record(now, "order", exc.code, market=ticker, detail=str(exc),
                                 price=format_price(level.yes_price),
                                 count=format_count(missing))
                continue
            placed += 1
        bids = [lv.yes_price for lv in levels if lv.side is Side.YES]
        asks = [lv.yes_price for lv in levels if lv.side is Side.NO]
        state.quoted = (max(bids, default=0), min(asks, default=ONE_DOLLAR))
        if placed or cancelled or crossed or step:
            maker.record(now, "quote", market=ticker, fair_value=format_price(state.fair),
                         yes_bid=format_price(state.quoted[0]),
                         yes_ask=format_price(state.quoted[1]), placed=placed,
                         cancelled=cancelled, crossed=crossed or None)

    async def _cancel(self, maker: Maker, order: Order) -> int:
        try:
            await self.orders.cancel_order(maker.actor, order.order_id)
        except SandboxError:
            return 0  # it filled or was cancelled meanwhile
        return 1


def _decode(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        items = json.loads(raw)["makers"]
    except (ValueError, KeyError, TypeError):
        log.error("the stored liquidity makers do not parse; starting without them")
        return []
    return [item for item in items if isinstance(item, dict)]


__all__ = ["DEFAULT_NAME", "TIMER_KIND", "Liquidity"]
