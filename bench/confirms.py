"""Signed Confirm Quote requests sent through the sandbox's ASGI app in process, no sockets.

``python -m bench.confirms --count 2000`` wires a sandbox as ``kalshi-sandbox serve`` would
(manual clock, rate limits off, SQLite in a temporary directory), creates and accepts
``count`` quotes through the API, signs their confirms, then sends them ``--batch`` at a time
(concurrent tasks, like the load generator's connections) and prints the CPU per confirm.

With ``--wait-file PATH`` it stops before the confirms until PATH exists, so that an
instruction counter can be switched on for the confirms alone::

    valgrind --tool=callgrind --collect-atstart=no python -m bench.confirms \\
        --wait-file /tmp/go &
    # once "ready" is printed: callgrind_control -i on; touch /tmp/go
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from bench.scenario import CONTROL, QUOTES, RFQS, Signer
from kalshi_sandbox.bootstrap import build
from kalshi_sandbox.client.auth import now_ms
from kalshi_sandbox.settings import Settings

_encode = msgspec.json.encode
_decode = msgspec.json.decode


class App:
    """Requests through an ASGI app, in the shape uvicorn gives them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, method: str, path: str, headers: Sequence[tuple[str, str]] = (),
                   body: bytes = b"") -> tuple[int, bytes]:
        raw = [(b"host", b"127.0.0.1:8000")]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers]
        if body or method in ("POST", "PUT"):
            raw += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "scheme": "http", "method": method,
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": raw, "state": {},
        }
        status = 0
        out: list[bytes] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(out)


def signed(signer: Signer, key_id: str, method: str, path: str) -> list[tuple[str, str]]:
    ts = now_ms()
    return [("KALSHI-ACCESS-KEY", key_id), ("KALSHI-ACCESS-TIMESTAMP", str(ts)),
            ("KALSHI-ACCESS-SIGNATURE", signer.sign(ts, method, path))]


def _wait_for(path: str) -> None:
    while not os.path.exists(path):
        time.sleep(0.05)


async def run(count: int, batch: int, wait_file: str | None,
              profile: str | None = None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-confirms-"))
    settings = Settings(data_dir=str(workdir), clock="manual", seed=False, rate_limit="off",
                        log_level="warning", timestamp_past_tolerance=3600.0)
    sandbox = build(settings)
    await sandbox.start()
    app = App(sandbox.app)
    signer = Signer.generate()
    markets = 50

    async def ok(expect: int, *args: Any, **kwargs: Any) -> Any:
        status, body = await app.call(*args, **kwargs)
        if status != expect:
            raise RuntimeError(f"{args[:2]}: {status} {body[:300]!r}")
        return _decode(body) if body else None

    tickers = []
    for m in range(markets):
        ticker = f"KXBENCH-26DEC31-M{m:03d}"
        await ok(201, "POST", CONTROL + "/markets", body=_encode({"ticker": ticker}))
        tickers.append(ticker)

    async def account(name: str) -> str:
        data = await ok(201, "POST", CONTROL + "/accounts", body=_encode(
            {"name": name, "balance_dollars": "100000000", "public_key_pem": signer.public_pem}))
        return str(data["key_id"])

    requesters = [await account(f"requester-{i}") for i in range(-(-count // markets))]
    makers = [await account(f"maker-{i}") for i in range(10)]
    confirms = []
    for i in range(count):
        requester, maker = requesters[i // markets], makers[i % len(makers)]
        rfq = await ok(201, "POST", RFQS, signed(signer, requester, "POST", RFQS), _encode(
            {"market_ticker": tickers[i % markets], "contracts_fp": "10.00",
             "rest_remainder": False}))
        quote = await ok(201, "POST", QUOTES, signed(signer, maker, "POST", QUOTES), _encode(
            {"rfq_id": rfq["id"], "yes_bid": "0.40", "no_bid": "0.55",
             "rest_remainder": False}))
        path = f"{QUOTES}/{quote['id']}/accept"
        await ok(204, "PUT", path, signed(signer, requester, "PUT", path),
                 _encode({"accepted_side": "yes"}))
        path = f"{QUOTES}/{quote['id']}/confirm"
        confirms.append((path, signed(signer, maker, "PUT", path)))
    print("ready", flush=True)
    if wait_file:
        await asyncio.to_thread(_wait_for, wait_file)
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    if profiler is not None:
        profiler.enable()
    statuses: list[tuple[int, bytes]] = []
    for start in range(0, count, batch):
        statuses += await asyncio.gather(*(app.call("PUT", path, headers)
                                           for path, headers in confirms[start:start + batch]))
    # The commits of the last confirms (on the store's committer thread) are awaited above.
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    cpu = time.process_time() - cpu
    bad = [s for s in statuses if s[0] != 204]
    if bad:
        raise RuntimeError(f"confirms not answered 204: {len(bad)}, e.g. {bad[0]!r}")
    print(f"{count} confirms: {cpu / count * 1e6:.1f} us CPU each", flush=True)
    await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--wait-file", default=None)
    parser.add_argument("--profile", default=None,
                        help="write cProfile statistics of the confirms to this file")
    args = parser.parse_args(argv)
    import uvloop
    uvloop.run(run(args.count, args.batch, args.wait_file, args.profile))


if __name__ == "__main__":
    main()
