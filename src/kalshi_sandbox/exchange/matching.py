"""Orders meet the book inside a unit of work: match, settle, store, and say what changed.

``Matcher.submit`` is the one path every order takes to the book, whether it came through
the order endpoints or from an RFQ's execution: it asks the domain what the order does
(domain/orders.py ``place``), checks every trade settles (domain/settlement.py ``settle``,
the same money moves an RFQ execution makes), then changes the book, the orders, fills,
positions, balances and the market together, in the caller's transaction, and collects the
events (``orderbook_delta`` level changes, fills, orders, positions, the market's figures)
that are published once it commits.

A resting order whose owner can no longer pay for its trade when an order meets it is
cancelled and passed over (docs/behaviour.md, "Order book").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kalshi_sandbox.domain.book import Book, Delta, Plan, SelfTradePrevention
from kalshi_sandbox.domain.errors import (
    InsufficientBalance,
    InvalidOrderSize,
    OrderAlreadyExists,
)
from kalshi_sandbox.domain.events import (
    FillCreated,
    LevelChanged,
    MarketUpdated,
    OrderGroupChanged,
    OrderUpdated,
    PositionChanged,
)
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.orders import (
    OrderRequest,
    Placement,
    check_group,
    check_order,
    new_order,
    place,
    placement_cost,
    reducible,
    resting,
)
from kalshi_sandbox.domain.portfolio import (
    Fill,
    Order,
    OrderStatus,
    Position,
    TimeInForce,
    empty_position,
)
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.domain.settlement import (
    Settled,
    match_legs,
    open_interest_change,
    settle,
    trade_fills,
)
from kalshi_sandbox.domain.timer import TimerKind
from kalshi_sandbox.exchange.books import Books
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.unit import UnitOfWork

INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
"""``last_update_reason`` of a resting order cancelled because its owner could not pay."""


@dataclass(slots=True)
class Submitted:
    """What an order did: the order as stored and its fills (the submitter's own)."""

    order: Order
    fills: list[Fill] = field(default_factory=list)

    @property
    def fill_count(self) -> int:
        return self.order.fill_count

    def average_price(self) -> int | None:
        """Return the volume-weighted YES price of the fills, in $0.0001 units."""
        if not self.fills:
            return None
        total = sum(f.count for f in self.fills)
        return round(sum(f.yes_price * f.count for f in self.fills) / total)

    def average_fee(self) -> int | None:
        """Return the fee paid per contract, in micro-dollars."""
        if not self.fills:
            return None
        total = sum(f.count for f in self.fills)
        return round(sum(f.fee for f in self.fills) * 100 / total)


@dataclass(slots=True)
class _Trade:
    maker: Order
    count: int
    yes_price: int
    settled: list[Settled]


class Matcher:
    """Submits orders to the books and keeps rows, books and events in step."""

    def __init__(self, books: Books, ids: IdGenerator, rules: Rules) -> None:
        self.books = books
        self.ids = ids
        self.rules = rules

    async def submit(self, w: UnitOfWork, user_id: str, request: OrderRequest, *,
                     check_funds: bool = True, block_with: str | None = None) -> Submitted:
        """Place ``request`` for ``user_id`` inside ``w``; raise Kalshi's refusals.

        ``block_with`` names a resting order whose trades with this one are block trades
        (an RFQ's maker order).
        """
        tx = w.tx
        market = check_order(request, await tx.get_market(request.ticker), w.now)
        position = await self._position(w, user_id, request.subaccount, market.ticker)
        if request.reduce_only:
            count = min(request.count, reducible(position.position, request.side))
            if count <= 0:
                raise InvalidOrderSize("a reduce-only order needs a position to reduce")
            request = replace(request, count=count)
        if request.order_group_id is not None:
            check_group(await tx.get_order_group(request.order_group_id), user_id,
                        request.subaccount)
        if request.client_order_id and await tx.order_by_client_id(
                user_id, request.client_order_id) is not None:
            raise OrderAlreadyExists(
                f"an order with client_order_id {request.client_order_id} already exists")
        if check_funds:
            fee = placement_cost(request, self.rules.taker_fee_bps)[1]
            balance = await tx.get_balance(user_id, request.subaccount)
            needed = position.cash_needed(request.side, request.yes_price, request.count, fee)
            if needed > balance:
                raise InsufficientBalance(
                    f"this order needs ${needed / 1e6:.4f} and the balance is lower")
        book = await self.books.open(w, market.ticker)
        placement, trades = await self._plan(w, book, user_id, request)
        order = new_order(self.ids.new(), user_id, request, request.count,
                          book.next_priority(), w.now)
        return await self._carry_out(w, market, book, placement, trades, order, block_with,
                                     created=True)

    async def amend(self, w: UnitOfWork, order: Order, yes_price: int,
                    remaining: int) -> Submitted:
        """Re-price or grow a resting order: it leaves the book and comes back as a new
        arrival at the back of its price, trading first if it now crosses."""
        market = await w.tx.get_market(order.ticker)
        assert market is not None
        book = await self.books.open(w, order.ticker)
        book.remove(order.order_id)
        request = OrderRequest(
            order.ticker, order.side, yes_price, remaining, TimeInForce.GOOD_TILL_CANCELED,
            SelfTradePrevention(order.self_trade_prevention or "taker_at_cross"),
            post_only=order.post_only, subaccount=order.subaccount)
        placement, trades = await self._plan(w, book, order.user_id, request)
        moved = replace(order, yes_price=yes_price, priority=book.next_priority(),
                        reduced=order.initial_count - order.fill_count - remaining,
                        updated_ts=w.now)
        return await self._carry_out(w, market, book, placement, trades, moved, None,
                                     created=False)

    async def _carry_out(self, w: UnitOfWork, market: Market, book: Book,
                         placement: Placement, trades: list[_Trade], order: Order,
                         block_with: str | None, *, created: bool) -> Submitted:
        submitted = Submitted(order)
        mark = await self._trade(w, market, book, placement.plan, trades, submitted,
                                 block_with)
        order = submitted.order
        if placement.rests:
            book.add(resting(order))
            if created and order.expiration_ts is not None:
                await w.add_timer(TimerKind.ORDER_EXPIRY, order.order_id, order.expiration_ts)
        elif order.status is OrderStatus.RESTING:
            order = order.canceled(w.now, placement.reason)
            if not created:
                await w.cancel_timers(order.order_id)
        submitted.order = order
        if created:
            await w.tx.insert_order(order)
        else:
            await w.tx.update_order(order)
        # The order's own event comes before its fills', as Kalshi's user_orders does.
        w.events.insert(mark, OrderUpdated(order, created=created))
        if order.order_group_id is not None and submitted.fills:
            await self._count_group(w, order.order_group_id,
                                    sum(f.count for f in submitted.fills))
        self.publish_levels(w, book)
        return submitted

    async def expire(self, w: UnitOfWork, order_id: str) -> None:
        """Cancel a resting order whose expiration time came (a timer fired)."""
        order = await w.tx.get_order(order_id)
        if order is None or order.status is not OrderStatus.RESTING:
            return
        book = await self.books.open(w, order.ticker)
        await self.cancel(w, book, order, "EXPIRED")
        self.publish_levels(w, book)

    async def _position(self, w: UnitOfWork, user_id: str, subaccount: int,
                        ticker: str) -> Position:
        return (await w.tx.get_position(user_id, subaccount, ticker)
                or empty_position(user_id, subaccount, ticker, w.now))

    async def _plan(self, w: UnitOfWork, book: Book, user_id: str,
                    request: OrderRequest) -> tuple[Placement, list[_Trade]]:
        """Return a placement whose every trade settles, cancelling makers who cannot pay."""
        tx = w.tx
        skip: set[str] = set()
        while True:
            placement = place(book, request, user_id, frozenset(skip))
            positions: dict[tuple[str, int], Position] = {}
            balances: dict[tuple[str, int], int] = {}
            trades: list[_Trade] = []
            failed: Order | None = None
            probe = (new_order("", user_id, request, request.count, 0, w.now)
                     if placement.plan.matches else None)
            for entry, take in placement.plan.matches:
                assert probe is not None
                maker = await tx.get_order(entry.order_id)
                assert maker is not None
                legs = match_legs(probe, maker.user_id, maker.subaccount, self.rules)
                keys = [(leg.user_id, leg.subaccount) for leg in legs]
                for key in keys:
                    if key not in positions:
                        positions[key] = await self._position(w, key[0], key[1], book.ticker)
                        balances[key] = await tx.get_balance(*key)
                settled = settle(entry.price, take, legs, [positions[k] for k in keys],
                                 [balances[k] for k in keys], w.now)
                if settled is None:
                    rich = [balances[keys[0]], 1 << 62]
                    if settle(entry.price, take, legs, [positions[k] for k in keys], rich,
                              w.now) is None:
                        raise InsufficientBalance(
                            "the balance does not cover this order's trades")
                    failed = maker
                    break
                for key, result in zip(keys, settled, strict=True):
                    positions[key] = result.after
                    balances[key] = result.balance
                trades.append(_Trade(maker, take, entry.price, settled))
            if failed is None:
                return placement, trades
            skip.add(failed.order_id)
            await self.cancel(w, book, failed, INSUFFICIENT_FUNDS)

    async def _trade(self, w: UnitOfWork, market: Market, book: Book, plan: Plan,
                     trades: list[_Trade], submitted: Submitted,
                     block_with: str | None) -> int:
        """Carry out ``plan``; return where in ``w.events`` the taker's own event belongs."""
        tx = w.tx
        for entry in plan.cancelled:
            own = await tx.get_order(entry.order_id)
            assert own is not None
            await self._store_cancel(w, own, "MAKER_CANCEL_FOR_SELF_TRADE_PREVENTION")
        book.apply(plan)
        mark = len(w.events)
        if not trades:
            return mark
        taker = submitted.order
        volume = oi_change = last = 0
        groups: dict[str, int] = {}
        for trade in trades:
            maker, count, price = trade.maker, trade.count, trade.yes_price
            taker_result, maker_result = trade.settled
            taker = taker.filled(count, price, taker_result.fee, taker=True, now=w.now)
            maker = maker.filled(count, price, maker_result.fee, taker=False, now=w.now)
            await tx.update_order(maker)
            fills = trade_fills(trade.settled, (taker.order_id, maker.order_id),
                                market.ticker, price, count, self.ids, w.now,
                                block_trade=(block_with == maker.order_id
                                             and self.rules.block_trade_fills))
            for result, fill in zip(trade.settled, fills, strict=True):
                await tx.insert_fill(fill)
                await tx.upsert_position(result.after)
                await tx.set_balance(result.leg.user_id, result.leg.subaccount,
                                     result.balance, w.now)
            w.events.append(OrderUpdated(maker, created=False))
            for result, fill in zip(trade.settled, fills, strict=True):
                w.events.append(FillCreated(fill, result.after.position))
                w.events.append(PositionChanged(result.after))
            submitted.fills.append(fills[0])
            volume += count
            oi_change += open_interest_change(trade.settled)
            last = price
            if maker.order_group_id is not None:
                groups[maker.order_group_id] = groups.get(maker.order_group_id, 0) + count
        submitted.order = taker
        updated = market.traded(last, volume, oi_change, w.now)
        await tx.update_market(updated)
        w.events.append(MarketUpdated(updated))
        for group_id, count in groups.items():
            await self._count_group(w, group_id, count)
        return mark

    async def _count_group(self, w: UnitOfWork, group_id: str, count: int) -> None:
        """Record matched contracts in an order group; triggered, it cancels its orders."""
        group = await w.tx.get_order_group(group_id)
        if group is None:
            return
        recorded = group.record(count, w.now)
        await w.tx.update_order_group(recorded)
        if recorded.triggered and not group.triggered:
            await self.cancel_group_orders(w, group_id)
            w.events.append(OrderGroupChanged(recorded, "triggered", w.now))

    async def cancel_group_orders(self, w: UnitOfWork, group_id: str) -> int:
        """Cancel every resting order of an order group; return how many."""
        orders = await w.tx.orders_in_group(group_id)
        for order in orders:
            book = await self.books.open(w, order.ticker)
            await self.cancel(w, book, order, "ORDER_GROUP_CANCEL")
            self.publish_levels(w, book)
        return len(orders)

    async def cancel(self, w: UnitOfWork, book: Book, order: Order,
                     reason: str | None = None) -> Order:
        """Take a resting order off ``book`` and store it cancelled."""
        book.remove(order.order_id)
        return await self._store_cancel(w, order, reason)

    async def _store_cancel(self, w: UnitOfWork, order: Order, reason: str | None) -> Order:
        cancelled = order.canceled(w.now, reason)
        await w.tx.update_order(cancelled)
        await w.cancel_timers(order.order_id)
        w.events.append(OrderUpdated(cancelled, created=False))
        return cancelled

    async def resize(self, w: UnitOfWork, book: Book, order: Order, remaining: int,
                     reason: str) -> Order:
        """Change a resting order's count in place (keeping its priority) and store it."""
        book.resize(order.order_id, remaining)
        changed = order.resized(remaining, w.now, reason)
        await w.tx.update_order(changed)
        if changed.status is not OrderStatus.RESTING:
            await w.cancel_timers(order.order_id)
        w.events.append(OrderUpdated(changed, created=False))
        return changed

    def publish_levels(self, w: UnitOfWork, book: Book) -> None:
        """Turn the book's level changes into ``orderbook_delta`` events."""
        for delta in book.drain():
            w.events.append(level_changed(book.ticker, delta, w.now))


def level_changed(ticker: str, delta: Delta, now: int) -> LevelChanged:
    """Return the event for one level change."""
    order = delta.order
    return LevelChanged(ticker, delta.side, delta.price, delta.delta, order.user_id,
                        order.subaccount, order.client_order_id, now)


__all__ = ["INSUFFICIENT_FUNDS", "Matcher", "Submitted", "level_changed"]
