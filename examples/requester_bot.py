"""A requester bot: ask for quotes, take the best one, and wait for the fill.

It subscribes to the ``communications`` channel, creates an RFQ, collects quotes for
``--wait`` seconds (or until ``--quotes`` have arrived), accepts the cheapest one for the side
it wants, and prints its fills once the maker has confirmed and the trade has executed.

Run it against the sandbox (``kalshi-sandbox serve``, plus ``examples/maker_bot.py`` to quote)
as the seeded demo requester, or against Kalshi's demo with your own key::

    python examples/requester_bot.py --contracts 10 --side yes
    KALSHI_API_KEY_ID=... KALSHI_PRIVATE_KEY_PATH=key.pem \\
        python examples/requester_bot.py --env demo --market KXSOMETHING-26DEC31-T50
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from decimal import Decimal

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    Credentials,
    QuoteCreated,
    QuoteExecuted,
    RfqDeleted,
    Side,
    Subscribed,
    Subscription,
)


def credentials(env: str, data_dir: str) -> Credentials | None:
    """Use the usual environment variables, or the sandbox's seeded demo requester."""
    found = Credentials.from_env()
    if found is None and env == "sandbox":
        found = Credentials.sandbox_demo("requester", data_dir)
    return found


def cost(offer: QuoteCreated, side: Side) -> Decimal | None:
    """Return what we pay per contract for ``side``, or None if the maker declined it.

    Taking YES means the maker takes NO at its NO bid, so we pay ``1 - no_bid``.
    """
    maker_bid = offer.no_bid if side is Side.YES else offer.yes_bid
    return None if maker_bid == 0 else Decimal(1) - maker_bid


async def collect(stream: Subscription, rfq_id: str, want: int,
                  wait: float) -> list[QuoteCreated]:
    """Gather quotes on our RFQ until ``want`` arrived or ``wait`` seconds passed."""
    offers: list[QuoteCreated] = []
    try:
        async with asyncio.timeout(wait):
            async for event in stream:
                if isinstance(event, QuoteCreated) and event.rfq_id == rfq_id:
                    print(f"quote {event.quote_id}: yes {event.yes_bid} / no {event.no_bid}",
                          flush=True)
                    offers.append(event)
                    if len(offers) >= want:
                        break
    except TimeoutError:
        pass
    return offers


async def run(args: argparse.Namespace) -> int:
    side = Side.parse(args.side)
    client = AsyncKalshiClient(args.env, base_url=args.base_url,
                               credentials=credentials(args.env, args.data_dir))
    async with client, client.subscribe("communications") as stream:
        async for event in stream:
            if isinstance(event, Subscribed):
                break
        rfq_id = await client.create_rfq(args.market, contracts=Decimal(args.contracts),
                                         replace_existing=True)
        print(f"RFQ {rfq_id}: {args.contracts} contracts of {args.market}", flush=True)

        offers = [o for o in await collect(stream, rfq_id, args.quotes, args.wait)
                  if cost(o, side) is not None]
        if not offers:
            await client.delete_rfq(rfq_id)
            print("no usable quote arrived; RFQ withdrawn", flush=True)
            return 1
        best = min(offers, key=lambda o: cost(o, side) or Decimal(1))
        await client.accept_quote(rfq_id, best.quote_id, side)
        print(f"accepted quote {best.quote_id}: {side} at {cost(best, side)} per contract; "
              "waiting for the maker to confirm and the trade to execute", flush=True)

        async for event in stream:
            if isinstance(event, QuoteExecuted) and event.quote_id == best.quote_id:
                async for fill in client.iter_fills(order_id=event.order_id):
                    print(f"filled {fill.count} {fill.side} at yes-price {fill.yes_price}, "
                          f"fee {fill.fee_cost}", flush=True)
                break
            if isinstance(event, RfqDeleted) and event.id == rfq_id:
                quote = await client.get_quote(rfq_id, best.quote_id)
                if quote.status != "executed":
                    print(f"RFQ closed without a trade (quote {quote.status}, "
                          f"{quote.cancellation_reason})", flush=True)
                    return 1
        balance = await client.get_balance()
        print(f"balance ${balance.balance}", flush=True)
    return 0


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
                        help="sandbox data directory (for the demo requester's key)")
    parser.add_argument("--market", default="KXSANDBOX-26DEC31-T50")
    parser.add_argument("--contracts", default="10")
    parser.add_argument("--side", default="yes", choices=["yes", "no"])
    parser.add_argument("--quotes", type=int, default=3, help="stop collecting after this many")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to collect quotes")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
