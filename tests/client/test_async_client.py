"""The asyncio client and its WebSocket subscription against a real sandbox process."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    FillMessage,
    QuoteAccepted,
    QuoteCreated,
    QuoteExecuted,
    QuoteStatus,
    Reconnected,
    RfqCreated,
    RfqDeleted,
    Side,
    Subscribed,
    UserOrderMessage,
)
from tests.client.streams import Collector
from tests.conftest import MARKET
from tests.support.server import Account, Control, ServerProcess


def _client(base_url: str, account: Account) -> AsyncKalshiClient:
    return AsyncKalshiClient(base_url=base_url, key_id=account.key_id,
                             private_key=account.private_key_pem, credentials_from_env=False)


def test_async_lifecycle_streams_every_communications_message_to_both_parties(
        control: Control, requester: Account, maker: Account) -> None:
    async def scenario() -> None:
        async with _client(control.base_url, requester) as buyer, \
                _client(control.base_url, maker) as seller:
            buyer_feed = Collector(buyer.subscribe("communications"))
            seller_feed = Collector(seller.subscribe())
            try:
                await buyer_feed.expect(Subscribed, channel="communications")
                await seller_feed.expect(Subscribed, channel="communications")

                rfq_id = await buyer.create_rfq(MARKET, contracts=Decimal("10"))
                created = await seller_feed.expect(RfqCreated, id=rfq_id)
                assert (created.contracts, created.creator_id) == (Decimal("10.00"),
                                                                   requester.communications_id)

                quote_id = await seller.create_quote(created.id, "0.40", "0.55")
                offer = await buyer_feed.expect(QuoteCreated, quote_id=quote_id)
                assert (offer.yes_bid, offer.no_bid) == (Decimal("0.4000"), Decimal("0.5500"))

                await buyer.accept_quote(offer.rfq_id, offer.quote_id, "yes")
                accepted = await seller_feed.expect(QuoteAccepted, quote_id=quote_id)
                assert accepted.accepted_side is Side.YES
                await seller.confirm_quote(accepted.rfq_id, accepted.quote_id)
                control.advance(15)

                mine = await seller_feed.expect(QuoteExecuted, quote_id=quote_id)
                theirs = await buyer_feed.expect(QuoteExecuted, quote_id=quote_id)
                assert mine.order_id != theirs.order_id
                await buyer_feed.expect(RfqDeleted, id=rfq_id)
                quote = await buyer.get_quote(rfq_id, quote_id)
                assert quote.status == QuoteStatus.EXECUTED
                assert quote.rfq_creator_order_id == theirs.order_id
                fills = [f async for f in buyer.iter_fills(order_id=theirs.order_id)]
                assert [(f.count, f.yes_price) for f in fills] == [(Decimal("10.00"),
                                                                    Decimal("0.4500"))]
                assert (await seller.get_balance()).balance == Decimal("994.4566")
                assert buyer_feed.subscription.gaps == 0
            finally:
                await buyer_feed.close()
                await seller_feed.close()

    asyncio.run(scenario())


def test_async_iterators_follow_cursors_across_pages(control: Control,
                                                     requester: Account) -> None:
    tickers = [f"KXAPAGE-26DEC31-T{n}" for n in range(3)]
    for ticker in tickers:
        control.market(ticker)

    async def scenario() -> None:
        async with _client(control.base_url, requester) as client:
            made = [await client.create_rfq(t, contracts=1) for t in tickers]
            page = await client.list_rfqs(limit=1)
            assert page.has_more
            listed = [r.id async for r in client.iter_rfqs(limit=1, user_filter="self")]
            assert sorted(listed) == sorted(made)
            markets = [m.ticker async for m in client.iter_markets(limit=2)]
            assert len(markets) == len(set(markets)) == 5

    asyncio.run(scenario())


def test_subscription_reconnects_and_resubscribes_after_the_server_restarts(
        tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "restart").start()
    control = Control(server.base_url)
    try:
        control.market(MARKET)
        account = control.account("watcher", "100")

        async def scenario() -> None:
            async with _client(server.base_url, account) as client:
                feed = Collector(client.subscribe(backoff=0.05, backoff_max=0.2))
                try:
                    first = await feed.expect(Subscribed)
                    await asyncio.to_thread(server.kill)
                    await asyncio.to_thread(server.start)
                    reconnected = await feed.expect(Reconnected)
                    assert reconnected.attempts >= 1
                    again = await feed.expect(Subscribed, channel="communications")
                    assert first.channel == again.channel
                    rfq_id = await client.create_rfq(MARKET, contracts=2)
                    seen = await feed.expect(RfqCreated, id=rfq_id)
                    assert seen.sid == again.sid
                    assert feed.subscription.reconnects == 1
                finally:
                    await feed.close()

        asyncio.run(scenario())
    finally:
        control.close()
        server.stop()


def test_a_timeout_around_the_loop_keeps_the_connection_and_its_messages(
        control: Control, requester: Account) -> None:
    async def scenario() -> None:
        async with _client(control.base_url, requester) as client, \
                client.subscribe() as stream:
            assert isinstance(await anext(stream), Subscribed)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    async for event in stream:
                        raise AssertionError(f"nothing was sent, got {event}")
            rfq_id = await client.create_rfq(MARKET, contracts=1)
            async with asyncio.timeout(15):
                created = await anext(stream)
            assert isinstance(created, RfqCreated)
            assert (created.id, created.seq) == (rfq_id, 1)
            assert stream.reconnects == 0

    asyncio.run(scenario())


def test_private_channels_arrive_as_typed_fill_and_order_messages(
        control: Control, requester: Account, maker: Account) -> None:
    async def scenario() -> None:
        async with _client(control.base_url, requester) as buyer, \
                _client(control.base_url, maker) as seller:
            feed = Collector(buyer.subscribe("fill", "user_orders"))
            try:
                await feed.expect(Subscribed, channel="fill")
                await feed.expect(Subscribed, channel="user_orders")
                rfq_id = await buyer.create_rfq(MARKET, contracts=Decimal("10"))
                quote_id = await seller.create_quote(rfq_id, "0.40", "0.55")
                await buyer.accept_quote(rfq_id, quote_id, "yes")
                await seller.confirm_quote(rfq_id, quote_id)
                control.advance(15)

                order = await feed.expect(UserOrderMessage)
                fill = await feed.expect(FillMessage, order_id=order.order_id)
                quote = await buyer.get_quote(rfq_id, quote_id)
                assert order.order_id == quote.rfq_creator_order_id
                assert (order.ticker, order.status, order.side, order.yes_price,
                        order.initial_count, order.fill_count, order.remaining_count) == (
                    MARKET, "executed", Side.YES, Decimal("0.4500"), Decimal("10.00"),
                    Decimal("10.00"), Decimal("0.00"))
                assert order.client_order_id is not None
                assert order.client_order_id.endswith(quote_id)
                rest = [f async for f in buyer.iter_fills(order_id=order.order_id)]
                assert len(rest) == 1
                assert (fill.trade_id, fill.market_ticker, fill.side, fill.yes_price,
                        fill.no_price, fill.count, fill.is_taker, fill.post_position) == (
                    rest[0].fill_id, MARKET, Side.YES, Decimal("0.4500"), Decimal("0.5500"),
                    Decimal("10.00"), True, Decimal("10.00"))
                assert fill.fee_cost is not None
                assert fill.fee_cost > 0
                assert fill.client_order_id == order.client_order_id
                created = rest[0].created_time
                assert created is not None
                assert fill.ts == created.replace(microsecond=created.microsecond // 1000 * 1000)
            finally:
                await feed.close()

    asyncio.run(scenario())
