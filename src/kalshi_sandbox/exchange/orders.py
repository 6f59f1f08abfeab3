"""Order entry as use cases: place, cancel, amend, decrease, batches, order groups, queues.

Each public method is one transaction (``Exchange.work``) except the batches, whose items
are independent: each item is its own transaction and fails alone, as Kalshi answers a
batch item by item (https://docs.kalshi.com/api-reference/orders/batch-create-orders-v2).
The matching itself is exchange/matching.py's; the rules are domain/orders.py's.

``cancel_market_orders`` is the use case closing a market calls: it cancels every resting
order of the market in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalshi_sandbox.domain.account import check_subaccount
from kalshi_sandbox.domain.errors import (
    InvalidOrder,
    InvalidOrderSize,
    InvalidParameters,
    NotFound,
    SandboxError,
)
from kalshi_sandbox.domain.events import OrderGroupChanged
from kalshi_sandbox.domain.orders import (
    OrderGroup,
    OrderRequest,
    amendment,
    check_order,
    check_resting,
)
from kalshi_sandbox.domain.portfolio import Order, OrderStatus, TimeInForce
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.matching import Submitted
from kalshi_sandbox.exchange.unit import UnitOfWork

MAX_CANCEL_ALL = 10_000
"""The most orders one cancel-all call cancels (https://docs.kalshi.com/api-reference/orders/cancel-all-orders)."""

MAX_ORDER_GROUPS = 100_000
"""Order groups one user may hold (https://docs.kalshi.com/changelog, 2026-08-13)."""


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A cancelled order and how many contracts the cancel took off the book."""

    order: Order
    reduced_by: int


@dataclass(frozen=True, slots=True)
class Amended:
    """An amend's result: the order before, and what it did."""

    old: Order
    submitted: Submitted


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One resting order's place in its price level's queue."""

    order_id: str
    ticker: str
    ahead: int


class Orders:
    """The order endpoints' use cases, over one exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.matcher = exchange.matcher
        self.books = exchange.books

    # Placing -------------------------------------------------------------------------------

    async def create_order(self, actor: Actor, request: OrderRequest) -> Submitted:
        """Place an order: it trades what it can and rests or cancels the rest."""
        check_subaccount(request.subaccount)
        async with self.exchange.work() as w:
            return await self.matcher.submit(w, actor.user_id, request)

    async def batch_create(self, actor: Actor,
                           requests: list[OrderRequest]) -> list[Submitted | SandboxError]:
        """Place each order on its own; a refused one leaves its error in its place."""
        results: list[Submitted | SandboxError] = []
        for request in requests:
            try:
                results.append(await self.create_order(actor, request))
            except SandboxError as error:
                results.append(error)
        return results

    # Cancelling and changing ---------------------------------------------------------------

    async def _own(self, w: UnitOfWork, actor: Actor, order_id: str,
                   subaccount: int | None) -> Order:
        return check_resting(await w.tx.get_order(order_id), actor.user_id, subaccount)

    async def cancel_order(self, actor: Actor, order_id: str,
                           subaccount: int | None = None) -> Cancelled:
        """Cancel the caller's resting order."""
        async with self.exchange.work() as w:
            order = await self._own(w, actor, order_id, subaccount)
            return await self._cancel(w, order)

    async def _cancel(self, w: UnitOfWork, order: Order, reason: str | None = None) -> Cancelled:
        book = await self.books.open(w, order.ticker)
        reduced_by = order.remaining_count
        cancelled = await self.matcher.cancel(w, book, order, reason)
        self.matcher.publish_levels(w, book)
        return Cancelled(cancelled, reduced_by)

    async def batch_cancel(self, actor: Actor, order_ids: list[tuple[str, int | None]]
                           ) -> list[Cancelled | SandboxError]:
        """Cancel each order on its own; a refused one leaves its error in its place."""
        results: list[Cancelled | SandboxError] = []
        for order_id, subaccount in order_ids:
            try:
                results.append(await self.cancel_order(actor, order_id, subaccount))
            except SandboxError as error:
                results.append(error)
        return results

    async def cancel_all(self, actor: Actor, subaccount: int | None = None) -> int:
        """Cancel the caller's resting orders (of one subaccount); return how many."""
        async with self.exchange.work() as w:
            mine = [o for o in await w.tx.resting_orders()
                    if o.user_id == actor.user_id
                    and (subaccount is None or o.subaccount == subaccount)]
            for order in mine[:MAX_CANCEL_ALL]:
                await self._cancel(w, order)
            return min(len(mine), MAX_CANCEL_ALL)

    async def decrease_order(self, actor: Actor, order_id: str, *,
                             reduce_by: int | None = None, reduce_to: int | None = None,
                             subaccount: int | None = None) -> Order:
        """Lower a resting order's count, keeping its place; to zero cancels it."""
        if (reduce_by is None) == (reduce_to is None):
            raise InvalidParameters("exactly one of reduce_by and reduce_to is required")
        async with self.exchange.work() as w:
            order = await self._own(w, actor, order_id, subaccount)
            remaining = (order.remaining_count - reduce_by if reduce_by is not None
                         else reduce_to)
            assert remaining is not None
            if remaining < 0 or remaining > order.remaining_count:
                raise InvalidOrderSize("a decrease cannot raise the count or go below zero")
            if (reduce_by is not None and reduce_by <= 0):
                raise InvalidOrderSize("reduce_by must be positive")
            book = await self.books.open(w, order.ticker)
            changed = await self.matcher.resize(w, book, order, remaining, "Decrease")
            self.matcher.publish_levels(w, book)
            return changed

    async def amend_order(self, actor: Actor, order_id: str, *, ticker: str, side: Side,
                          yes_price: int, total: int,
                          client_order_id: str | None = None,
                          updated_client_order_id: str | None = None,
                          subaccount: int | None = None) -> Amended:
        """Change a resting order's price and total count (filled + resting)."""
        async with self.exchange.work() as w:
            order = await self._own(w, actor, order_id, subaccount)
            if order.ticker != ticker:
                raise InvalidOrder("the ticker does not match the order's",
                                   code="order_ticker_mismatch")
            if order.side is not side:
                raise InvalidOrder("the side does not match the order's",
                                   code="order_side_mismatch")
            if client_order_id and client_order_id != order.client_order_id:
                raise InvalidOrder("client_order_id does not match the order's",
                                   code="order_id_and_client_order_id_mismatch")
            market = await w.tx.get_market(order.ticker)
            assert market is not None
            probe = OrderRequest(order.ticker, side, yes_price, max(total, 1),
                                 order.time_in_force or TimeInForce.GOOD_TILL_CANCELED)
            check_order(probe, market, w.now)
            change = amendment(order, yes_price, total)
            if updated_client_order_id:
                order = replace(order, client_order_id=updated_client_order_id)
            book = await self.books.open(w, order.ticker)
            if change.remaining == 0:
                cancelled = await self.matcher.cancel(w, book, order, "Amend")
                self.matcher.publish_levels(w, book)
                return Amended(order, Submitted(cancelled))
            if change.keeps_priority:
                resized = await self.matcher.resize(w, book, order, change.remaining, "Amend")
                self.matcher.publish_levels(w, book)
                return Amended(order, Submitted(resized))
            return Amended(order, await self.matcher.amend(w, order, yes_price,
                                                           change.remaining))

    # Reads ---------------------------------------------------------------------------------

    async def queue_position(self, actor: Actor, order_id: str) -> int:
        """Return the contracts resting ahead of the caller's resting order."""
        async with self.exchange.work() as w:
            order = await w.tx.get_order(order_id)
            if order is None or order.user_id != actor.user_id or (
                    order.status is not OrderStatus.RESTING):
                raise NotFound("order not found", message="order not found")
            book = await self.books.open(w, order.ticker)
            return book.queue_position(order_id)

    async def queue_positions(self, actor: Actor, tickers: list[str] | None,
                              event_ticker: str | None,
                              subaccount: int | None) -> list[QueueEntry]:
        """Return the queue positions of the caller's resting orders in some markets."""
        async with self.exchange.work() as w:
            wanted = set(tickers or ())
            if event_ticker:
                markets = await w.tx.list_markets(MarketQuery(limit=10_000,
                                                              event_ticker=event_ticker))
                wanted |= {m.ticker for m in markets}
            entries = []
            for order in await w.tx.resting_orders():
                if (order.user_id != actor.user_id or order.ticker not in wanted
                        or (subaccount is not None and order.subaccount != subaccount)):
                    continue
                book = await self.books.open(w, order.ticker)
                entries.append(QueueEntry(order.order_id, order.ticker,
                                          book.queue_position(order.order_id)))
            return entries

    async def resting_value(self, actor: Actor) -> int:
        """Return what the caller's resting orders would cost to fill, in micro-dollars."""
        async with self.exchange.store.transaction() as tx:
            orders = [o for o in await tx.resting_orders() if o.user_id == actor.user_id]
        return sum(o.own_price(o.yes_price) * o.remaining_count for o in orders)

    # Order groups --------------------------------------------------------------------------

    async def create_group(self, actor: Actor, contracts_limit: int,
                           subaccount: int = 0) -> OrderGroup:
        """Create an order group with a contracts limit."""
        check_subaccount(subaccount)
        if contracts_limit < 100 or contracts_limit > 1_000_000 * 100:
            raise InvalidParameters("contracts_limit must be between 1 and 1000000")
        async with self.exchange.work() as w:
            if len(await w.tx.list_order_groups(actor.user_id)) >= MAX_ORDER_GROUPS:
                raise InvalidParameters(f"at most {MAX_ORDER_GROUPS} order groups per user")
            group = OrderGroup(self.exchange.ids.new(), actor.user_id, subaccount,
                               contracts_limit, False, "", w.now, w.now)
            await w.tx.insert_order_group(group)
            w.events.append(OrderGroupChanged(group, "created", w.now))
            return group

    async def _group(self, w: UnitOfWork, actor: Actor, group_id: str,
                     subaccount: int | None) -> OrderGroup:
        group = await w.tx.get_order_group(group_id)
        if group is None or group.user_id != actor.user_id or (
                subaccount is not None and group.subaccount != subaccount):
            raise NotFound("order group not found", message="order group not found")
        return group

    async def get_group(self, actor: Actor, group_id: str,
                        subaccount: int | None = None) -> tuple[OrderGroup, list[str]]:
        """Return an order group and its resting orders' ids."""
        async with self.exchange.work() as w:
            group = await self._group(w, actor, group_id, subaccount)
            orders = await w.tx.orders_in_group(group_id)
            return group, [o.order_id for o in orders]

    async def list_groups(self, actor: Actor, subaccount: int | None = None) -> list[OrderGroup]:
        """Return the caller's order groups, oldest first."""
        async with self.exchange.store.transaction() as tx:
            return await tx.list_order_groups(actor.user_id, subaccount)

    async def delete_group(self, actor: Actor, group_id: str,
                           subaccount: int | None = None) -> None:
        """Cancel an order group's orders and delete it."""
        async with self.exchange.work() as w:
            group = await self._group(w, actor, group_id, subaccount)
            await self.matcher.cancel_group_orders(w, group_id)
            await w.tx.delete_order_group(group_id)
            w.events.append(OrderGroupChanged(group, "deleted", w.now))

    async def reset_group(self, actor: Actor, group_id: str,
                          subaccount: int | None = None) -> None:
        """Clear a group's matched count and accept orders in it again."""
        async with self.exchange.work() as w:
            group = await self._group(w, actor, group_id, subaccount)
            reset = group.reset(w.now)
            await w.tx.update_order_group(reset)
            w.events.append(OrderGroupChanged(reset, "reset", w.now))

    async def trigger_group(self, actor: Actor, group_id: str,
                            subaccount: int | None = None) -> None:
        """Trigger a group by hand: cancel its orders and refuse new ones until reset."""
        async with self.exchange.work() as w:
            group = await self._group(w, actor, group_id, subaccount)
            triggered = group.trigger(w.now)
            await w.tx.update_order_group(triggered)
            await self.matcher.cancel_group_orders(w, group_id)
            w.events.append(OrderGroupChanged(triggered, "triggered", w.now))

    async def set_group_limit(self, actor: Actor, group_id: str, contracts_limit: int,
                              subaccount: int | None = None) -> None:
        """Change a group's limit; below the window's volume it triggers."""
        if contracts_limit < 100 or contracts_limit > 1_000_000 * 100:
            raise InvalidParameters("contracts_limit must be between 1 and 1000000")
        async with self.exchange.work() as w:
            group = await self._group(w, actor, group_id, subaccount)
            changed = group.limited(contracts_limit, w.now)
            await w.tx.update_order_group(changed)
            w.events.append(OrderGroupChanged(changed, "limit_updated", w.now))
            if changed.triggered and not group.triggered:
                await self.matcher.cancel_group_orders(w, group_id)
                w.events.append(OrderGroupChanged(changed, "triggered", w.now))

    # Markets -------------------------------------------------------------------------------

    async def cancel_market_orders(self, ticker: str, reason: str = "MARKET_CLOSED") -> int:
        """Cancel every resting order of a market (it closed); return how many."""
        async with self.exchange.work() as w:
            return await self.cancel_market_orders_in(w, ticker, reason)

    async def cancel_market_orders_in(self, w: UnitOfWork, ticker: str,
                                      reason: str = "MARKET_CLOSED") -> int:
        """Cancel every resting order of a market inside ``w``; return how many."""
        orders = await w.tx.resting_orders(ticker)
        book = await self.books.open(w, ticker)
        for order in orders:
            await self.matcher.cancel(w, book, order, reason)
        self.matcher.publish_levels(w, book)
        return len(orders)


__all__ = ["MAX_CANCEL_ALL", "Amended", "Cancelled", "Orders", "QueueEntry"]
