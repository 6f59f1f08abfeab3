"""The running counterparties: their accounts, stored configurations, timers and reactions."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kalshi_sandbox.domain.account import Account, communications_id
from kalshi_sandbox.domain.clock import Clock, Instant
from kalshi_sandbox.domain.errors import (
    Conflict,
    InvalidParameters,
    NotFound,
    SandboxError,
)
from kalshi_sandbox.domain.events import (
    Event,
    QuoteAccepted,
    QuoteCancelled,
    QuoteCreated,
    QuoteExecuted,
    RfqCreated,
    RfqDeleted,
)
from kalshi_sandbox.domain.quote import Quote
from kalshi_sandbox.domain.rfq import Rfq
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.accounts import communications_salt
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.ports import Transaction
from kalshi_sandbox.exchange.unit import TimerSink
from kalshi_sandbox.powers import Cause
from kalshi_sandbox.powers.counterparties import actions
from kalshi_sandbox.powers.counterparties.bots import Bot, Defaults, Reaction
from kalshi_sandbox.powers.counterparties.config import (
    MAKER,
    REQUESTER,
    Config,
    ConfirmPolicy,
    MakerConfig,
    RequesterConfig,
    config_json,
    parse_config,
)

log = logging.getLogger(__name__)


TIMER_KIND = TimerKind.REACTION
"""The kind of every counterparty timer; the scheduler's dispatcher routes it here."""
CONFIG_KEY = "counterparties"
"""The ``meta`` key holding every counterparty's configuration as JSON."""
TIMER_IDS_START = 1 << 62
"""Counterparty timer ids start here: far above any timer row's id, so they never collide,
and at equal instants the exchange's own timers (deadlines, executions) fire first."""


class Counterparties:
    """Every built-in counterparty: their configurations, reactions and timers."""

    def __init__(self, exchange: Exchange, timers: TimerSink,
                 defaults: Defaults | None = None) -> None:
        self.exchange = exchange
        self.clock: Clock = exchange.clock
        self.timers = timers
        self.defaults = defaults or Defaults()
        self._bots: dict[str, Bot] = {}
        self._by_user: dict[str, Bot] = {}
        self._pending: dict[int, Reaction] = {}
        self._next_id = TIMER_IDS_START
        self._lock = asyncio.Lock()

    # Lifecycle --------------------------------------------------------------------------------

    def listen(self, subscribe: Callable[[Callable[[Sequence[Event]], None]], object]) -> None:
        """Subscribe to committed events (the hub's ``subscribe``)."""
        subscribe(self.on_events)

    async def start(self) -> None:
        """Load the stored counterparties, create the default ones, and arm their timers."""
        await self.load()

    async def reload(self, cause: Cause) -> None:
        """The database was replaced (a reset, a restored snapshot): load it again."""
        await self.load()

    async def load(self) -> None:
        """Forget everything in memory and load the counterparties from the database again.

        After the scheduler was reloaded: pending reactions are dropped, interval RFQs
        re-armed from now.
        """
        async with self._lock:
            # The scheduler no longer holds these timers (it was cleared), so they are
            # forgotten rather than dropped; any that did remain would find no reaction.
            self._pending.clear()
            self._bots.clear()
            self._by_user.clear()
            async with self.exchange.store.transaction() as tx:
                raw = await tx.get_meta(CONFIG_KEY)
            for item in _decode(raw):
                try:
                    bot = Bot(kind=item["kind"],
                              config=parse_config(item["kind"], item["config"]),
                              user_id=item["user_id"],
                              communications_id=item["communications_id"],
                              active=bool(item["active"]))
                except (KeyError, TypeError, SandboxError) as exc:
                    log.error("skipping a stored counterparty that does not parse: %s", exc)
                    continue
                self._register(bot)
            await self._ensure_defaults()

    async def _ensure_defaults(self) -> None:
        d = self.defaults
        wanted: list[tuple[str, Config]] = [
            (MAKER, MakerConfig(name=f"auto-maker-{i}")) for i in range(1, d.makers + 1)]
        wanted += [(REQUESTER, RequesterConfig(name=f"auto-requester-{i}",
                                               interval=d.requester_interval))
                   for i in range(1, d.requesters + 1)]
        for kind, config in wanted:
            if config.name not in self._bots:
                await self._create(kind, config)

    # Configuration ----------------------------------------------------------------------------

    def describe_all(self) -> list[dict[str, Any]]:
        """Describe every counterparty, in creation order."""
        return [bot.describe() for bot in self._bots.values()]

    def describe(self, name: str) -> dict[str, Any]:
        """Describe counterparty ``name``."""
        return self._bot(name).describe()

    async def add(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create a counterparty of ``kind`` (maker or requester) with its own account."""
        if kind not in (MAKER, REQUESTER):
            raise InvalidParameters("kind must be maker or requester")
        config = parse_config(kind, data)
        async with self._lock:
            if config.name in self._bots:
                raise Conflict(f"a counterparty named {config.name} already exists")
            bot = await self._create(kind, config)
        return bot.describe()

    async def _create(self, kind: str, config: Config) -> Bot:
        user_id = self.exchange.ids.new()
        async with self.exchange.store.transaction() as tx:
            await self._check_markets(tx, config.markets)
            now = self.clock.now()
            salt = await communications_salt(tx, self.exchange.ids)
            account = Account(user_id=user_id, name=config.name,
                              communications_id=communications_id(salt, user_id),
                              created_ts=now)
            await tx.insert_account(account)
            await tx.set_balance(user_id, 0, config.balance, now)
            bot = Bot(kind, config, user_id, account.communications_id, active=True)
            await self._store(tx, [*self._bots.values(), bot])
            tx.on_commit(lambda: self._register(bot))
        log.info("counterparty %s (%s) started as user %s", config.name, kind, user_id)
        return bot

    async def update(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Change a counterparty's configuration and/or pause (``active: false``) or resume it.

        A ``balance_dollars`` different from the configured one also sets the account's
        balance now (so sending back a whole configuration as read leaves the balance alone).
        """
        async with self._lock:
            bot = self._bot(name)
            changes = dict(data)
            active = changes.pop("active", None)
            if active is not None and not isinstance(active, bool):
                raise InvalidParameters("active must be a boolean")
            for key, current in (("kind", bot.kind), ("user_id", bot.user_id),
                                 ("communications_id", bot.communications_id),
                                 ("name", bot.name)):
                if key in changes and changes.pop(key) != current:
                    raise InvalidParameters(f"{key} cannot be changed")
            changes.pop("stats", None)
            changes.pop("activity", None)
            merged = config_json(bot.config)
            for key, value in changes.items():
                if key in ("confirm", "accept") and isinstance(value, Mapping):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            config = parse_config(bot.kind, merged)
            updated = Bot(bot.kind, config, bot.user_id, bot.communications_id,
                          bot.active if active is None else active)
            async with self.exchange.store.transaction() as tx:
                if config.markets != bot.config.markets:
                    await self._check_markets(tx, config.markets)
                if config.balance != bot.config.balance:
                    await tx.set_balance(bot.user_id, 0, config.balance, self.clock.now())
                await self._store(tx, [updated if b is bot else b for b in self._bots.values()])
                tx.on_commit(lambda: self._apply_update(bot, config, updated.active))
        return bot.describe()

    async def remove(self, name: str) -> None:
        """Stop and forget counterparty ``name``; its account and history stay."""
        async with self._lock:
            bot = self._bot(name)
            async with self.exchange.store.transaction() as tx:
                await self._store(tx, [b for b in self._bots.values() if b is not bot])
                tx.on_commit(lambda: self._unregister(bot))

    def _bot(self, name: str) -> Bot:
        bot = self._bots.get(name)
        if bot is None:
            raise NotFound(f"counterparty {name} not found", message="counterparty not found")
        return bot

    async def _check_markets(self, tx: Transaction, markets: tuple[str, ...] | None) -> None:
        for ticker in markets or ():
            if await tx.get_market(ticker) is None:
                raise InvalidParameters(f"market {ticker} not found")

    async def _store(self, tx: Transaction, bots: Iterable[Bot]) -> None:
        await tx.set_meta(CONFIG_KEY, json.dumps({"version": 1,
                                                  "counterparties": [b.stored() for b in bots]}))

    def _register(self, bot: Bot) -> None:
        self._bots[bot.name] = bot
        self._by_user[bot.user_id] = bot
        self._arm_tick(bot)

    def _unregister(self, bot: Bot) -> None:
        self._bots.pop(bot.name, None)
        self._by_user.pop(bot.user_id, None)
        self._cancel_all(bot)

    def _apply_update(self, bot: Bot, config: Config, active: bool) -> None:
        reseed = config.seed != bot.config.seed
        interval_changed = (isinstance(config, RequesterConfig)
                            and isinstance(bot.config, RequesterConfig)
                            and config.interval != bot.config.interval)
        bot.config = config
        if reseed:
            bot.reseed()
        if not active:
            bot.active = False
            self._cancel_all(bot)
            return
        resumed = not bot.active
        bot.active = True
        if resumed or interval_changed:
            self._drop([bot.tick] if bot.tick is not None else [])
            bot.tick = None
            self._arm_tick(bot)

    # Timers -----------------------------------------------------------------------------------

    def _schedule(self, bot: Bot, action: str, subject: str, due: Instant) -> int:
        timer_id = self._next_id
        self._next_id += 1
        self._pending[timer_id] = Reaction(bot.name, action, subject)
        bot.timers.add(timer_id)
        self.timers.add((Timer(due, timer_id, TIMER_KIND, f"{bot.name}:{action}:{subject}"),))
        return timer_id

    def _drop(self, timer_ids: Iterable[int]) -> None:
        dropped = [t for t in timer_ids if self._pending.pop(t, None) is not None]
        if dropped:
            self.timers.drop(dropped)

    def _cancel_all(self, bot: Bot) -> None:
        self._drop(list(bot.timers))
        bot.timers.clear()
        bot.deciding.clear()
        bot.tick = None

    def _arm_tick(self, bot: Bot, after: Instant | None = None) -> None:
        config = bot.config
        if (bot.active and isinstance(config, RequesterConfig) and config.interval is not None
                and bot.tick is None):
            now = self.clock.now()
            # A tick that fell behind (a stalled system clock) skips the turns it missed.
            due = max((now if after is None else after) + config.interval, now)
            bot.tick = self._schedule(bot, "rfq", "interval", due)

    @staticmethod
    def owns(timer: Timer) -> bool:
        """Return True if ``timer`` is a counterparty's (the scheduler routes it here)."""
        return timer.kind == TIMER_KIND

    async def fire(self, timer: Timer) -> None:
        """Carry out the reaction whose timer fell due."""
        reaction = self._pending.pop(timer.id, None)
        if reaction is None:
            return
        bot = self._bots.get(reaction.bot)
        if bot is None:
            return
        bot.timers.discard(timer.id)
        if not bot.active:
            return
        if reaction.action == "quote":
            await actions.quote(self.exchange, bot, reaction.subject)
        elif reaction.action == "confirm":
            await actions.confirm(self.exchange, bot, reaction.subject)
        elif reaction.action == "decide":
            bot.deciding.pop(reaction.subject, None)
            await actions.decide(self.exchange, bot, reaction.subject)
        elif reaction.action == "rfq":
            bot.tick = None
            try:
                await self.create_rfq(bot)
            except SandboxError as exc:
                log.debug("%s could not create an interval rfq: %s", bot.name, exc)
            finally:
                self._arm_tick(bot, after=timer.due)

    # Reacting to events -----------------------------------------------------------------------

    def on_events(self, events: Sequence[Event]) -> None:
        """Schedule the reactions a batch of committed events calls for (never blocks)."""
        if not self._bots:
            return
        for event in events:
            if isinstance(event, RfqCreated):
                self._rfq_created(event.rfq)
            elif isinstance(event, QuoteCreated):
                self._quote_created(event.quote)
            elif isinstance(event, QuoteAccepted):
                self._quote_accepted(event.quote)
            elif isinstance(event, QuoteExecuted):
                self._quote_executed(event.quote)
            elif isinstance(event, QuoteCancelled):
                self._quote_cancelled(event.quote)
            elif isinstance(event, RfqDeleted):
                self._rfq_deleted(event.rfq)

    def _rfq_created(self, rfq: Rfq) -> None:
        for bot in self._bots.values():
            config = bot.config
            if (bot.kind != MAKER or not bot.active or bot.user_id == rfq.creator_user_id
                    or not isinstance(config, MakerConfig)):
                continue
            if config.markets is not None and rfq.market_ticker not in config.markets:
                continue
            self._schedule(bot, "quote", rfq.id, rfq.created_ts + config.quote_delay)

    def _quote_created(self, quote: Quote) -> None:
        bot = self._by_user.get(quote.rfq_creator_user_id)
        if bot is None or not bot.active or not isinstance(bot.config, RequesterConfig):
            return
        if quote.rfq_id not in bot.deciding:
            bot.deciding[quote.rfq_id] = self._schedule(
                bot, "decide", quote.rfq_id, quote.created_ts + bot.config.accept_delay)

    def _quote_accepted(self, quote: Quote) -> None:
        bot = self._by_user.get(quote.creator_user_id)
        if bot is None or not bot.active or not isinstance(bot.config, MakerConfig):
            return
        confirm = bot.config.confirm
        # Counted from the event's own instant: a listener may run after the clock moved on.
        accepted = quote.accepted_ts if quote.accepted_ts is not None else self.clock.now()
        if confirm.policy is ConfirmPolicy.NEVER:
            bot.record(accepted, "confirm", "declined", quote_id=quote.id, policy="never")
        elif confirm.policy is ConfirmPolicy.LATE:
            deadline = quote.confirm_deadline if quote.confirm_deadline is not None else accepted
            self._schedule(bot, "confirm", quote.id, deadline + confirm.late_by)
        elif (confirm.policy is ConfirmPolicy.ALWAYS
              or bot.rng.random() < confirm.probability):
            self._schedule(bot, "confirm", quote.id, accepted + confirm.delay)
        else:
            bot.record(accepted, "confirm", "declined", quote_id=quote.id,
                       policy="probability")

    def _quote_executed(self, quote: Quote) -> None:
        now = quote.executed_ts if quote.executed_ts is not None else self.clock.now()
        for user_id, role in ((quote.creator_user_id, "maker"),
                              (quote.rfq_creator_user_id, "requester")):
            bot = self._by_user.get(user_id)
            if bot is not None:
                bot.record(now, "executed", quote_id=quote.id, rfq_id=quote.rfq_id, role=role)

    def _quote_cancelled(self, quote: Quote) -> None:
        bot = self._by_user.get(quote.creator_user_id)
        if bot is not None and quote.cancellation_reason != "replaced":
            when = quote.cancelled_ts if quote.cancelled_ts is not None else self.clock.now()
            bot.record(when, "quote_cancelled", quote_id=quote.id,
                       reason=quote.cancellation_reason)

    def _rfq_deleted(self, rfq: Rfq) -> None:
        bot = self._by_user.get(rfq.creator_user_id)
        if bot is None:
            return
        pending = bot.deciding.pop(rfq.id, None)
        if pending is not None:
            bot.timers.discard(pending)
            self._drop([pending])

    async def request_rfq(self, name: str, market: str | None = None,
                          contracts: int | None = None) -> Rfq:
        """Have auto-requester ``name`` create an RFQ now (on ``market``, or its next one)."""
        bot = self._bot(name)
        if bot.kind != REQUESTER:
            raise InvalidParameters(f"counterparty {name} is a maker; only requesters create "
                                    "rfqs")
        if not bot.active:
            raise InvalidParameters(f"counterparty {name} is paused; set active to true first")
        if contracts is not None and contracts <= 0:
            raise InvalidParameters("contracts must be positive")
        return await self.create_rfq(bot, market, contracts)

    async def create_rfq(self, bot: Bot, market: str | None = None,
                         contracts: int | None = None) -> Rfq:
        """Create an RFQ for ``bot``; without ``market``, on its next market without one open."""
        return await actions.create_rfq(self.exchange, bot, market, contracts)


def _decode(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        data = json.loads(raw)
        items = data["counterparties"]
    except (ValueError, KeyError, TypeError):
        log.error("the stored counterparties do not parse; starting without them")
        return []
    return [item for item in items if isinstance(item, dict)]


__all__ = ["TIMER_KIND", "Bot", "Counterparties", "Defaults"]
