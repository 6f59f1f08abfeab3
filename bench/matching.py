"""In-process matching throughput: the domain's book alone, no storage, no HTTP.

``python -m bench.matching --orders 200000`` drives one market's ``Book`` with a seeded mix
of order operations, as the matching engine sees them: new limit orders on both sides around
a mid price (a third of them crossing), each planned with ``place`` and applied, resting
remainders added, and cancels of random resting orders. It prints order operations per
second of CPU (``time.process_time``) on the core it runs on. Goal: at least 100,000.
"""

from __future__ import annotations

import argparse
import random
import time

from kalshi_sandbox.domain.book import Book, Resting
from kalshi_sandbox.domain.orders import OrderRequest, place
from kalshi_sandbox.domain.portfolio import TimeInForce
from kalshi_sandbox.domain.quote import Side

GTC = TimeInForce.GOOD_TILL_CANCELED


def run(orders: int, seed: int = 1) -> tuple[int, float]:
    """Run ``orders`` operations; return (operations, CPU seconds)."""
    rng = random.Random(seed)
    book = Book("BENCH")
    users = [f"user-{i}" for i in range(50)]
    requests = []
    for _ in range(orders):
        side = Side.YES if rng.random() < 0.5 else Side.NO
        offset = rng.randint(-3, 10) * 100
        price = 5_000 - offset if side is Side.YES else 5_000 + offset
        requests.append((rng.random() < 0.2, rng.choice(users),
                         OrderRequest("BENCH", side, price, rng.randint(1, 20) * 100, GTC)))
    resting: list[str] = []
    started = time.process_time()
    for number, (cancel, user, request) in enumerate(requests):
        if cancel and resting:
            index = rng.randrange(len(resting))
            resting[index], resting[-1] = resting[-1], resting[index]
            book.remove(resting.pop())
            continue
        placement = place(book, request, user)
        book.apply(placement.plan)
        if placement.rests:
            order_id = f"o{number}"
            book.add(Resting(order_id, user, 0, request.side, request.yes_price,
                             request.count - placement.plan.filled, book.next_priority()))
            resting.append(order_id)
        book.drain()
    return orders, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    operations, seconds = run(args.orders)
    print(f"matching: {operations} order operations in {seconds:.2f} s CPU = "
          f"{operations / seconds:,.0f} ops/s (goal 100,000)")


if __name__ == "__main__":
    main()
