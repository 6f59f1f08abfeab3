"""What a built-in counterparty does when its timer fires: quote, confirm, accept or delete,
create an RFQ. Each goes through the exchange's use cases as the counterparty's account and
records its outcome in the counterparty's activity.
"""

from __future__ import annotations

from kalshi_sandbox.domain.errors import (
    InvalidParameters,
    SandboxError,
)
from kalshi_sandbox.domain.money import (
    ONE_DOLLAR,
    format_price,
)
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.exchange.commands import CreateQuote, CreateRfq, QuoteFilters, RfqFilters
from kalshi_sandbox.exchange.engine import ALL, Exchange
from kalshi_sandbox.powers.counterparties.bots import Bot
from kalshi_sandbox.powers.counterparties.config import (
    MakerConfig,
    RequesterConfig,
)
from kalshi_sandbox.powers.counterparties.strategy import best_choice, maker_prices


async def quote(exchange: Exchange, bot: Bot, rfq_id: str) -> None:
    config = bot.config
    assert isinstance(config, MakerConfig)
    now = exchange.clock.now()
    try:
        rfq = await exchange.get_rfq(bot.actor, rfq_id)
        if rfq.status is not RfqStatus.OPEN:
            bot.record(now, "quote", "rfq_closed", rfq_id=rfq_id)
            return
        market = await exchange.get_market(rfq.market_ticker)
        fair = config.fair_price or market.last_price or ONE_DOLLAR // 2
        yes_bid, no_bid = maker_prices(fair, config.spread, market)
        if yes_bid == 0 and no_bid == 0:
            bot.record(now, "quote", "no_price", rfq_id=rfq_id,
                       detail="the spread leaves no bid on the price grid")
            return
        quote = await exchange.create_quote(bot.actor, CreateQuote(
            rfq_id=rfq_id, yes_bid=yes_bid, no_bid=no_bid, rest_remainder=False))
    except SandboxError as exc:
        bot.record(now, "quote", exc.code, rfq_id=rfq_id, detail=str(exc))
        return
    bot.record(now, "quote", rfq_id=rfq_id, quote_id=quote.id,
               yes_bid=format_price(yes_bid), no_bid=format_price(no_bid))

async def confirm(exchange: Exchange, bot: Bot, quote_id: str) -> None:
    now = exchange.clock.now()
    try:
        await exchange.confirm_quote(bot.actor, quote_id)
    except SandboxError as exc:
        bot.record(now, "confirm", exc.code, quote_id=quote_id, detail=str(exc))
        return
    bot.record(now, "confirm", quote_id=quote_id)

async def decide(exchange: Exchange, bot: Bot, rfq_id: str) -> None:
    config = bot.config
    assert isinstance(config, RequesterConfig)
    now = exchange.clock.now()
    try:
        quotes = (await exchange.list_quotes(
            bot.actor, QuoteFilters(rfq_id=rfq_id, only_my_rfqs=True))).items
        if any(q.status in (QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED,
                            QuoteStatus.EXECUTED) for q in quotes):
            return
        choice = best_choice(quotes, config.accept_side,
                             flip=exchange.rules.accepted_side_flip)
        if choice is None:
            return
        p = config.delete_probability
        if p >= 1.0 or (p > 0.0 and bot.rng.random() < p):
            await exchange.delete_rfq(bot.actor, rfq_id)
            bot.record(now, "delete_rfq", rfq_id=rfq_id)
            return
        quote, side = choice
        await exchange.accept_quote(bot.actor, quote.id, side, rfq_id)
    except SandboxError as exc:
        bot.record(now, "accept", exc.code, rfq_id=rfq_id, detail=str(exc))
        return
    bot.record(now, "accept", rfq_id=rfq_id, quote_id=quote.id, side=side.value)


async def create_rfq(exchange: Exchange, bot: Bot, market: str | None = None,
                     contracts: int | None = None) -> Rfq:
    """Create an RFQ for ``bot``; without ``market``, on its next market without one open."""
    config = bot.config
    assert isinstance(config, RequesterConfig)
    now = exchange.clock.now()
    try:
        ticker = market or await _next_market(exchange, bot, config)
        rfq = await exchange.create_rfq(bot.actor, CreateRfq(
            market_ticker=ticker, rest_remainder=False,
            contracts=contracts or config.contracts))
    except SandboxError as exc:
        bot.record(now, "rfq", exc.code, market=market, detail=str(exc))
        raise
    bot.record(now, "rfq", rfq_id=rfq.id, market=rfq.market_ticker)
    return rfq

async def _next_market(exchange: Exchange, bot: Bot, config: RequesterConfig) -> str:
    if config.markets is not None:
        # Only the configured markets open now: a closed or settled one is skipped.
        found = await exchange.list_markets(MarketQuery(limit=len(config.markets),
                                                        tickers=tuple(config.markets)))
        tradable = {m.ticker for m in found.items if m.tradable}
        candidates = [t for t in config.markets if t in tradable]
    else:
        markets = await exchange.list_markets(MarketQuery(limit=ALL))
        candidates = [m.ticker for m in markets.items if m.tradable]
    mine = (await exchange.list_rfqs(
        bot.actor, RfqFilters(limit=1000, status=RfqStatus.OPEN, only_mine=True))).items
    busy = {r.market_ticker for r in mine}
    for step in range(len(candidates)):
        index = (bot.cursor + step) % len(candidates)
        if candidates[index] not in busy:
            bot.cursor = index + 1
            return candidates[index]
    raise InvalidParameters(
        f"requester {bot.name} has an open rfq on each of its markets"
        if candidates else f"requester {bot.name} has no tradable market")


__all__ = ["confirm", "create_rfq", "decide", "quote"]
