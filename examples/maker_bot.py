"""A market-maker bot: quote every RFQ it sees, confirm every quote that gets accepted.

It listens on the ``communications`` WebSocket channel. For each new RFQ it quotes a fixed
spread (``--yes-bid`` / ``--no-bid``, snapped down onto the market's price grid); when a
requester accepts, it confirms at once; when the trade executes it prints its fills.

Run it against the sandbox (``kalshi-sandbox serve`` in another terminal) as the seeded demo
maker, or against Kalshi's demo with your own key::

    python examples/maker_bot.py
    KALSHI_API_KEY_ID=... KALSHI_PRIVATE_KEY_PATH=key.pem python examples/maker_bot.py --env demo

Nothing but the environment differs between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from decimal import ROUND_FLOOR, Decimal

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    Credentials,
    KalshiError,
    Market,
    QuoteAccepted,
    QuoteExecuted,
    Reconnected,
    RfqCreated,
    RfqDeleted,
    SequenceGap,
    Subscribed,
    SubscriptionDropped,
)


def snap(price: Decimal, market: Market) -> Decimal:
    """Round ``price`` down onto the market's grid (0 if no band holds it)."""
    for band in market.price_ranges:
        if band.start <= price <= band.end:
            steps = ((price - band.start) / band.step).to_integral_value(ROUND_FLOOR)
            return band.start + steps * band.step
    return Decimal(0)


def credentials(env: str, data_dir: str) -> Credentials | None:
    """Use the usual environment variables, or the sandbox's seeded demo maker."""
    found = Credentials.from_env()
    if found is None and env == "sandbox":
        found = Credentials.sandbox_demo("maker", data_dir)
    return found


async def run(args: argparse.Namespace) -> None:
    client = AsyncKalshiClient(args.env, base_url=args.base_url,
                               credentials=credentials(args.env, args.data_dir))
    async with client:
        me = await client.get_communications_id()
        yes_bid, no_bid = Decimal(args.yes_bid), Decimal(args.no_bid)
        executed = 0
        async with client.subscribe("communications") as stream:
            async for event in stream:
                if isinstance(event, Subscribed):
                    print(f"listening for RFQs as {me[:12]}", flush=True)
                elif isinstance(event, RfqCreated) and event.creator_id != me:
                    market = await client.get_market(event.market_ticker)
                    yes, no = snap(yes_bid, market), snap(no_bid, market)
                    try:
                        quote_id = await client.create_quote(event.id, yes, no)
                    except KalshiError as exc:  # closed already, balance, grid...
                        print(f"could not quote RFQ {event.id}: {exc}", flush=True)
                        continue
                    print(f"quoted RFQ {event.id} on {event.market_ticker}: "
                          f"yes {yes} / no {no} (quote {quote_id})", flush=True)
                elif isinstance(event, QuoteAccepted) and event.quote_creator_id == me:
                    await client.confirm_quote(event.rfq_id, event.quote_id)
                    print(f"confirmed quote {event.quote_id} "
                          f"(requester took {event.accepted_side})", flush=True)
                elif isinstance(event, QuoteExecuted) and event.quote_creator_id == me:
                    async for fill in client.iter_fills(order_id=event.order_id):
                        print(f"executed: bought {fill.count} {fill.side} on {fill.ticker} "
                              f"at yes-price {fill.yes_price}, fee {fill.fee_cost}",
                              flush=True)
                    executed += 1
                    if args.max_trades and executed >= args.max_trades:
                        break
                elif isinstance(event, RfqDeleted):
                    pass  # its quotes are cancelled by the exchange; nothing to do
                elif isinstance(event, SequenceGap | SubscriptionDropped | Reconnected):
                    # Messages were lost: a real bot would re-read open RFQs over REST.
                    print(f"stream hiccup: {event}", flush=True)
        balance = await client.get_balance()
        print(f"balance ${balance.balance}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default=os.environ.get("KALSHI_ENV", "sandbox"),
                        choices=["sandbox", "demo", "prod"])
    parser.add_argument("--url", "--base-url", dest="base_url",
                        default=os.environ.get("KALSHI_BASE_URL")
                        or os.environ.get("KALSHI_SANDBOX_URL"),
                        help="server root or REST URL (default: KALSHI_SANDBOX_URL, or "
                             "the --env preset)")
    parser.add_argument("--data-dir", default=".kalshi-sandbox",
                        help="sandbox data directory (for the demo maker's key)")
    parser.add_argument("--yes-bid", default="0.45", help="bid for YES, dollars")
    parser.add_argument("--no-bid", default="0.50", help="bid for NO, dollars")
    parser.add_argument("--max-trades", type=int, default=0,
                        help="stop after this many executions (0: run until Ctrl-C)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
