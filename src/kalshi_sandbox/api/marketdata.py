"""Kalshi's market-data endpoints: order books, public trades and candlesticks.

All are public: a request may be signed or not (a signed one is verified), as
https://docs.kalshi.com/getting_started/orderbook_responses says no authentication is needed.
Books list bids only, ascending with the best last: YES bids at YES prices and NO bids at
NO prices. Both generations' fields are sent: ``orderbook_fp`` (current) and ``orderbook``
(kalshi-python 3.2.0 requires it).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.api import requests as wire
from kalshi_sandbox.api.http import Handler, json_response
from kalshi_sandbox.api.routes import PREFIX, TradeApi
from kalshi_sandbox.domain.clock import MICROS, format_instant
from kalshi_sandbox.domain.errors import NotFound, QueryValidationError
from kalshi_sandbox.domain.limits import Cost
from kalshi_sandbox.domain.money import (
    ONE_DOLLAR,
    count_to_whole,
    format_count,
    format_price,
    price_to_cents,
)
from kalshi_sandbox.domain.portfolio import Fill
from kalshi_sandbox.domain.queries import TradeQuery
from kalshi_sandbox.domain.quote import Side

PERIODS = (1, 60, 1440)
"""Candlestick periods in minutes (https://docs.kalshi.com/api-reference/market/get-market-candlesticks)."""


def render_book(yes: list[tuple[int, int]], no: list[tuple[int, int]],
                depth: int) -> dict[str, Any]:
    """Render a book's levels in both generations' shapes; ``depth`` keeps the best N."""
    if depth > 0:
        yes, no = yes[-depth:], no[-depth:]
    return {
        "orderbook_fp": {
            "yes_dollars": [[format_price(p), format_count(c)] for p, c in yes],
            "no_dollars": [[format_price(p), format_count(c)] for p, c in no],
        },
        "orderbook": {
            "yes": [[price_to_cents(p), count_to_whole(c)] for p, c in yes],
            "no": [[price_to_cents(p), count_to_whole(c)] for p, c in no],
            "yes_dollars": [[format_price(p), format_count(c)] for p, c in yes],
            "no_dollars": [[format_price(p), format_count(c)] for p, c in no],
        },
    }


def render_trade(fill: Fill) -> dict[str, Any]:
    """Render a public trade from its taker's fill."""
    yes_price = fill.yes_price
    return {
        "trade_id": fill.trade_id,
        "ticker": fill.ticker,
        "count": count_to_whole(fill.count),
        "count_fp": format_count(fill.count),
        "yes_price": price_to_cents(yes_price),
        "no_price": price_to_cents(ONE_DOLLAR - yes_price),
        "yes_price_dollars": format_price(yes_price),
        "no_price_dollars": format_price(ONE_DOLLAR - yes_price),
        "price": yes_price / ONE_DOLLAR,
        "taker_side": fill.side.value,
        "taker_outcome_side": fill.side.value,
        "taker_book_side": "bid" if fill.side is Side.YES else "ask",
        "created_time": format_instant(fill.created_ts),
        "is_block_trade": fill.is_block_trade,
    }


class MarketDataApi:
    """Market-data handlers over one exchange's published view and stored trades."""

    def __init__(self, trade: TradeApi) -> None:
        self.trade = trade
        self.exchange = trade.exchange
        self.data = trade.exchange.marketdata

    async def _market(self, ticker: str) -> None:
        await self.exchange.get_market(ticker)

    async def orderbook(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        depth = wire.query_int(request.query_params, "depth", "GetMarketOrderbook",
                               default=0, low=0, high=100)
        await self._market(ticker)
        yes, no = self.data.levels(ticker)
        return json_response(render_book(yes, no, depth))

    async def orderbooks(self, request: Request) -> Response:
        tickers = request.query_params.getlist("tickers")
        tickers = [t for item in tickers for t in item.split(",") if t]
        if not 1 <= len(tickers) <= 100:
            raise QueryValidationError(
                "Parameter validation failed for GetMarketOrderbooks: tickers needs 1 to 100")
        books = []
        for ticker in tickers:
            await self._market(ticker)
            yes, no = self.data.levels(ticker)
            books.append({"ticker": ticker, **render_book(yes, no, 0)})
        return json_response({"orderbooks": books})

    async def trades(self, request: Request) -> Response:
        params = request.query_params
        op = "GetTrades"
        block = wire.query_choice(params, "is_block_trade", op, ("true", "false"))
        query = TradeQuery(
            limit=wire.query_int(params, "limit", op, default=100, low=1, high=1000),
            after=wire.decode_cursor(params, op), ticker=params.get("ticker") or None,
            min_ts=wire.unix_seconds(params, "min_ts", op),
            max_ts=wire.unix_seconds(params, "max_ts", op),
            is_block_trade=None if block is None else block == "true")
        page = await self.data.trades(query)
        return json_response({"trades": [render_trade(f) for f in page.items],
                              "cursor": wire.next_cursor(page)})

    async def _candles(self, request: Request, ticker: str, op: str) -> list[dict[str, Any]]:
        params = request.query_params
        start = wire.unix_seconds(params, "start_ts", op)
        end = wire.unix_seconds(params, "end_ts", op)
        period = wire.query_int(params, "period_interval", op, default=0, low=0, high=1440)
        if start is None or end is None or period not in PERIODS:
            raise QueryValidationError(
                f"Parameter validation failed for {op}: start_ts, end_ts and "
                "period_interval (1, 60 or 1440) are required")
        top = self.data.top(ticker)
        out = []
        for candle in await self.data.candles(ticker, start, end, period * 60 * MICROS):
            quote = {k: format_price(v) for k, v in (
                ("open_dollars", top.yes_bid), ("low_dollars", top.yes_bid),
                ("high_dollars", top.yes_bid), ("close_dollars", top.yes_bid))}
            ask = {k: format_price(top.yes_ask) for k in quote}
            out.append({
                "end_period_ts": candle.end // MICROS,
                "yes_bid": quote, "yes_ask": ask,
                "price": {
                    "open_dollars": format_price(candle.open),
                    "high_dollars": format_price(candle.high),
                    "low_dollars": format_price(candle.low),
                    "close_dollars": format_price(candle.close),
                    "mean_dollars": format_price(candle.mean),
                    "min_dollars": format_price(candle.low),
                    "max_dollars": format_price(candle.high),
                },
                "volume_fp": format_count(candle.volume),
                "volume": count_to_whole(candle.volume),
                "open_interest_fp": format_count(0),
                "open_interest": 0,
            })
        return out

    async def candlesticks(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        market = await self.exchange.get_market(ticker)
        if market.series_ticker != request.path_params["series_ticker"]:
            raise NotFound("market not found in this series", message="not found")
        candles = await self._candles(request, ticker, "GetMarketCandlesticks")
        return json_response({"ticker": ticker, "candlesticks": candles})

    async def batch_candlesticks(self, request: Request) -> Response:
        tickers = [t for t in (request.query_params.get("market_tickers") or "").split(",")
                   if t]
        if not 1 <= len(tickers) <= 100:
            raise QueryValidationError("Parameter validation failed for "
                                       "BatchGetMarketCandlesticks: market_tickers needs 1 "
                                       "to 100")
        markets = []
        for ticker in tickers:
            await self._market(ticker)
            markets.append({"market_ticker": ticker, "candlesticks": await self._candles(
                request, ticker, "BatchGetMarketCandlesticks")})
        return json_response({"markets": markets})

    def endpoints(self) -> list[tuple[str, str, Handler, Cost | None]]:
        """Return (method, full path, handler, cost) of every market-data endpoint."""
        return [
            ("GET", PREFIX + "/markets/trades", self.trades, None),
            ("GET", PREFIX + "/markets/orderbooks", self.orderbooks, None),
            ("GET", PREFIX + "/markets/candlesticks", self.batch_candlesticks, None),
            ("GET", PREFIX + "/markets/{ticker}/orderbook", self.orderbook, None),
            ("GET", PREFIX + "/series/{series_ticker}/markets/{ticker}/candlesticks",
             self.candlesticks, None),
        ]


__all__ = ["MarketDataApi", "render_book", "render_trade"]
