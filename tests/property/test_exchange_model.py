"""A Hypothesis state machine drives the exchange and checks it against a plain model.

Random sequences of create RFQ / quote / accept / confirm / delete / advance-the-clock run
in process (SQLite in memory, manual clock, the real scheduler). The model predicts each
call's outcome (success or which error) from the documented rules, and after every step
the store must agree with it: quote and RFQ statuses, balances and positions to the
micro-dollar. Invariants on top: money is conserved (balances + fees collected + $1 locked
per open contract pair change only by what the operator deposits), positions net to zero in
every market, no quote executes after its confirmation window lapsed, and every executed
quote has exactly two fills.

Past 500 lines on purpose: the model and the state machine that drives it are read together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import (
    InsufficientBalance,
    InvalidParameters,
    NotFound,
    QuoteExpired,
    RfqAlreadyExists,
    RfqClosed,
    SandboxError,
)
from kalshi_sandbox.domain.money import ONE_DOLLAR, trading_fee
from kalshi_sandbox.domain.queries import PortfolioQuery
from kalshi_sandbox.domain.quote import QuoteStatus, Side, size_for_target
from kalshi_sandbox.domain.rfq import RfqStatus
from kalshi_sandbox.exchange.commands import Actor, CreateQuote, CreateRfq
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.storage.postgres import PostgresStore
from tests.service.harness import Harness, make_harness
from tests.support import postgres

T = TypeVar("T")


class HasStatus(Protocol):
    @property
    def status(self) -> object: ...


S = TypeVar("S", bound=HasStatus)

STANDARD, FAST = "KXPROP-26DEC31-T50", "KXMVEPROP-26DEC31-B1"
WINDOWS = {STANDARD: (30 * MICROS, 15 * MICROS), FAST: (3 * MICROS, 1 * MICROS)}
TAKER_BPS, MAKER_BPS = 700, 175
BALANCES = (20_000_000, 50_000_000, 200_000_000)

OPEN, ACCEPTED, CONFIRMED = QuoteStatus.OPEN, QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED
EXECUTED, CANCELLED = QuoteStatus.EXECUTED, QuoteStatus.CANCELLED

Outcome = type[SandboxError] | None


@dataclass
class ModelRfq:
    id: str
    creator: int
    market: str
    contracts: int
    target: int | None
    excludes_fees: bool
    status: RfqStatus = RfqStatus.OPEN
    reason: str | None = None


@dataclass
class ModelQuote:
    id: str
    rfq_id: str
    maker: int
    requester: int
    market: str
    yes_bid: int
    no_bid: int
    yes_contracts: int
    no_contracts: int
    status: QuoteStatus = OPEN
    reason: str | None = None
    side: Side | None = None
    deadline: int | None = None
    execute_at: int | None = None

    def maker_bid(self, side: Side) -> int:
        """Return the maker's bid the requester takes by accepting ``side``."""
        return self.no_bid if side is Side.YES else self.yes_bid

    def count(self, side: Side) -> int:
        return self.yes_contracts if side is Side.YES else self.no_contracts


@dataclass
class Model:
    """What the exchange should hold, computed without the exchange's code."""

    balances: list[int] = field(default_factory=lambda: list(BALANCES))
    positions: dict[tuple[int, str], int] = field(default_factory=dict)
    fees: int = 0
    rfqs: dict[str, ModelRfq] = field(default_factory=dict)
    quotes: dict[str, ModelQuote] = field(default_factory=dict)
    timers: list[tuple[int, int, str, str]] = field(default_factory=list)
    """(due, sequence, kind, quote id), in the order the exchange creates them."""
    sequence: int = 0
    executed: list[str] = field(default_factory=list)
    deposited: int = 0
    """Net money the operator paid in (or, if negative, took out) by setting balances."""

    def cash(self, user: int, market: str, side: Side, price: int, count: int,
             fee: int) -> int:
        """Return the cash change of ``user`` buying ``count`` of ``side`` at ``price``.

        Buying against a held position closes it: each closed pair pays back $1.
        """
        held = self.positions.get((user, market), 0)
        buying = count if side is Side.YES else -count
        closing = min(abs(held), count) if held and (held > 0) != (buying > 0) else 0
        return -price * count - fee + ONE_DOLLAR * closing

    def buy(self, user: int, market: str, side: Side, price: int, count: int,
            fee: int) -> None:
        self.balances[user] += self.cash(user, market, side, price, count, fee)
        held = self.positions.get((user, market), 0)
        self.positions[(user, market)] = held + (count if side is Side.YES else -count)
        self.fees += fee

    def need(self, user: int, market: str, side: Side, price: int, count: int,
             fee: int) -> int:
        return max(0, -self.cash(user, market, side, price, count, fee))

    def add_timer(self, due: int, kind: str, subject: str) -> None:
        self.sequence += 1
        self.timers.append((due, self.sequence, kind, subject))

    def drop_timers(self, subject: str) -> None:
        self.timers = [t for t in self.timers if t[3] != subject]

    def cancel(self, quote: ModelQuote, reason: str) -> None:
        quote.status, quote.reason = CANCELLED, reason
        self.drop_timers(quote.id)

    def close(self, rfq: ModelRfq, reason: str) -> None:
        for quote in self.quotes.values():
            if quote.rfq_id == rfq.id and quote.status in (OPEN, ACCEPTED):
                self.cancel(quote, "rfq_executed" if reason == "executed" else "rfq_closed")
        rfq.status, rfq.reason = RfqStatus.CLOSED, reason
        self.drop_timers(rfq.id)

    def live_on(self, rfq_id: str, *statuses: QuoteStatus) -> list[ModelQuote]:
        return [q for q in self.quotes.values() if q.rfq_id == rfq_id and q.status in statuses]

    def fire(self, due: int, kind: str, quote_id: str) -> None:
        quote = self.quotes[quote_id]
        if kind == "deadline":
            if quote.status is ACCEPTED:
                self.cancel(quote, "confirmation_timeout")
            return
        if quote.status is not CONFIRMED:
            return
        assert quote.side is not None
        side, bid, count = quote.side, quote.maker_bid(quote.side), quote.count(quote.side)
        yes_price = ONE_DOLLAR - bid if side is Side.YES else bid
        legs = ((quote.requester, side, ONE_DOLLAR - bid, trading_fee(count, yes_price,
                                                                      TAKER_BPS)),
                (quote.maker, side.opposite, bid, trading_fee(count, yes_price, MAKER_BPS)))
        for user, leg_side, price, fee in legs:
            if self.balances[user] + self.cash(user, quote.market, leg_side, price, count,
                                               fee) < 0:
                self.cancel(quote, "execution_failed")
                return
        for user, leg_side, price, fee in legs:
            self.buy(user, quote.market, leg_side, price, count, fee)
        quote.status = EXECUTED
        self.drop_timers(quote.id)
        self.executed.append(quote.id)
        self.close(self.rfqs[quote.rfq_id], "executed")


prices = st.one_of(
    st.integers(0, 99).map(lambda cents: cents * 100),
    st.sampled_from([50, 4_550, 9_999, 10_000]),
)


@st.composite
def bids(draw: st.DrawFn) -> tuple[int, int]:
    """Mostly valid two-sided or one-sided bids on the cent grid; sometimes anything."""
    if draw(st.integers(0, 4)) == 0:
        return draw(prices), draw(prices)
    yes_cents = draw(st.integers(0, 99))
    no_cents = draw(st.integers(0 if yes_cents else 1, 100 - max(yes_cents, 1)))
    return yes_cents * 100, no_cents * 100


amounts = st.one_of(
    st.sampled_from([1, MICROS // 2, MICROS, 3 * MICROS - 1, 3 * MICROS, 15 * MICROS - 1,
                     15 * MICROS, 30 * MICROS - 1, 30 * MICROS]),
    st.integers(0, 60 * MICROS),
)


class ExchangeMachine(RuleBasedStateMachine):
    """Drive the exchange with random calls; hold it to the model after each one."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.model = Model()
        self.harness: Harness = self.run(make_harness(store=self.new_store()))
        self.users: list[Actor] = []

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def new_store(self) -> Store | None:
        """Return the store to run against (None: an in-memory SQLite database)."""
        return None

    def teardown(self) -> None:
        self.run(self.harness.store.close())
        self.loop.close()

    @initialize()
    def open_accounts_and_markets(self) -> None:
        self.run(self.harness.market(STANDARD))
        self.run(self.harness.market(FAST, hvm=True))
        self.users = [self.run(self.harness.account(f"u{i}", balance))
                      for i, balance in enumerate(BALANCES)]

    @property
    def now(self) -> int:
        return self.harness.clock.now()

    def attempt(self, expected: Outcome, call: Awaitable[T]) -> T | None:
        """Run ``call``; it must fail with ``expected`` (and change nothing) or succeed."""
        name = getattr(call, "__qualname__", "call").rsplit(".", 1)[-1]
        event(f"{name}: {expected.__name__ if expected else 'ok'}")
        before = self.run(self.harness.snapshot()) if expected else None
        published = len(self.harness.publisher.batches)
        failure: SandboxError | None = None
        try:
            result = self.run(call)
        except SandboxError as error:
            failure = error
        if failure is None:
            assert expected is None, f"expected {expected.__name__}, but the call succeeded"
            return result
        assert type(failure) is expected, f"expected {expected}, got {failure!r}"
        # A confirm after the window voids the quote as it reports the expiry.
        if expected is not QuoteExpired:
            assert self.run(self.harness.snapshot()) == before
            assert len(self.harness.publisher.batches) == published
        return None

    def pick(self, items: dict[str, S], index: int, live: bool = False,
             statuses: tuple[object, ...] = ()) -> S:
        """Pick an item by index, among those in ``statuses`` if ``live`` and there are any."""
        pool = list(items.values())
        if live:
            pool = [item for item in pool if item.status in statuses] or pool
        return pool[index % len(pool)]

    # Rules -------------------------------------------------------------------------------

    @rule(user=st.integers(0, 2), market=st.sampled_from([STANDARD, FAST]),
          contracts=st.one_of(st.integers(1, 30).map(lambda n: n * 100),
                              st.integers(1, 3_000)),
          target_cost=st.one_of(st.none(), st.integers(1, 40).map(lambda d: d * 1_000_000)),
          excludes_fees=st.booleans(), replace_existing=st.booleans())
    def create_rfq(self, user: int, market: str, contracts: int, target_cost: int | None,
                   excludes_fees: bool, replace_existing: bool) -> None:
        m, target = self.model, target_cost
        expected: Outcome = None
        replaced: list[ModelRfq] = []
        if target is not None and target > m.balances[user]:
            expected = InsufficientBalance
        else:
            mine = [r for r in m.rfqs.values() if r.creator == user
                    and r.status is RfqStatus.OPEN]
            if replace_existing:
                replaced = [r for r in mine if not m.live_on(r.id, CONFIRMED)]
            if any(r.market == market for r in mine if r not in replaced):
                expected = RfqAlreadyExists
        rfq = self.attempt(expected, self.harness.exchange.create_rfq(
            self.users[user],
            CreateRfq(market_ticker=market, rest_remainder=False,
                      contracts=None if target else contracts, target_cost=target,
                      target_cost_excludes_fees=bool(target) and excludes_fees,
                      replace_existing=replace_existing)))
        if rfq is not None:
            for old in replaced:
                m.close(old, "replaced")
            m.rfqs[rfq.id] = ModelRfq(rfq.id, user, market, 0 if target else contracts,
                                      target, bool(target) and excludes_fees)

    @precondition(lambda self: self.model.rfqs)
    @rule(index=st.integers(0, 50), live=st.integers(0, 4), offset=st.integers(0, 5),
          quoted=bids())
    def create_quote(self, index: int, live: int, offset: int,
                     quoted: tuple[int, int]) -> None:
        m = self.model
        rfq = self.pick(m.rfqs, index, live > 0, (RfqStatus.OPEN,))
        # Mostly someone other than the requester quotes.
        maker = (rfq.creator + (1, 2, 1, 2, 1, 0)[offset]) % 3
        yes_bid, no_bid = quoted
        sizes = [0, 0]
        for i, bid in enumerate((no_bid, yes_bid)):
            if bid == 0:
                continue
            if rfq.target is None:
                sizes[i] = rfq.contracts
            else:
                sizes[i] = size_for_target(rfq.target, ONE_DOLLAR - bid,
                                           taker_fee_bps=TAKER_BPS,
                                           excludes_fees=rfq.excludes_fees)
        on_cents = all(p % 100 == 0 and p < ONE_DOLLAR for p in (yes_bid, no_bid))
        previous = [q for q in m.live_on(rfq.id, OPEN, ACCEPTED, CONFIRMED) if q.maker == maker]
        expected: Outcome = None
        if rfq.status is RfqStatus.CLOSED:
            expected = RfqClosed
        elif (rfq.creator == maker or not on_cents or yes_bid + no_bid == 0
              or yes_bid + no_bid > ONE_DOLLAR or sizes == [0, 0]):
            expected = InvalidParameters
        else:
            worst = 0
            for side, count in ((Side.YES, sizes[0]), (Side.NO, sizes[1])):
                bid = no_bid if side is Side.YES else yes_bid
                if count and bid:
                    yes_price = ONE_DOLLAR - bid if side is Side.YES else bid
                    fee = trading_fee(count, yes_price, MAKER_BPS)
                    worst = max(worst, m.need(maker, rfq.market, side.opposite, bid, count,
                                              fee))
            if worst > m.balances[maker]:
                expected = InsufficientBalance
            elif any(q.status is not OPEN for q in previous):
                expected = InvalidParameters
        quote = self.attempt(expected, self.harness.exchange.create_quote(
            self.users[maker],
            CreateQuote(rfq_id=rfq.id, yes_bid=yes_bid, no_bid=no_bid, rest_remainder=False)))
        if quote is not None:
            for old in previous:
                m.cancel(old, "replaced")
            m.quotes[quote.id] = ModelQuote(quote.id, rfq.id, maker, rfq.creator, rfq.market,
                                            yes_bid, no_bid, sizes[0], sizes[1])

    @precondition(lambda self: self.model.quotes)
    @rule(index=st.integers(0, 50), live=st.integers(0, 4), side=st.sampled_from(Side),
          stranger=st.integers(0, 5))
    def accept(self, index: int, live: int, side: Side, stranger: int) -> None:
        m = self.model
        quote = self.pick(m.quotes, index, live > 0, (OPEN,))
        actor = quote.maker if stranger == 0 else quote.requester
        rfq = m.rfqs[quote.rfq_id]
        bid, count = quote.maker_bid(side), quote.count(side)
        yes_price = ONE_DOLLAR - bid if side is Side.YES else bid
        expected: Outcome = None
        if actor != quote.requester:
            expected = NotFound
        elif rfq.status is RfqStatus.CLOSED:
            expected = RfqClosed
        elif (quote.status is not OPEN or m.live_on(rfq.id, ACCEPTED, CONFIRMED)
              or bid == 0 or count == 0):
            expected = InvalidParameters
        elif m.need(actor, quote.market, side, ONE_DOLLAR - bid, count,
                    trading_fee(count, yes_price, TAKER_BPS)) > m.balances[actor]:
            expected = InsufficientBalance
        accepted = self.attempt(expected, self.harness.exchange.accept_quote(
            self.users[actor], quote.id, side))
        if accepted is not None:
            window, _ = WINDOWS[quote.market]
            quote.status, quote.side, quote.deadline = ACCEPTED, side, self.now + window
            m.add_timer(quote.deadline, "deadline", quote.id)

    @precondition(lambda self: self.model.quotes)
    @rule(index=st.integers(0, 50), live=st.integers(0, 4), stranger=st.integers(0, 5))
    def confirm(self, index: int, live: int, stranger: int) -> None:
        m = self.model
        quote = self.pick(m.quotes, index, live > 0, (ACCEPTED,))
        actor = quote.requester if stranger == 0 else quote.maker
        rfq = m.rfqs[quote.rfq_id]
        expected: Outcome = None
        lapsed = (quote.status is ACCEPTED and quote.deadline is not None
                  and self.now >= quote.deadline)
        if actor != quote.maker:
            expected = NotFound
        elif quote.status in (CONFIRMED, EXECUTED):
            expected = InvalidParameters
        elif lapsed:
            expected = QuoteExpired
        elif rfq.status is RfqStatus.CLOSED:
            expected = RfqClosed
        elif quote.status is CANCELLED:
            expected = QuoteExpired
        elif quote.status is OPEN:
            expected = InvalidParameters
        else:
            assert quote.side is not None
            side, bid = quote.side, quote.maker_bid(quote.side)
            count = quote.count(side)
            yes_price = ONE_DOLLAR - bid if side is Side.YES else bid
            if m.need(actor, quote.market, side.opposite, bid, count,
                      trading_fee(count, yes_price, MAKER_BPS)) > m.balances[actor]:
                expected = InsufficientBalance
        self.attempt(expected, self.harness.exchange.confirm_quote(self.users[actor],
                                                                    quote.id))
        if lapsed and actor == quote.maker:
            m.cancel(quote, "confirmation_timeout")
        elif expected is None:
            _, delay = WINDOWS[quote.market]
            quote.status, quote.execute_at = CONFIRMED, self.now + delay
            m.drop_timers(quote.id)
            m.add_timer(quote.execute_at, "execute", quote.id)

    @precondition(lambda self: self.model.rfqs)
    @rule(index=st.integers(0, 50), live=st.booleans(), stranger=st.booleans())
    def delete_rfq(self, index: int, live: bool, stranger: bool) -> None:
        m = self.model
        rfq = self.pick(m.rfqs, index, live, (RfqStatus.OPEN,))
        actor = (rfq.creator + 1) % 3 if stranger else rfq.creator
        expected: Outcome = None
        if stranger:
            expected = NotFound
        elif rfq.status is RfqStatus.CLOSED:
            expected = RfqClosed
        elif m.live_on(rfq.id, CONFIRMED):
            expected = InvalidParameters
        self.attempt(expected, self.harness.exchange.delete_rfq(self.users[actor], rfq.id))
        if expected is None:
            m.close(rfq, "deleted_by_user")

    @precondition(lambda self: self.model.quotes)
    @rule(index=st.integers(0, 50), live=st.booleans())
    def delete_quote(self, index: int, live: bool) -> None:
        m = self.model
        quote = self.pick(m.quotes, index, live, (OPEN, ACCEPTED))
        expected: Outcome = None
        if quote.status in (CONFIRMED, EXECUTED, CANCELLED):
            expected = InvalidParameters
        self.attempt(expected, self.harness.exchange.delete_quote(self.users[quote.maker],
                                                                   quote.id))
        if expected is None:
            m.cancel(quote, "deleted_by_user")

    @rule(side=st.sampled_from(Side), offset=st.integers(0, 5), quoted=bids())
    def progress(self, side: Side, offset: int, quoted: tuple[int, int]) -> None:
        """Move the most advanced live quote one step on (a uniform draw of rules rarely
        strings create, quote, accept and confirm together)."""
        m = self.model
        accepted = [q for q in m.quotes.values() if q.status is ACCEPTED]
        offered = [q for q in m.quotes.values() if q.status is OPEN]
        if accepted:
            self.confirm(index=offset, live=1, stranger=1)
        elif offered:
            self.accept(index=offset, live=1, side=side, stranger=1)
        elif any(r.status is RfqStatus.OPEN for r in m.rfqs.values()):
            self.create_quote(index=offset, live=1, offset=offset, quoted=quoted)

    @rule(user=st.integers(0, 2), dollars=st.integers(0, 60), targeted=st.booleans())
    def set_balance(self, user: int, dollars: int, targeted: bool) -> None:
        """The operator deposits or withdraws, so funds can run short after a confirm."""
        m = self.model
        busy = [q for q in m.quotes.values() if q.status in (ACCEPTED, CONFIRMED)]
        if targeted and busy:
            # A party to a trade in flight, whose next check may now fail.
            quote = busy[user % len(busy)]
            user = quote.maker if quote.status is ACCEPTED or dollars % 2 else quote.requester
        self.run(self.harness.accounts.set_balance(self.users[user].user_id, dollars * MICROS))
        m.deposited += dollars * MICROS - m.balances[user]
        m.balances[user] = dollars * MICROS

    @rule(amount=amounts)
    def advance(self, amount: int) -> None:
        m = self.model
        target = self.now + amount
        fired = 0
        while True:
            due = sorted(t for t in m.timers if t[0] <= target)
            if not due:
                break
            timer = due[0]
            m.timers.remove(timer)
            m.fire(timer[0], timer[2], timer[3])
            quote = m.quotes[timer[3]]
            event(f"timer {timer[2]}: {quote.status} {quote.reason or ''}".rstrip())
            fired += 1
        assert self.run(self.harness.advance(amount)) == fired
        assert self.now == target

    # Invariants --------------------------------------------------------------------------

    def read(self) -> dict[str, Any]:
        async def gather() -> dict[str, Any]:
            async with self.harness.store.transaction() as tx:
                return {
                    "quotes": {i: await tx.get_quote(i) for i in self.model.quotes},
                    "rfqs": {i: await tx.get_rfq(i) for i in self.model.rfqs},
                    "balances": [await tx.get_balance(u.user_id, 0) for u in self.users],
                    "positions": {(i, mk): p.position
                                  for i, u in enumerate(self.users)
                                  for mk in (STANDARD, FAST)
                                  if (p := await tx.get_position(u.user_id, 0, mk))},
                    "fills": [f for u in self.users for f in await tx.list_fills(
                        PortfolioQuery(user_id=u.user_id, limit=10_000))],
                    "timers": await tx.pending_timers(),
                }
        return self.run(gather())

    @invariant()
    def store_agrees_with_the_model(self) -> None:
        if not self.users:
            return
        m, actual = self.model, self.read()
        for quote_id, expected in m.quotes.items():
            quote = actual["quotes"][quote_id]
            assert quote is not None
            assert (quote.status, quote.cancellation_reason) == (
                expected.status, expected.reason), quote_id
            assert (quote.yes_contracts, quote.no_contracts) == (
                expected.yes_contracts, expected.no_contracts)
            assert quote.accepted_side is expected.side
        for rfq_id, expected_rfq in m.rfqs.items():
            rfq = actual["rfqs"][rfq_id]
            assert rfq is not None
            assert (rfq.status, rfq.cancellation_reason) == (expected_rfq.status,
                                                             expected_rfq.reason)
        assert actual["balances"] == m.balances
        assert actual["positions"] == {k: v for k, v in m.positions.items()
                                       if k in actual["positions"] or v}
        assert [(t.due, t.subject) for t in actual["timers"]] == [
            (t[0], t[3]) for t in sorted(m.timers)]

    @invariant()
    def money_is_conserved(self) -> None:
        if not self.users:
            return
        actual = self.read()
        fees = sum(f.fee for f in actual["fills"])
        assert fees == self.model.fees
        locked = sum(size for size in actual["positions"].values() if size > 0) * ONE_DOLLAR
        assert sum(actual["balances"]) + fees + locked == sum(BALANCES) + self.model.deposited

    @invariant()
    def positions_net_to_zero_in_every_market(self) -> None:
        if not self.users:
            return
        positions = self.read()["positions"]
        for market in (STANDARD, FAST):
            assert sum(v for (_, mk), v in positions.items() if mk == market) == 0

    @invariant()
    def executed_quotes_ran_in_time_with_two_fills(self) -> None:
        if not self.users:
            return
        actual = self.read()
        executed = [q for q in actual["quotes"].values() if q.status is EXECUTED]
        assert sorted(q.id for q in executed) == sorted(self.model.executed)
        fills_by_order: dict[str, int] = {}
        for f in actual["fills"]:
            fills_by_order[f.order_id] = fills_by_order.get(f.order_id, 0) + 1
        assert len(actual["fills"]) == 2 * len(executed)
        for quote in executed:
            assert quote.confirmed_ts is not None
            assert quote.confirm_deadline is not None
            assert quote.confirmed_ts < quote.confirm_deadline
            assert quote.executed_ts == quote.execute_at
            assert fills_by_order.get(quote.creator_order_id or "") == 1
            assert fills_by_order.get(quote.rfq_creator_order_id or "") == 1


ExchangeMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestExchangeAgainstModel = ExchangeMachine.TestCase


class PostgresExchangeMachine(ExchangeMachine):
    """The same machine over PostgreSQL, each example in a scratch schema of its own."""

    def new_store(self) -> Store | None:
        self.schema = postgres.new_schema()
        return PostgresStore(postgres.DSN, schema=self.schema, create_schema=True)

    def teardown(self) -> None:
        super().teardown()
        postgres.drop([self.schema])


# Fewer examples: each one creates and migrates a schema.
PostgresExchangeMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestExchangeAgainstModelOnPostgres = pytest.mark.postgres(postgres.skip_if_down()(
    PostgresExchangeMachine.TestCase))
