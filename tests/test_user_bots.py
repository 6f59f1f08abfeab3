"""Testing trading bots with the ``kalshi_sandbox`` fixture, as a bot's author would.

Two small bots written on ``kalshi_sandbox.client``: a maker that listens for RFQs on the
WebSocket, quotes them and confirms what gets accepted; and a requester that asks for quotes,
takes the cheapest and waits for its fill by polling. Each is tested end to end against the
sandbox's built-in counterparties. Nothing sleeps: the tests move the sandbox clock, and wait
only for the bot to report what it did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    KalshiClient,
    Quote,
    QuoteAccepted,
    QuoteExecuted,
    QuoteStatus,
    RateLimitError,
    RfqCreated,
    Side,
    Subscribed,
)
from kalshi_sandbox.testing import KalshiSandbox

T = TypeVar("T")

# The bots ------------------------------------------------------------------------------------


class MakerBot:
    """Quote every RFQ at ``fair`` ± ``edge``; confirm each accepted quote at once.

    What it does goes on ``actions`` as ``(verb, id)``, so its owner (or a test) can follow.
    """

    def __init__(self, client: AsyncKalshiClient, fair: str = "0.50",
                 edge: str = "0.03") -> None:
        self.client = client
        self.yes_bid = Decimal(fair) - Decimal(edge)
        self.no_bid = 1 - Decimal(fair) - Decimal(edge)
        self.quotes: dict[str, str] = {}
        self.actions: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def run(self) -> None:
        me = await self.client.get_communications_id()
        async with self.client.subscribe("communications") as stream:
            async for message in stream:
                match message:
                    case Subscribed():
                        await self.actions.put(("listening", message.channel))
                    case RfqCreated() if message.creator_id != me:
                        quote_id = await self.client.create_quote(message.id, self.yes_bid,
                                                                  self.no_bid)
                        self.quotes[message.id] = quote_id
                        await self.actions.put(("quoted", message.id))
                    case QuoteAccepted() if message.quote_creator_id == me:
                        await self.client.confirm_quote(message.rfq_id, message.quote_id)
                        await self.actions.put(("confirmed", message.quote_id))
                    case QuoteExecuted() if message.quote_creator_id == me:
                        await self.actions.put(("executed", message.order_id))

    async def next_action(self) -> tuple[str, str]:
        """Wait for the bot's next action (a safety timeout, not a sleep)."""
        return await asyncio.wait_for(self.actions.get(), timeout=10)


class RequesterBot:
    """Ask for quotes on one market, take the cheapest for ``side``, report the outcome."""

    def __init__(self, client: KalshiClient, market: str, contracts: int,
                 side: str = "yes") -> None:
        self.client = client
        self.market = market
        self.contracts = contracts
        self.side = Side.parse(side)
        self.rfq_id: str | None = None
        self.taken: Quote | None = None

    def request(self) -> str:
        self.rfq_id = retrying(lambda: self.client.create_rfq(
            self.market, contracts=self.contracts, replace_existing=True))
        return self.rfq_id

    def cost(self, quote: Quote) -> Decimal | None:
        """What we pay per contract: holding YES means the maker sells it at 1 - no_bid."""
        maker_bid = quote.no_bid if self.side is Side.YES else quote.yes_bid
        return None if maker_bid == 0 else 1 - maker_bid

    def take_best(self) -> Quote | None:
        """Accept the cheapest open quote on our RFQ; None if there is none yet."""
        offers = [q for q in self.client.iter_quotes(rfq_id=self.rfq_id, status="open")
                  if self.cost(q) is not None]
        if not offers:
            return None
        best = min(offers, key=lambda q: self.cost(q) or Decimal(1))
        self.client.accept_quote(self.rfq_id, best.id, self.side)
        self.taken = best
        return best

    def outcome(self) -> Quote:
        assert self.taken is not None
        return self.client.get_quote(self.rfq_id, self.taken.id)


def retrying(call: Callable[[], T], attempts: int = 3) -> T:
    """Call again after a 429 (a real bot would back off; the sandbox needs no wait)."""
    for _ in range(attempts - 1):
        try:
            return call()
        except RateLimitError:
            continue
    return call()


# The tests -----------------------------------------------------------------------------------


def test_maker_bot_quotes_an_auto_requester_and_its_confirmed_quote_executes(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    market = sb.markets[0]
    taker = sb.counterparties.requester("taker", markets=[market], contracts="10",
                                        accept_delay=2, accept_side="yes")

    async def trade() -> tuple[str, str, str]:
        async with sb.async_client(sb.maker) as client:
            bot = MakerBot(client, fair="0.50", edge="0.03")
            running = asyncio.create_task(bot.run())
            try:
                assert await bot.next_action() == ("listening", "communications")
                rfq_id = await asyncio.to_thread(sb.counterparties.rfq, "taker")
                assert await bot.next_action() == ("quoted", rfq_id)
                await asyncio.to_thread(sb.clock.advance, 2)  # the taker accepts
                assert await bot.next_action() == ("confirmed", bot.quotes[rfq_id])
                await asyncio.to_thread(sb.clock.advance, 15)  # the execution delay
                verb, order_id = await bot.next_action()
                assert verb == "executed"
                return rfq_id, bot.quotes[rfq_id], order_id
            finally:
                running.cancel()

    rfq_id, quote_id, order_id = asyncio.run(trade())

    maker = sb.client(sb.maker)
    quote = maker.get_quote(rfq_id, quote_id)
    assert (quote.status, quote.accepted_side) == (QuoteStatus.EXECUTED, Side.YES)
    assert quote.creator_order_id == order_id
    # The taker holds YES, so the bot sold it: it holds NO at its no_bid of 0.47.
    fills = list(maker.iter_fills(order_id=order_id))
    assert [(f.side, f.count, f.no_price) for f in fills] == [
        ("no", Decimal(10), Decimal("0.47"))]
    position = maker.get_positions(ticker=market).market_positions
    assert [(p.ticker, p.position) for p in position] == [(market, Decimal(-10))]
    spent = Decimal("4.70") + sum((f.fee_cost or Decimal(0) for f in fills), Decimal(0))
    assert maker.get_balance().balance == Decimal("10000") - spent
    assert sb.counterparties.get("taker").user_id == taker.user_id


def test_requester_bot_takes_the_cheaper_of_two_auto_makers_and_is_filled(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    market = sb.markets[0]
    tight = sb.counterparties.maker("tight", markets=[market], fair_price="0.50",
                                    spread="0.02", quote_delay=1, confirm="always",
                                    confirm_delay=3)
    sb.counterparties.maker("wide", markets=[market], fair_price="0.50", spread="0.10",
                            quote_delay=1, confirm="always", confirm_delay=3)
    bot = RequesterBot(sb.client(sb.requester), market, contracts=10, side="yes")

    rfq_id = bot.request()
    assert bot.take_best() is None  # the makers quote one second after the RFQ
    sb.clock.advance(1)
    best = bot.take_best()
    assert best is not None
    assert best.creator_id == tight.communications_id
    assert bot.cost(best) == Decimal("0.51")
    assert bot.outcome().status == QuoteStatus.ACCEPTED

    sb.clock.advance(3)  # the maker confirms
    assert bot.outcome().status == QuoteStatus.CONFIRMED
    sb.clock.advance(15)  # the execution delay
    executed = bot.outcome()
    assert executed.status == QuoteStatus.EXECUTED
    assert sb.client(sb.requester).get_rfq(rfq_id).status == "closed"

    requester = sb.client(sb.requester)
    fills = list(requester.iter_fills(order_id=executed.rfq_creator_order_id))
    assert [(f.side, f.count, f.yes_price) for f in fills] == [
        ("yes", Decimal(10), Decimal("0.51"))]
    fee = sum((f.fee_cost or Decimal(0) for f in fills), Decimal(0))
    assert requester.get_balance().balance == Decimal("10000") - Decimal("5.10") - fee


def test_requester_bot_moves_on_when_the_maker_it_chose_never_confirms(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    market = sb.markets[0]
    sb.counterparties.maker("flaky", markets=[market], fair_price="0.50", spread="0.02",
                            quote_delay=1, confirm="never")
    bot = RequesterBot(sb.client(sb.requester), market, contracts=10)
    bot.request()
    sb.clock.advance(1)
    assert bot.take_best() is not None
    sb.clock.advance(30)  # the confirmation window lapses
    lapsed = bot.outcome()
    assert lapsed.status == QuoteStatus.CANCELLED
    requester = sb.client(sb.requester)
    assert list(requester.iter_fills()) == []
    assert requester.get_balance().balance == Decimal("10000")

    sb.counterparties.pause("flaky")
    sb.counterparties.maker("steady", markets=[market], fair_price="0.50", spread="0.04",
                            quote_delay=1, confirm_delay=1)
    bot.request()  # replace_existing closes the old RFQ
    sb.clock.advance(1)
    retaken = bot.take_best()
    assert retaken is not None
    assert retaken.creator_id == sb.counterparties.get("steady").communications_id
    sb.clock.advance(1 + 15)
    assert bot.outcome().status == QuoteStatus.EXECUTED


def test_requester_bot_retries_a_rate_limited_rfq(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    limit = sb.faults.rate_limit(path="/trade-api/v2/communications/rfqs", method="POST",
                                 account=sb.requester, count=1)
    bot = RequesterBot(sb.client(sb.requester), sb.markets[0], contracts=5)
    rfq_id = bot.request()
    assert sb.faults.get(limit).hits == 1
    assert [r.id for r in sb.client(sb.requester).iter_rfqs()] == [rfq_id]
