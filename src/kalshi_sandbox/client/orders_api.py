"""The order endpoints and market data as client methods, for the sync and async clients.

:class:`KalshiClient` and :class:`AsyncKalshiClient` take these in (the RFQ flow's methods are
their own); each method builds its request in client/_order_calls.py, so both send
byte-identical requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from decimal import Decimal
from typing import TypeVar

from kalshi_sandbox.client import _order_calls
from kalshi_sandbox.client._calls import Amount, Call, Timestamp
from kalshi_sandbox.client._order_calls import (
    BookSide,
    OrderSpec,
    SelfTradePrevention,
    TimeInForce,
)
from kalshi_sandbox.client.book import OrderBook
from kalshi_sandbox.client.models import Page
from kalshi_sandbox.client.order_models import (
    CancelResult,
    Candlestick,
    DecreaseResult,
    OrderGroup,
    OrderResult,
    QueuePosition,
    Trade,
)

T = TypeVar("T")


class SyncOrders:
    """Order entry, order groups and market data (blocking)."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def _pages(self, make: Callable[[str | None], Call[Page[T]]]) -> Iterator[T]:
        raise NotImplementedError

    def create_order(self, ticker: str, side: BookSide, count: Amount, price: Amount, *,
                     time_in_force: TimeInForce = "good_till_canceled",
                     self_trade_prevention: SelfTradePrevention = "taker_at_cross",
                     client_order_id: str | None = None,
                     expiration_time: Timestamp | None = None, post_only: bool | None = None,
                     reduce_only: bool | None = None,
                     cancel_order_on_pause: bool | None = None,
                     order_group_id: str | None = None,
                     subaccount: int | None = None) -> OrderResult:
        """Place an order on the YES book; return what filled now and what rests.

        ``side`` is ``"bid"`` (buy YES at ``price``) or ``"ask"`` (sell YES at ``price``, which
        buys NO at 1 - ``price``); ``count`` contracts (0.01 steps); ``price`` in dollars.
        """
        return self._run(_order_calls.create_order(OrderSpec(
            ticker, side, count, price, time_in_force, self_trade_prevention, client_order_id,
            expiration_time, post_only, reduce_only, cancel_order_on_pause, order_group_id,
            subaccount)))

    def batch_create_orders(self, orders: Sequence[OrderSpec]) -> list[OrderResult]:
        """Place several orders, each on its own; a refused one carries ``error``."""
        return self._run(_order_calls.batch_create_orders(orders))

    def cancel_order(self, order_id: str, *, subaccount: int | None = None) -> CancelResult:
        """Cancel your resting order; return how many contracts it took off the book."""
        return self._run(_order_calls.cancel_order(order_id, subaccount))

    def batch_cancel_orders(self, order_ids: Sequence[str]) -> list[CancelResult]:
        """Cancel several orders, each on its own; a refused one carries ``error``."""
        return self._run(_order_calls.batch_cancel_orders(order_ids))

    def cancel_all_orders(self, *, subaccount: int | None = None) -> None:
        """Cancel every resting order of yours (of one subaccount)."""
        self._run(_order_calls.cancel_all_orders(subaccount))

    def amend_order(self, order_id: str, *, ticker: str, side: BookSide, price: Amount,
                    count: Amount, client_order_id: str | None = None,
                    updated_client_order_id: str | None = None,
                    subaccount: int | None = None) -> OrderResult:
        """Change a resting order's price and total count (filled + resting).

        Lowering the count at the same price keeps its place in the queue; anything else sends
        it to the back, and it may trade at once.
        """
        return self._run(_order_calls.amend_order(
            order_id, ticker=ticker, side=side, price=price, count=count,
            client_order_id=client_order_id, updated_client_order_id=updated_client_order_id,
            subaccount=subaccount))

    def decrease_order(self, order_id: str, *, reduce_by: Amount | None = None,
                       reduce_to: Amount | None = None,
                       subaccount: int | None = None) -> DecreaseResult:
        """Lower a resting order's count by ``reduce_by`` or to ``reduce_to``, keeping its place."""
        return self._run(_order_calls.decrease_order(order_id, reduce_by=reduce_by,
                                                    reduce_to=reduce_to,
                                                    subaccount=subaccount))

    def get_queue_position(self, order_id: str) -> Decimal:
        """Return the contracts resting ahead of your order at its price (0: first in line)."""
        return self._run(_order_calls.queue_position(order_id))

    def get_queue_positions(self, *, market_tickers: Sequence[str] | None = None,
                            event_ticker: str | None = None,
                            subaccount: int | None = None) -> list[QueuePosition]:
        """Return the queue positions of your resting orders in some markets (or an event)."""
        return self._run(_order_calls.queue_positions(market_tickers=market_tickers,
                                                     event_ticker=event_ticker,
                                                     subaccount=subaccount))

    def get_resting_order_value(self) -> Decimal:
        """Return what your resting orders would cost to fill, in dollars (whole cents)."""
        return self._run(_order_calls.resting_order_value())

    def create_order_group(self, contracts_limit: Amount, *,
                           subaccount: int | None = None) -> str:
        """Create an order group limiting the contracts its orders match in 15 s; return its id."""
        return self._run(_order_calls.create_order_group(contracts_limit, subaccount))

    def list_order_groups(self, *, subaccount: int | None = None) -> list[OrderGroup]:
        """Return your order groups."""
        return self._run(_order_calls.list_order_groups(subaccount))

    def get_order_group(self, group_id: str, *, subaccount: int | None = None) -> OrderGroup:
        """Return an order group and its resting orders' ids."""
        return self._run(_order_calls.get_order_group(group_id, subaccount))

    def delete_order_group(self, group_id: str, *, subaccount: int | None = None) -> None:
        """Cancel an order group's orders and delete it."""
        self._run(_order_calls.order_group_action(group_id, "delete", subaccount))

    def reset_order_group(self, group_id: str, *, subaccount: int | None = None) -> None:
        """Clear a group's matched count so it accepts orders again."""
        self._run(_order_calls.order_group_action(group_id, "reset", subaccount))

    def trigger_order_group(self, group_id: str, *, subaccount: int | None = None) -> None:
        """Trigger a group: cancel its orders and refuse new ones until it is reset."""
        self._run(_order_calls.order_group_action(group_id, "trigger", subaccount))

    def set_order_group_limit(self, group_id: str, contracts_limit: Amount, *,
                              subaccount: int | None = None) -> None:
        """Change a group's contracts limit (below its recent volume, it triggers)."""
        self._run(_order_calls.set_order_group_limit(group_id, contracts_limit, subaccount))

    def get_orderbook(self, ticker: str, *, depth: int | None = None) -> OrderBook:
        """Return a market's book (public): its YES and NO bids, ``depth`` best levels each."""
        return self._run(_order_calls.orderbook(ticker, depth))

    def get_orderbooks(self, tickers: Sequence[str]) -> list[OrderBook]:
        """Return the books of up to 100 markets."""
        return self._run(_order_calls.orderbooks(tickers))

    def list_trades(self, *, ticker: str | None = None, min_ts: Timestamp | None = None,
                    max_ts: Timestamp | None = None, is_block_trade: bool | None = None,
                    limit: int | None = None, cursor: str | None = None) -> Page[Trade]:
        """Return one page of public trades, newest first."""
        return self._run(_order_calls.trades(ticker=ticker, min_ts=min_ts, max_ts=max_ts,
                                             is_block_trade=is_block_trade, limit=limit,
                                             cursor=cursor))

    def iter_trades(self, *, ticker: str | None = None, min_ts: Timestamp | None = None,
                    max_ts: Timestamp | None = None, is_block_trade: bool | None = None,
                    limit: int | None = None) -> Iterator[Trade]:
        """Yield every public trade matching the filters, newest first."""
        return self._pages(lambda cursor: _order_calls.trades(
            ticker=ticker, min_ts=min_ts, max_ts=max_ts, is_block_trade=is_block_trade,
            limit=limit, cursor=cursor))

    def get_candlesticks(self, series_ticker: str, ticker: str, *, start_ts: Timestamp,
                         end_ts: Timestamp, period_interval: int = 1) -> list[Candlestick]:
        """Return a market's candlesticks (``period_interval`` 1, 60 or 1440 minutes)."""
        return self._run(_order_calls.candlesticks(series_ticker, ticker, start_ts=start_ts,
                                                   end_ts=end_ts,
                                                   period_interval=period_interval))


class AsyncOrders:
    """Order entry, order groups and market data (asyncio)."""

    async def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def _pages(self, make: Callable[[str | None], Call[Page[T]]]) -> AsyncIterator[T]:
        raise NotImplementedError

    async def create_order(self, ticker: str, side: BookSide, count: Amount, price: Amount, *,
                           time_in_force: TimeInForce = "good_till_canceled",
                           self_trade_prevention: SelfTradePrevention = "taker_at_cross",
                           client_order_id: str | None = None,
                           expiration_time: Timestamp | None = None, post_only: bool | None = None,
                           reduce_only: bool | None = None,
                           cancel_order_on_pause: bool | None = None,
                           order_group_id: str | None = None,
                           subaccount: int | None = None) -> OrderResult:
        """Place an order on the YES book; return what filled now and what rests.

        ``side`` is ``"bid"`` (buy YES at ``price``) or ``"ask"`` (sell YES at ``price``, which
        buys NO at 1 - ``price``); ``count`` contracts (0.01 steps); ``price`` in dollars.
        """
        return await self._run(_order_calls.create_order(OrderSpec(
            ticker, side, count, price, time_in_force, self_trade_prevention, client_order_id,
            expiration_time, post_only, reduce_only, cancel_order_on_pause, order_group_id,
            subaccount)))

    async def batch_create_orders(self, orders: Sequence[OrderSpec]) -> list[OrderResult]:
        """Place several orders, each on its own; a refused one carries ``error``."""
        return await self._run(_order_calls.batch_create_orders(orders))

    async def cancel_order(self, order_id: str, *, subaccount: int | None = None) -> CancelResult:
        """Cancel your resting order; return how many contracts it took off the book."""
        return await self._run(_order_calls.cancel_order(order_id, subaccount))

    async def batch_cancel_orders(self, order_ids: Sequence[str]) -> list[CancelResult]:
        """Cancel several orders, each on its own; a refused one carries ``error``."""
        return await self._run(_order_calls.batch_cancel_orders(order_ids))

    async def cancel_all_orders(self, *, subaccount: int | None = None) -> None:
        """Cancel every resting order of yours (of one subaccount)."""
        await self._run(_order_calls.cancel_all_orders(subaccount))

    async def amend_order(self, order_id: str, *, ticker: str, side: BookSide, price: Amount,
                          count: Amount, client_order_id: str | None = None,
                          updated_client_order_id: str | None = None,
                          subaccount: int | None = None) -> OrderResult:
        """Change a resting order's price and total count (filled + resting).

        Lowering the count at the same price keeps its place in the queue; anything else sends
        it to the back, and it may trade at once.
        """
        return await self._run(_order_calls.amend_order(
            order_id, ticker=ticker, side=side, price=price, count=count,
            client_order_id=client_order_id, updated_client_order_id=updated_client_order_id,
            subaccount=subaccount))

    async def decrease_order(self, order_id: str, *, reduce_by: Amount | None = None,
                             reduce_to: Amount | None = None,
                             subaccount: int | None = None) -> DecreaseResult:
        """Lower a resting order's count by ``reduce_by`` or to ``reduce_to``, keeping its place."""
        return await self._run(_order_calls.decrease_order(order_id, reduce_by=reduce_by,
                                                    reduce_to=reduce_to,
                                                    subaccount=subaccount))

    async def get_queue_position(self, order_id: str) -> Decimal:
        """Return the contracts resting ahead of your order at its price (0: first in line)."""
        return await self._run(_order_calls.queue_position(order_id))

    async def get_queue_positions(self, *, market_tickers: Sequence[str] | None = None,
                                  event_ticker: str | None = None,
                                  subaccount: int | None = None) -> list[QueuePosition]:
        """Return the queue positions of your resting orders in some markets (or an event)."""
        return await self._run(_order_calls.queue_positions(market_tickers=market_tickers,
                                                     event_ticker=event_ticker,
                                                     subaccount=subaccount))

    async def get_resting_order_value(self) -> Decimal:
        """Return what your resting orders would cost to fill, in dollars (whole cents)."""
        return await self._run(_order_calls.resting_order_value())

    async def create_order_group(self, contracts_limit: Amount, *,
                                 subaccount: int | None = None) -> str:
        """Create an order group limiting the contracts its orders match in 15 s; return its id."""
        return await self._run(_order_calls.create_order_group(contracts_limit, subaccount))

    async def list_order_groups(self, *, subaccount: int | None = None) -> list[OrderGroup]:
        """Return your order groups."""
        return await self._run(_order_calls.list_order_groups(subaccount))

    async def get_order_group(self, group_id: str, *, subaccount: int | None = None) -> OrderGroup:
        """Return an order group and its resting orders' ids."""
        return await self._run(_order_calls.get_order_group(group_id, subaccount))

    async def delete_order_group(self, group_id: str, *, subaccount: int | None = None) -> None:
        """Cancel an order group's orders and delete it."""
        await self._run(_order_calls.order_group_action(group_id, "delete", subaccount))

    async def reset_order_group(self, group_id: str, *, subaccount: int | None = None) -> None:
        """Clear a group's matched count so it accepts orders again."""
        await self._run(_order_calls.order_group_action(group_id, "reset", subaccount))

    async def trigger_order_group(self, group_id: str, *, subaccount: int | None = None) -> None:
        """Trigger a group: cancel its orders and refuse new ones until it is reset."""
        await self._run(_order_calls.order_group_action(group_id, "trigger", subaccount))

    async def set_order_group_limit(self, group_id: str, contracts_limit: Amount, *,
                                    subaccount: int | None = None) -> None:
        """Change a group's contracts limit (below its recent volume, it triggers)."""
        await self._run(_order_calls.set_order_group_limit(group_id, contracts_limit, subaccount))

    async def get_orderbook(self, ticker: str, *, depth: int | None = None) -> OrderBook:
        """Return a market's book (public): its YES and NO bids, ``depth`` best levels each."""
        return await self._run(_order_calls.orderbook(ticker, depth))

    async def get_orderbooks(self, tickers: Sequence[str]) -> list[OrderBook]:
        """Return the books of up to 100 markets."""
        return await self._run(_order_calls.orderbooks(tickers))

    async def list_trades(self, *, ticker: str | None = None, min_ts: Timestamp | None = None,
                          max_ts: Timestamp | None = None, is_block_trade: bool | None = None,
                          limit: int | None = None, cursor: str | None = None) -> Page[Trade]:
        """Return one page of public trades, newest first."""
        return await self._run(_order_calls.trades(ticker=ticker, min_ts=min_ts, max_ts=max_ts,
                                             is_block_trade=is_block_trade, limit=limit,
                                             cursor=cursor))

    def iter_trades(self, *, ticker: str | None = None, min_ts: Timestamp | None = None,
                    max_ts: Timestamp | None = None, is_block_trade: bool | None = None,
                    limit: int | None = None) -> AsyncIterator[Trade]:
        """Yield every public trade matching the filters, newest first."""
        return self._pages(lambda cursor: _order_calls.trades(
            ticker=ticker, min_ts=min_ts, max_ts=max_ts, is_block_trade=is_block_trade,
            limit=limit, cursor=cursor))

    async def get_candlesticks(self, series_ticker: str, ticker: str, *, start_ts: Timestamp,
                               end_ts: Timestamp, period_interval: int = 1) -> list[Candlestick]:
        """Return a market's candlesticks (``period_interval`` 1, 60 or 1440 minutes)."""
        return await self._run(_order_calls.candlesticks(series_ticker, ticker, start_ts=start_ts,
                                                   end_ts=end_ts,
                                                   period_interval=period_interval))

__all__ = ["AsyncOrders", "SyncOrders"]
