"""``AsyncKalshiClient``: the asyncio client for Kalshi's Trade API v2 (sandbox, demo or prod)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from kalshi_sandbox.client import _calls
from kalshi_sandbox.client._base import BaseClient
from kalshi_sandbox.client._calls import Amount, Call, Timestamp, UserFilter
from kalshi_sandbox.client.auth import KeySource
from kalshi_sandbox.client.credentials import Credentials
from kalshi_sandbox.client.environments import Environment
from kalshi_sandbox.client.models import (
    AccountLimits,
    Balance,
    BlockTradeProposal,
    EndpointCosts,
    ExchangeStatus,
    Fill,
    Market,
    Order,
    Page,
    Position,
    PositionsPage,
    Quote,
    Rfq,
    Side,
)
from kalshi_sandbox.client.orders_api import AsyncOrders

T = TypeVar("T")


class AsyncKalshiClient(BaseClient, AsyncOrders):
    """The asyncio twin of :class:`~kalshi_sandbox.client.KalshiClient`.

    Same constructor, same methods, awaited; ``iter_*`` methods are async iterators
    (``async for rfq in client.iter_rfqs(): ...``) and :meth:`subscribe` streams the
    WebSocket (``async for message in client.subscribe("communications"): ...``).
    Use ``async with AsyncKalshiClient(...) as client:`` or call :meth:`aclose`.
    """

    def __init__(self, env: str | Environment = "sandbox", *, base_url: str | None = None,
                 ws_url: str | None = None, key_id: str | None = None,
                 private_key: KeySource | None = None,
                 credentials: Credentials | None = None, credentials_from_env: bool = True,
                 timeout: float = 10.0, headers: Mapping[str, str] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(env, base_url=base_url, ws_url=ws_url, key_id=key_id,
                         private_key=private_key, credentials=credentials,
                         credentials_from_env=credentials_from_env, timeout=timeout,
                         headers=headers)
        self.http = httpx.AsyncClient(transport=transport, **self._http_options())

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def __aenter__(self) -> AsyncKalshiClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    # Plumbing -------------------------------------------------------------------------------

    async def _run(self, call: Call[T]) -> T:
        try:
            response = await self.http.request(call.method, call.path,
                                               **self._request_options(call))
        except httpx.TransportError as exc:
            raise self._transport_error(call, exc) from exc
        return self._read(call, response)

    async def _pages(self, make: Callable[[str | None], Call[Page[T]]]) -> AsyncIterator[T]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self._run(make(cursor))
            for item in page.items:
                yield item
            # A repeated cursor would loop forever; stop as if the listing had ended.
            if not page.cursor or page.cursor in seen:
                return
            seen.add(page.cursor)
            cursor = page.cursor

    async def request(self, method: str, path: str, *,
                      params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """Send a signed request to any path under the base URL; return the decoded JSON."""
        call: Call[Any] = Call(method.upper(), path, lambda data: data,
                               _calls.query(**(params or {})), json, json is not None)
        return await self._run(call)

    # Communications -------------------------------------------------------------------------

    async def get_communications_id(self) -> str:
        """Return your public communications id (the ``creator_id`` others see)."""
        return await self._run(_calls.communications_id())

    async def create_rfq(self, market_ticker: str, *, contracts: Amount | None = None,
                   target_cost: Amount | None = None, rest_remainder: bool = False,
                   replace_existing: bool = False,
                   target_cost_excludes_fees: bool | None = None,
                   subaccount: int | None = None, subtrader_id: str | None = None) -> str:
        """Create an RFQ for ``contracts`` or for ``target_cost`` dollars; return its id."""
        return await self._run(_calls.create_rfq(
            market_ticker, contracts=contracts, target_cost=target_cost,
            rest_remainder=rest_remainder, replace_existing=replace_existing,
            target_cost_excludes_fees=target_cost_excludes_fees, subaccount=subaccount,
            subtrader_id=subtrader_id))

    async def list_rfqs(self, *, market_ticker: str | None = None, event_ticker: str | None = None,
                  status: str | None = None, subaccount: int | None = None,
                  user_filter: UserFilter | None = None, creator_user_id: str | None = None,
                  limit: int | None = None, cursor: str | None = None) -> Page[Rfq]:
        """Return one page of RFQs, newest first (``user_filter="self"``: only yours)."""
        return await self._run(_calls.list_rfqs(
            market_ticker=market_ticker, event_ticker=event_ticker, status=status,
            subaccount=subaccount, user_filter=user_filter, creator_user_id=creator_user_id,
            limit=limit, cursor=cursor))

    def iter_rfqs(self, *, market_ticker: str | None = None, event_ticker: str | None = None,
                  status: str | None = None, subaccount: int | None = None,
                  user_filter: UserFilter | None = None, creator_user_id: str | None = None,
                  limit: int | None = None) -> AsyncIterator[Rfq]:
        """Yield every RFQ matching the filters, fetching page after page."""
        return self._pages(lambda cursor: _calls.list_rfqs(
            market_ticker=market_ticker, event_ticker=event_ticker, status=status,
            subaccount=subaccount, user_filter=user_filter, creator_user_id=creator_user_id,
            limit=limit, cursor=cursor))

    async def get_rfq(self, rfq_id: str) -> Rfq:
        """Return one RFQ."""
        return await self._run(_calls.get_rfq(rfq_id))

    async def delete_rfq(self, rfq_id: str) -> None:
        """Close your RFQ; its open quotes are cancelled."""
        await self._run(_calls.delete_rfq(rfq_id))

    async def create_quote(self, rfq_id: str, yes_bid: Amount, no_bid: Amount, *,
                     rest_remainder: bool = False, post_only: bool | None = None,
                     subaccount: int | None = None) -> str:
        """Quote an RFQ with dollar bids for YES and NO (``0`` declines a side); return its id.

        A new quote replaces your previous open quote on the same RFQ.
        """
        return await self._run(_calls.create_quote(rfq_id, yes_bid, no_bid,
                                             rest_remainder=rest_remainder,
                                             post_only=post_only, subaccount=subaccount))

    async def list_quotes(self, *, rfq_id: str | None = None, status: str | None = None,
                    user_filter: UserFilter | None = None,
                    rfq_user_filter: UserFilter | None = None,
                    quote_creator_user_id: str | None = None,
                    rfq_creator_user_id: str | None = None,
                    rfq_creator_subtrader_id: str | None = None,
                    min_ts: Timestamp | None = None, max_ts: Timestamp | None = None,
                    limit: int | None = None, cursor: str | None = None) -> Page[Quote]:
        """Return one page of the quotes you made or that were made on your RFQs."""
        return await self._run(_calls.list_quotes(
            rfq_id=rfq_id, status=status, user_filter=user_filter,
            rfq_user_filter=rfq_user_filter, quote_creator_user_id=quote_creator_user_id,
            rfq_creator_user_id=rfq_creator_user_id,
            rfq_creator_subtrader_id=rfq_creator_subtrader_id, min_ts=min_ts, max_ts=max_ts,
            limit=limit, cursor=cursor))

    def iter_quotes(self, *, rfq_id: str | None = None, status: str | None = None,
                    user_filter: UserFilter | None = None,
                    rfq_user_filter: UserFilter | None = None,
                    quote_creator_user_id: str | None = None,
                    rfq_creator_user_id: str | None = None,
                    rfq_creator_subtrader_id: str | None = None,
                    min_ts: Timestamp | None = None, max_ts: Timestamp | None = None,
                    limit: int | None = None) -> AsyncIterator[Quote]:
        """Yield every quote matching the filters, fetching page after page."""
        return self._pages(lambda cursor: _calls.list_quotes(
            rfq_id=rfq_id, status=status, user_filter=user_filter,
            rfq_user_filter=rfq_user_filter, quote_creator_user_id=quote_creator_user_id,
            rfq_creator_user_id=rfq_creator_user_id,
            rfq_creator_subtrader_id=rfq_creator_subtrader_id, min_ts=min_ts, max_ts=max_ts,
            limit=limit, cursor=cursor))

    async def get_quote(self, rfq_id: str | None, quote_id: str) -> Quote:
        """Return one quote (``rfq_id=None``: the deprecated quote-id-only path)."""
        return await self._run(_calls.get_quote(rfq_id, quote_id))

    async def delete_quote(self, rfq_id: str | None, quote_id: str) -> None:
        """Withdraw your quote (before it is confirmed)."""
        await self._run(_calls.delete_quote(rfq_id, quote_id))

    async def accept_quote(self, rfq_id: str | None, quote_id: str,
                     accepted_side: Side | str) -> None:
        """Accept a quote on your RFQ; ``accepted_side`` is the side you end up holding."""
        await self._run(_calls.accept_quote(rfq_id, quote_id, accepted_side))

    async def confirm_quote(self, rfq_id: str | None, quote_id: str) -> None:
        """Confirm your accepted quote inside the confirmation window; execution follows."""
        await self._run(_calls.confirm_quote(rfq_id, quote_id))

    async def list_block_trade_proposals(self, *, market_ticker: str | None = None,
                                   status: str | None = None, limit: int | None = None,
                                   cursor: str | None = None) -> Page[BlockTradeProposal]:
        """Return one page of block-trade proposals you are party to."""
        return await self._run(_calls.list_block_trade_proposals(
            market_ticker=market_ticker, status=status, limit=limit, cursor=cursor))

    def iter_block_trade_proposals(self, *, market_ticker: str | None = None,
                                   status: str | None = None, limit: int | None = None
                                   ) -> AsyncIterator[BlockTradeProposal]:
        """Yield every block-trade proposal matching the filters."""
        return self._pages(lambda cursor: _calls.list_block_trade_proposals(
            market_ticker=market_ticker, status=status, limit=limit, cursor=cursor))

    async def propose_block_trade(self, *, market_ticker: str, buyer_user_id: str,
                            seller_user_id: str, price: Amount, contracts: Amount,
                            maker_side: Side | str, expiration_ts: datetime,
                            buyer_subaccount: int | None = None,
                            seller_subaccount: int | None = None,
                            buyer_subtrader_id: str | None = None,
                            seller_subtrader_id: str | None = None) -> str:
        """Propose a block trade at ``price`` dollars for ``contracts``; return its id."""
        return await self._run(_calls.propose_block_trade(
            market_ticker=market_ticker, buyer_user_id=buyer_user_id,
            seller_user_id=seller_user_id, price_dollars=price, contracts=contracts,
            maker_side=maker_side, expiration_ts=expiration_ts,
            buyer_subaccount=buyer_subaccount, seller_subaccount=seller_subaccount,
            buyer_subtrader_id=buyer_subtrader_id, seller_subtrader_id=seller_subtrader_id))

    async def accept_block_trade_proposal(self, proposal_id: str, *, subaccount: int | None = None,
                                    subtrader_id: str | None = None) -> None:
        """Accept a block-trade proposal as buyer or seller."""
        await self._run(_calls.accept_block_trade_proposal(proposal_id, subaccount=subaccount,
                                                     subtrader_id=subtrader_id))

    # Markets and exchange -------------------------------------------------------------------

    async def list_markets(self, *, limit: int | None = None, cursor: str | None = None,
                     event_ticker: str | None = None, series_ticker: str | None = None,
                     status: str | None = None, tickers: Sequence[str] | None = None,
                     mve_filter: str | None = None, min_close_ts: Timestamp | None = None,
                     max_close_ts: Timestamp | None = None) -> Page[Market]:
        """Return one page of markets (``status`` filter: unopened, open, closed, settled)."""
        return await self._run(_calls.list_markets(
            limit=limit, cursor=cursor, event_ticker=event_ticker, series_ticker=series_ticker,
            status=status, tickers=tickers, mve_filter=mve_filter, min_close_ts=min_close_ts,
            max_close_ts=max_close_ts))

    def iter_markets(self, *, limit: int | None = None, event_ticker: str | None = None,
                     series_ticker: str | None = None, status: str | None = None,
                     tickers: Sequence[str] | None = None, mve_filter: str | None = None,
                     min_close_ts: Timestamp | None = None,
                     max_close_ts: Timestamp | None = None) -> AsyncIterator[Market]:
        """Yield every market matching the filters."""
        return self._pages(lambda cursor: _calls.list_markets(
            limit=limit, cursor=cursor, event_ticker=event_ticker, series_ticker=series_ticker,
            status=status, tickers=tickers, mve_filter=mve_filter, min_close_ts=min_close_ts,
            max_close_ts=max_close_ts))

    async def get_market(self, ticker: str) -> Market:
        """Return one market, with its price grid in ``price_ranges``."""
        return await self._run(_calls.get_market(ticker))

    async def get_exchange_status(self) -> ExchangeStatus:
        """Return whether the exchange is up and trading."""
        return await self._run(_calls.exchange_status())

    # Account --------------------------------------------------------------------------------

    async def get_account_limits(self) -> AccountLimits:
        """Return your usage tier and its Read and Write token buckets."""
        return await self._run(_calls.account_limits())

    async def get_endpoint_costs(self) -> EndpointCosts:
        """Return the endpoints that cost other than the default number of tokens."""
        return await self._run(_calls.endpoint_costs())

    # Portfolio ------------------------------------------------------------------------------

    async def get_balance(self, *, subaccount: int | None = None) -> Balance:
        """Return your cash balance in dollars."""
        return await self._run(_calls.balance(subaccount))

    async def get_positions(self, *, ticker: str | None = None, event_ticker: str | None = None,
                      count_filter: Sequence[str] | None = None,
                      subaccount: int | None = None, limit: int | None = None,
                      cursor: str | None = None) -> PositionsPage:
        """Return one page of market and event positions."""
        return await self._run(_calls.positions(
            ticker=ticker, event_ticker=event_ticker, count_filter=count_filter,
            subaccount=subaccount, limit=limit, cursor=cursor))

    def iter_positions(self, *, ticker: str | None = None, event_ticker: str | None = None,
                       count_filter: Sequence[str] | None = None,
                       subaccount: int | None = None, limit: int | None = None
                       ) -> AsyncIterator[Position]:
        """Yield every market position."""
        def page(cursor: str | None) -> Call[Page[Position]]:
            call = _calls.positions(ticker=ticker, event_ticker=event_ticker,
                                    count_filter=count_filter, subaccount=subaccount,
                                    limit=limit, cursor=cursor)
            return _calls.positions_as_page(call)
        return self._pages(page)

    async def list_fills(self, *, ticker: str | None = None, order_id: str | None = None,
                   min_ts: Timestamp | None = None, max_ts: Timestamp | None = None,
                   subaccount: int | None = None, limit: int | None = None,
                   cursor: str | None = None) -> Page[Fill]:
        """Return one page of your fills, newest first."""
        return await self._run(_calls.fills(ticker=ticker, order_id=order_id, min_ts=min_ts,
                                      max_ts=max_ts, subaccount=subaccount, limit=limit,
                                      cursor=cursor))

    def iter_fills(self, *, ticker: str | None = None, order_id: str | None = None,
                   min_ts: Timestamp | None = None, max_ts: Timestamp | None = None,
                   subaccount: int | None = None, limit: int | None = None) -> AsyncIterator[Fill]:
        """Yield every fill matching the filters."""
        return self._pages(lambda cursor: _calls.fills(
            ticker=ticker, order_id=order_id, min_ts=min_ts, max_ts=max_ts,
            subaccount=subaccount, limit=limit, cursor=cursor))

    async def list_orders(self, *, ticker: str | None = None, event_ticker: str | None = None,
                    status: str | None = None, min_ts: Timestamp | None = None,
                    max_ts: Timestamp | None = None, subaccount: int | None = None,
                    limit: int | None = None, cursor: str | None = None) -> Page[Order]:
        """Return one page of your orders, newest first."""
        return await self._run(_calls.orders(ticker=ticker, event_ticker=event_ticker,
                                       status=status, min_ts=min_ts, max_ts=max_ts,
                                       subaccount=subaccount, limit=limit, cursor=cursor))

    def iter_orders(self, *, ticker: str | None = None, event_ticker: str | None = None,
                    status: str | None = None, min_ts: Timestamp | None = None,
                    max_ts: Timestamp | None = None, subaccount: int | None = None,
                    limit: int | None = None) -> AsyncIterator[Order]:
        """Yield every order matching the filters."""
        return self._pages(lambda cursor: _calls.orders(
            ticker=ticker, event_ticker=event_ticker, status=status, min_ts=min_ts,
            max_ts=max_ts, subaccount=subaccount, limit=limit, cursor=cursor))

    async def get_order(self, order_id: str) -> Order:
        """Return one of your orders."""
        return await self._run(_calls.order(order_id))

