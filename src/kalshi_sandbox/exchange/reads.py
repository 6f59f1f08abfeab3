"""The read side of the exchange: RFQs, quotes, markets and portfolios, page by page.

Every list reads one row more than the page it returns, to know whether another page
follows (``Page.of``); every read is one transaction, so it sees one committed state. Who may
see what is decided here and in the domain: closed RFQs and cancelled quotes vanish after
the retention period, a quote is its maker's and its requester's only.
"""

from __future__ import annotations

from dataclasses import replace

from kalshi_sandbox.domain.account import check_subaccount
from kalshi_sandbox.domain.clock import Clock, Instant
from kalshi_sandbox.domain.errors import (
    NotFound,
)
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.portfolio import Fill, Order, Position
from kalshi_sandbox.domain.queries import MarketQuery, PortfolioQuery, QuoteQuery, RfqQuery
from kalshi_sandbox.domain.quote import (
    Quote,
    QuoteStatus,
)
from kalshi_sandbox.domain.rfq import (
    Rfq,
    RfqStatus,
    hides_obscured,
)
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.exchange.commands import (
    Actor,
    Page,
    QuoteFilters,
    RfqFilters,
)
from kalshi_sandbox.exchange.ports import Store

ALL = 1_000_000
"""A limit that reads every row (a user's positions, say)."""


def _rfq_key(rfq: Rfq) -> tuple[Instant, str]:
    return rfq.created_ts, rfq.id


def _quote_key(quote: Quote) -> tuple[Instant, str]:
    return quote.created_ts, quote.id


class ExchangeReads:
    """The read use cases; ``Exchange`` adds the writes."""

    store: Store
    clock: Clock
    rules: Rules

    async def get_rfq(self, actor: Actor, rfq_id: str) -> Rfq:
        """Return an RFQ (RFQs are public) unless unknown or past retention."""
        async with self.store.transaction() as tx:
            rfq = await tx.get_rfq(rfq_id)
        if rfq is None or not self._retained(rfq.status is RfqStatus.CLOSED, rfq.updated_ts):
            raise NotFound("rfq not found", message="rfq not found")
        return rfq

    async def list_rfqs(self, actor: Actor, filters: RfqFilters) -> Page[Rfq]:
        """Return a page of RFQs, newest first."""
        creator = actor.user_id if filters.only_mine else filters.creator_user_id
        if filters.subaccount is not None:
            # A creator's subaccount is private: the filter names one of the caller's own.
            if creator not in (None, actor.user_id):
                return Page([])
            creator = actor.user_id
        query = RfqQuery(
            limit=filters.limit + 1, after=filters.after, market_ticker=filters.market_ticker,
            event_ticker=filters.event_ticker, status=filters.status, creator_user_id=creator,
            subaccount=filters.subaccount,
            closed_since=self.clock.now() - self.rules.retention,
            hide_obscured=hides_obscured(creator, actor.user_id),
        )
        async with self.store.transaction() as tx:
            rows = await tx.list_rfqs(query)
        return Page.of(rows, filters.limit, _rfq_key)

    async def get_quote(self, actor: Actor, quote_id: str, rfq_id: str | None = None) -> Quote:
        """Return a quote visible to ``actor``: its maker's or one on the actor's RFQ."""
        async with self.store.transaction() as tx:
            quote = await tx.get_quote(quote_id)
        if (quote is None or (rfq_id is not None and quote.rfq_id != rfq_id)
                or actor.user_id not in (quote.creator_user_id, quote.rfq_creator_user_id)
                or not self._retained(quote.status is QuoteStatus.CANCELLED,
                                      quote.updated_ts)):
            raise NotFound("quote not found", message="quote not found")
        return quote

    async def list_quotes(self, actor: Actor, filters: QuoteFilters) -> Page[Quote]:
        """Return a page of the quotes visible to ``actor``, newest first."""
        for legacy in (filters.legacy_creator_user_id, filters.legacy_rfq_creator_user_id):
            if legacy is not None and legacy != actor.user_id:
                return Page([])
        creator = (actor.user_id if filters.only_mine or filters.legacy_creator_user_id
                   else None)
        rfq_creator = (actor.user_id
                       if filters.only_my_rfqs or filters.legacy_rfq_creator_user_id else None)
        query = QuoteQuery(
            viewer_user_id=actor.user_id, limit=filters.limit + 1, after=filters.after,
            status=filters.status, rfq_id=filters.rfq_id, creator_user_id=creator,
            rfq_creator_user_id=rfq_creator, min_updated=filters.min_updated,
            max_updated=filters.max_updated,
            cancelled_since=self.clock.now() - self.rules.retention,
        )
        async with self.store.transaction() as tx:
            rows = await tx.list_quotes(query)
        return Page.of(rows, filters.limit, _quote_key)

    def _retained(self, finished: bool, updated_ts: Instant) -> bool:
        return self.rules.retained(finished, updated_ts, self.clock.now())

    async def get_market(self, ticker: str) -> Market:
        """Return a market (markets are public)."""
        async with self.store.transaction() as tx:
            market = await tx.get_market(ticker)
        if market is None:
            raise NotFound(f"market {ticker} not found", message="market not found")
        return market

    async def list_markets(self, query: MarketQuery) -> Page[Market]:
        """Return a page of markets in ticker order (``query.limit`` is the page size)."""
        async with self.store.transaction() as tx:
            rows = await tx.list_markets(replace(query, limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda m: (0, m.ticker))

    async def events_of(self, tickers: set[str]) -> dict[str, str]:
        """Return the event ticker of each market in ``tickers``."""
        if not tickers:
            return {}
        async with self.store.transaction() as tx:
            markets = await tx.list_markets(MarketQuery(limit=len(tickers),
                                                        tickers=tuple(tickers)))
        return {m.ticker: m.event_ticker for m in markets}

    # Portfolio ---------------------------------------------------------------------------

    async def balance(self, actor: Actor, subaccount: int) -> tuple[int, int, Instant]:
        """Return the caller's balance, the value of its positions (their cost basis), both
        in micro-dollars, and when the balance last changed."""
        check_subaccount(subaccount)
        async with self.store.transaction() as tx:
            micros = await tx.get_balance(actor.user_id, subaccount)
            updated = await tx.balance_updated_ts(actor.user_id, subaccount)
            positions = await tx.list_positions(PortfolioQuery(
                user_id=actor.user_id, limit=ALL, subaccount=subaccount))
        value = sum(p.exposure for p in positions)
        return micros, value, updated if updated is not None else self.clock.now()

    async def positions(self, actor: Actor, query: PortfolioQuery,
                        count_filter: frozenset[str] = frozenset()) -> Page[Position]:
        """Return a page of the caller's market positions, by (ticker, subaccount).

        With ``count_filter`` (``position``, ``total_traded``) only positions with a non-zero
        value in one of those fields count; they are filtered before paging, so a page never
        ends early and hides later positions.
        """
        limit = query.limit
        read = replace(query, user_id=actor.user_id,
                       limit=ALL if count_filter else limit + 1)
        async with self.store.transaction() as tx:
            rows = await tx.list_positions(read)
        if count_filter:
            rows = [p for p in rows
                    if ("position" in count_filter and p.position)
                    or ("total_traded" in count_filter and p.total_traded)]
        return Page.of(rows, limit, lambda p: (p.subaccount, p.ticker))

    async def fills(self, actor: Actor, query: PortfolioQuery) -> Page[Fill]:
        """Return a page of the caller's fills, newest first."""
        async with self.store.transaction() as tx:
            rows = await tx.list_fills(replace(query, user_id=actor.user_id,
                                               limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda f: (f.created_ts, f.fill_id))

    async def orders(self, actor: Actor, query: PortfolioQuery) -> Page[Order]:
        """Return a page of the caller's orders, newest first."""
        async with self.store.transaction() as tx:
            rows = await tx.list_orders(replace(query, user_id=actor.user_id,
                                                limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda o: (o.created_ts, o.order_id))

    async def order(self, actor: Actor, order_id: str) -> Order:
        """Return one of the caller's orders."""
        async with self.store.transaction() as tx:
            order = await tx.get_order(order_id)
        if order is None or order.user_id != actor.user_id:
            raise NotFound("order not found", message="order not found")
        return order


__all__ = ["ALL", "ExchangeReads"]
