"""Journal figures: bytes per quote, and start-up with a large journal against a small one.

``python -m bench.journal`` (part of ``make bench``) builds each state **in process, through
the sandbox's app**: requests go through the ASGI app without sockets (journal middleware,
routes, exchange, SQLite in a temporary directory), acting as their accounts without
signatures, the way a journal replay sends them; the clock is manual and advanced so that
every confirmed quote executes. Each quote is a whole lifecycle: create RFQ, create quote,
accept, confirm, execute.

It prints:

* journal bytes per quote on disk (compressed segments and the active one) with the default
  settings, the uncompressed JSON Lines for comparison, and the same with
  ``journal_events=full`` (whole objects in event lines, as before compact entries);
* ``Sandbox.start()`` at the large state against the small one, after a clean stop and after
  an unclean one (the files a killed process leaves), median of ``--runs``: CPU and wall
  time, the part of it ``Journal.open`` took, and the journal bytes start-up read.

Goals: under 1,500 bytes per quote; start-up at the large state within 1.5x of the small
one.

Nothing is asserted; the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from kalshi_sandbox.bootstrap import Sandbox, build
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.keys import generate_rsa_key, public_pem_of
from kalshi_sandbox.powers.state.middleware import InProcess
from kalshi_sandbox.settings import Settings

RFQS = "/trade-api/v2/communications/rfqs"
QUOTES = "/trade-api/v2/communications/quotes"
CONTROL = "/sandbox/v1"
MARKET = "KXBENCH-26DEC31-J00"
SLOTS = 64
"""Lifecycles in flight at once (one requester account each)."""
MAKERS = 8

_encode = msgspec.json.encode
_decode = msgspec.json.decode


def settings(workdir: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": str(workdir), "clock": "manual", "seed": False,
                              "rate_limit": "off", "log_level": "warning",
                              "clock_start": "2026-03-01T00:00:00Z"}
    values.update(changes)
    return Settings(**values)


PUBLIC_PEM = public_pem_of(generate_rsa_key()[0])
"""The one key every account registers (accounts need one; no request is signed)."""


class Driver:
    """Requests through one sandbox's app, in process."""

    def __init__(self, box: Sandbox) -> None:
        self.send = InProcess(box.app).call

    async def ok(self, expect: int, method: str, path: str, body: Any = None,
                 actor: Actor | None = None) -> Any:
        raw = b"" if body is None else _encode(body)
        status, answer = await self.send(method, path, "", raw, actor)
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
        return _decode(answer) if answer else None

    async def account(self, name: str) -> Actor:
        data = await self.ok(201, "POST", CONTROL + "/accounts",
                             {"name": name, "balance_dollars": "100000000",
                              "public_key_pem": PUBLIC_PEM})
        return Actor(data["user_id"], data["communications_id"])


async def build_state(workdir: Path, quotes: int, **changes: Any) -> dict[str, float]:
    """Run ``quotes`` lifecycles into a sandbox on ``workdir``; stop it; return figures."""
    box = build(settings(workdir, **changes))
    await box.start()
    driver = Driver(box)
    await driver.ok(201, "POST", CONTROL + "/markets", {"ticker": MARKET})
    requesters = [await driver.account(f"requester-{i}") for i in range(SLOTS)]
    makers = [await driver.account(f"maker-{i}") for i in range(MAKERS)]

    async def lifecycle(slot: int) -> None:
        requester, maker = requesters[slot], makers[slot % MAKERS]
        rfq = await driver.ok(201, "POST", RFQS, {
            "market_ticker": MARKET, "contracts_fp": "10", "rest_remainder": False}, requester)
        quote = await driver.ok(201, "POST", QUOTES, {
            "rfq_id": rfq["id"], "yes_bid": "0.40", "no_bid": "0.55",
            "rest_remainder": False}, maker)
        base = f"{QUOTES}/{quote['id']}"
        await driver.ok(204, "PUT", base + "/accept", {"accepted_side": "yes"}, requester)
        await driver.ok(204, "PUT", base + "/confirm", None, maker)

    started = time.perf_counter()
    done = 0
    while done < quotes:
        batch = min(SLOTS, quotes - done)
        await asyncio.gather(*(lifecycle(slot) for slot in range(batch)))
        await driver.ok(200, "POST", CONTROL + "/clock/advance", {"seconds": 16})
        done += batch
    seconds = time.perf_counter() - started
    lines = sum(len(line) for line in box.journal.lines())
    await box.stop()
    return {"quotes": quotes, "seconds": seconds, "lines_bytes": lines,
            "disk_bytes": _journal_bytes(workdir)}


def _journal_bytes(workdir: Path) -> int:
    return sum(p.stat().st_size for p in workdir.glob("sandbox.journal.*"))


def crash_image(workdir: Path, target: Path) -> None:
    """Copy the database, its WAL and the journal as a killed process leaves them."""
    target.mkdir(parents=True, exist_ok=True)
    for path in workdir.iterdir():
        if path.is_file() and path.name.startswith("sandbox."):
            shutil.copy2(path, target / path.name)


async def time_start(workdir: Path, runs: int, *, unclean: bool) -> dict[str, float]:
    """Median wall and CPU seconds of ``Sandbox.start()`` on ``workdir``, of the journal's
    ``open`` within it, and the journal bytes it read.

    ``unclean``: each run starts from a copy of the files taken while the sandbox ran, after
    a request, as a SIGKILL would leave them.
    """
    wall: list[float] = []
    cpu: list[float] = []
    journal: list[float] = []
    read = 0
    for run in range(runs):
        directory = workdir
        if unclean:
            directory = workdir.with_name(f"{workdir.name}-crash-{run}")
            box = build(settings(workdir))
            await box.start()
            await Driver(box).ok(200, "POST", CONTROL + "/clock/advance", {"seconds": 1})
            crash_image(workdir, directory)
            await box.stop()
        box = build(settings(directory))
        opening = box.journal.open

        async def timed_open(opening: Callable[[], Awaitable[None]] = opening) -> None:
            started = time.perf_counter()
            await opening()
            journal.append(time.perf_counter() - started)

        box.journal.open = timed_open  # type: ignore[method-assign]
        started, used = time.perf_counter(), time.process_time()
        await box.start()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        assert box.journal.segments is not None
        read = box.journal.segments.bytes_read
        await box.stop()
        if unclean:
            shutil.rmtree(directory)
    return {"seconds": statistics.median(wall), "cpu": statistics.median(cpu),
            "journal_open": statistics.median(journal), "read": read}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        print("journal: states built in process through the app (ASGI without sockets; "
              "requests act as their accounts without signatures, as a replay sends them)",
              flush=True)
        large = await build_state(root / "large", args.quotes)
        small = await build_state(root / "small", args.small)
        full = await build_state(root / "full", args.small, journal_events="full")
        per_quote = large["disk_bytes"] / large["quotes"]
        print(f"  {large['quotes']:,} quotes in {large['seconds']:.1f} s: journal "
              f"{large['disk_bytes'] / 1e6:.2f} MB on disk, {per_quote:,.0f} bytes per quote "
              f"(goal < 1,500); uncompressed {large['lines_bytes'] / large['quotes']:,.0f}",
              flush=True)
        print(f"  journal_events=full ({full['quotes']:,} quotes): "
              f"{full['disk_bytes'] / full['quotes']:,.0f} bytes per quote on disk, "
              f"uncompressed {full['lines_bytes'] / full['quotes']:,.0f}", flush=True)
        figures: dict[str, Any] = {"bytes_per_quote": per_quote, "large": large,
                                   "small": small, "full": full}
        for unclean in (False, True):
            big = await time_start(root / "large", args.runs, unclean=unclean)
            little = await time_start(root / "small", args.runs, unclean=unclean)
            ratio = big["cpu"] / little["cpu"]
            stop = "an unclean stop" if unclean else "a clean stop"
            print(f"start-up after {stop} (Sandbox.start, median of {args.runs}; CPU, wall, "
                  f"of which Journal.open):\n"
                  f"  {large['quotes']:,} quotes ({large['disk_bytes'] / 1e6:.1f} MB of "
                  f"journal): {_ms(big['cpu'])}, {_ms(big['seconds'])}, "
                  f"{_ms(big['journal_open'])}; journal bytes read {big['read']:,}\n"
                  f"  {small['quotes']:,} quotes: {_ms(little['cpu'])}, "
                  f"{_ms(little['seconds'])}, {_ms(little['journal_open'])}; journal bytes "
                  f"read {little['read']:,}\n"
                  f"  CPU ratio {ratio:.2f} (goal <= 1.5)", flush=True)
            figures["unclean" if unclean else "clean"] = {"large": big, "small": little,
                                                         "ratio": ratio}
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.journal",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quotes", type=int, default=20_000,
                        help="lifecycles of the large state (default 20000)")
    parser.add_argument("--small", type=int, default=500,
                        help="lifecycles of the small state (default 500)")
    parser.add_argument("--runs", type=int, default=5, help="start-ups timed (default 5)")
    args = parser.parse_args(argv)
    if args.quotes < 1 or args.small < 1 or args.runs < 1:
        parser.error("--quotes, --small and --runs must be positive")
    import uvloop

    uvloop.run(run(args))


if __name__ == "__main__":
    main()
