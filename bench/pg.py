"""Lifecycles on PostgreSQL with one instance and with two, and on SQLite, in one run.

``python -m bench.pg`` (part of ``make bench``) runs the same end-to-end load against three
set-ups, one after the other: the sandbox on SQLite; on PostgreSQL with one instance; on
PostgreSQL with two instances (``--shared``) serving one exchange, the load generator's
connections spread over them. A lifecycle is four signed requests (create RFQ, create quote,
accept, confirm), signed as they go, then the execution, which the instance that took the
confirm fires at once (``--execution-delay 0``, system clock); a run ends when every quote
has executed.

The sandbox processes are pinned with taskset to the server core (both instances on the same
one: this machine has two cores, and the load generator has the other), PostgreSQL is not
pinned. So the wall-clock rates of one and two instances are not comparable as capacity;
what the run shows honestly is CPU per lifecycle: the instances' CPU (summed) and the
database backends', and the coordination counters each instance reports on its health
endpoint (lock waits, retries, time the exchange lock was held). From them it projects the
rate of two instances with a core each, against one instance's measured rate R1:

    min(2 x C1 / C2, 1 / (H2 x R1))

where C1 and C2 are instance CPU seconds per lifecycle with one and with two instances (the
CPU bound: two cores do twice the work, less any coordination tax) and H2 is the seconds per
lifecycle the exchange lock was held with two instances (the serial bound: no number of
instances commits faster than one holder at a time). Goals: C2 within 15 % of C1, projection
at least 1.7x. No timing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import uvloop

from bench.loadgen import Pool, build_request
from bench.scenario import QUOTES, RFQS, Signer, World, auth_headers, setup_world
from bench.servers import Server, process_times
from kalshi_sandbox.client.auth import now_ms

RESULTS = Path(__file__).parent / "results"
ADMIN_DSN = os.environ.get("KALSHI_SANDBOX_BENCH_PG",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "kalshi_sandbox_bench"
CPU_GOAL = 1.15
SCALING_GOAL = 1.7

_encode = msgspec.json.encode
_decode = msgspec.json.decode


@dataclass
class Setup:
    """One configuration: a database and a number of instances."""

    name: str
    postgres: bool
    instances: int


SETUPS = (Setup("sqlite, 1 instance", False, 1), Setup("postgres, 1 instance", True, 1),
          Setup("postgres, 2 instances", True, 2))


@dataclass
class Result:
    """What one configuration's timed run measured."""

    setup: Setup
    lifecycles: int
    seconds: float = 0.0
    server_cpu: float = 0.0
    server_wait: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    coordination: dict[str, float] = field(default_factory=dict)

    def per_lifecycle_us(self, seconds: float) -> float:
        return seconds / self.lifecycles * 1e6

    @property
    def rate(self) -> float:
        return self.lifecycles / self.seconds if self.seconds else 0.0

    def per_thousand(self, key: str) -> float:
        return self.coordination.get(key, 0.0) / self.lifecycles * 1000

    def as_dict(self) -> dict[str, Any]:
        return {
            "setup": self.setup.name, "lifecycles": self.lifecycles, "seconds": self.seconds,
            "lifecycles_per_second": self.rate,
            "server_cpu_us_per_lifecycle": self.per_lifecycle_us(self.server_cpu),
            "server_wait_us_per_lifecycle": self.per_lifecycle_us(self.server_wait),
            "database_cpu_us_per_lifecycle": self.per_lifecycle_us(self.database_cpu),
            "client_cpu_us_per_lifecycle": self.per_lifecycle_us(self.client_cpu),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "coordination": self.coordination,
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pg",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--lifecycles", type=int, default=600,
                        help="timed lifecycles per configuration (default 600)")
    parser.add_argument("--warm-up", type=int, default=100,
                        help="untimed lifecycles first (default 100)")
    parser.add_argument("--connections", type=int, default=32,
                        help="concurrent lifecycles, over keep-alive connections (default 32)")
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--makers", type=int, default=10)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    return parser.parse_args(argv)


def pin_client(core: int) -> bool:
    cores = os.sched_getaffinity(0)
    if len(cores) < 2 or core not in cores:
        print(f"warning: cannot pin to core {core}; running unpinned", file=sys.stderr)
        return False
    os.sched_setaffinity(0, {core})
    return True


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def admin(sql: str) -> None:
    """Run ``sql`` in the bench database."""
    connection = await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + "/" + DATABASE)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def database_url(schema: str) -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{DATABASE}?options=-csearch_path%3D{schema}"


async def database_backends() -> list[int]:
    """Return the pids of the bench database's sandbox connections."""
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 "
            "AND application_name = 'kalshi-sandbox'", DATABASE)
    finally:
        await connection.close()
    return [int(r["pid"]) for r in rows]


def cpu_of(pids: list[int]) -> float:
    return sum(process_times(pid)[0] for pid in pids)


def coordination(servers: list[Server]) -> dict[str, float]:
    """Sum the instances' coordination counters (their health endpoints)."""
    total: dict[str, float] = {}
    for server in servers:
        body = httpx.get(server.base_url + "/sandbox/v1/health", timeout=10).json()
        for key, value in body.get("instance", {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0.0) + value
    return total


def executed_count(setup: Setup, workdir: Path, schema: str) -> Callable[[], Awaitable[int]]:
    """Return a function counting executed quotes straight from the database."""
    if not setup.postgres:
        path = workdir / "a" / "sandbox.db"

        async def sqlite_count() -> int:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                row = connection.execute(
                    "SELECT count(*) FROM quotes WHERE status = 'executed'").fetchone()
            return int(row[0])

        return sqlite_count

    async def postgres_count() -> int:
        connection = await asyncpg.connect(database_url(schema))
        try:
            return int(await connection.fetchval(
                "SELECT count(*) FROM quotes WHERE status = 'executed'"))
        finally:
            await connection.close()

    return postgres_count


async def lifecycles(servers: list[Server], signer: Signer, world: World, first: int,
                     count: int, connections: int, statuses: Counter[int]) -> None:
    """Run lifecycles ``first .. first+count-1``, each on one connection (one instance)."""
    pools = [await Pool(s.port, max(1, connections // len(servers))).open() for s in servers]
    pairs = [world.pair(first + i) for i in range(count)]
    next_index = 0

    async def call(conn: Any, port: int, key_id: str, method: str, path: str,
                   body: bytes = b"") -> bytes:
        ts = now_ms()
        raw = build_request(method, path, port,
                            auth_headers(key_id, ts, signer.sign(ts, method, path)), body)
        status, answer = await conn.request(raw)
        statuses[status] += 1
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
        return bytes(answer)

    async def worker(conn: Any, port: int) -> None:
        nonlocal next_index
        while next_index < count:
            requester, market, maker = pairs[next_index]
            next_index += 1
            rfq_id = _decode(await call(conn, port, requester.key_id, "POST", RFQS, _encode(
                {"market_ticker": market, "contracts_fp": "10.00",
                 "rest_remainder": False})))["id"]
            quote_id = _decode(await call(conn, port, maker.key_id, "POST", QUOTES, _encode(
                {"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                 "rest_remainder": False})))["id"]
            await call(conn, port, requester.key_id, "PUT", f"{QUOTES}/{quote_id}/accept",
                       _encode({"accepted_side": "yes"}))
            await call(conn, port, maker.key_id, "PUT", f"{QUOTES}/{quote_id}/confirm")

    try:
        await asyncio.gather(*(worker(conn, pool.port) for pool in pools
                               for conn in pool.connections))
    finally:
        for pool in pools:
            pool.close()


async def run_setup(setup: Setup, args: argparse.Namespace, signer: Signer, core: int | None,
                    workdir: Path) -> Result:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    servers: list[Server] = []
    env = {"KALSHI_SANDBOX_JOURNAL": "false"}
    common = ["-m", "kalshi_sandbox", "serve", "--no-seed", "--rate-limit", "off",
              "--log-level", "warning", "--execution-delay", "0", "--confirm-window", "600"]
    if setup.postgres:
        await admin(f'CREATE SCHEMA "{schema}"')
    try:
        for n in range(setup.instances):
            name = "ab"[n]
            argv = [*common, "--data-dir", str(workdir / name)]
            if setup.postgres:
                argv += ["--db", database_url(schema)]
            if setup.instances > 1:
                argv.append("--shared")
            servers.append(Server(f"sandbox {name}", argv, "/sandbox/v1/health", core,
                                  workdir / f"{name}.log", env=env).start())
        world = setup_world(servers[0].base_url, signer, args.warm_up + args.lifecycles,
                            args.markets, args.makers)
        count = executed_count(setup, workdir, schema)
        statuses: Counter[int] = Counter()
        await lifecycles(servers, signer, world, 0, args.warm_up, args.connections, statuses)
        await wait_for(count, args.warm_up)
        result = Result(setup, args.lifecycles)
        before = coordination(servers)
        backends = await database_backends() if setup.postgres else []
        server0 = [s.times() for s in servers]
        database0, client0 = cpu_of(backends), process_times(os.getpid())[0]
        start = time.perf_counter()
        await lifecycles(servers, signer, world, args.warm_up, args.lifecycles,
                         args.connections, result.statuses)
        await wait_for(count, args.warm_up + args.lifecycles)
        result.seconds = time.perf_counter() - start
        server1 = [s.times() for s in servers]
        result.server_cpu = sum(b[0] - a[0] for a, b in zip(server0, server1, strict=True))
        result.server_wait = sum(b[1] - a[1] for a, b in zip(server0, server1, strict=True))
        result.database_cpu = cpu_of(backends) - database0
        result.client_cpu = process_times(os.getpid())[0] - client0
        after = coordination(servers)
        result.coordination = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        return result
    finally:
        for server in servers:
            server.stop()
        if setup.postgres:
            await admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def wait_for(count: Callable[[], Awaitable[int]], expected: int,
                   seconds: float = 120) -> None:
    deadline = time.perf_counter() + seconds
    while (done := await count()) < expected:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {done} of {expected} quotes executed")
        await asyncio.sleep(0.02)


def report(results: list[Result], core: int | None) -> dict[str, Any]:
    print()
    print(f"lifecycles end to end (4 signed requests + execution), sandbox pinned to core "
          f"{core}, both instances on it; PostgreSQL unpinned")
    print(f"{'setup':<24}{'lc/s':>8}{'inst CPU us':>13}{'DB CPU us':>11}{'wait us':>9}"
          f"{'lock waits/1k':>15}{'retries/1k':>12}{'held us':>9}")
    for r in results:
        held = r.coordination.get("held_seconds", 0.0)
        print(f"{r.setup.name:<24}{r.rate:>8.0f}{r.per_lifecycle_us(r.server_cpu):>13.0f}"
              f"{r.per_lifecycle_us(r.database_cpu):>11.0f}"
              f"{r.per_lifecycle_us(r.server_wait):>9.0f}"
              f"{r.per_thousand('lock_waits'):>15.0f}{r.per_thousand('retries'):>12.0f}"
              f"{r.per_lifecycle_us(held):>9.0f}")
    sqlite, one, two = results
    c1, c2 = one.server_cpu / one.lifecycles, two.server_cpu / two.lifecycles
    h2 = two.coordination.get("held_seconds", 0.0) / two.lifecycles
    cpu_ratio = c2 / c1 if c1 else 0.0
    cpu_bound = 2 * c1 / c2 if c2 else 0.0
    lock_bound = 1 / (h2 * one.rate) if h2 and one.rate else 2.0
    projected = min(cpu_bound, lock_bound)
    print()
    print(f"instance CPU per lifecycle, 2 instances vs 1: {cpu_ratio:.2f}x "
          f"(goal <= {CPU_GOAL:.2f}x: {'met' if cpu_ratio <= CPU_GOAL else 'NOT met'})")
    print(f"PostgreSQL vs SQLite, instance CPU per lifecycle (1 instance): "
          f"{c1 / (sqlite.server_cpu / sqlite.lifecycles):.2f}x")
    for r in (one, two):
        held = r.coordination.get("held_seconds", 0.0)
        print(f"exchange lock held {held / r.seconds:.0%} of the run ({r.setup.name})")
    print(f"projected rate of 2 instances with a core each, vs 1: {projected:.2f}x "
          f"(CPU bound {cpu_bound:.2f}x, lock bound {lock_bound:.2f}x; "
          f"goal >= {SCALING_GOAL}x: {'met' if projected >= SCALING_GOAL else 'NOT met'})")
    return {"results": [r.as_dict() for r in results], "cpu_ratio_2_vs_1": cpu_ratio,
            "lock_held_us_per_lifecycle_2": h2 * 1e6, "cpu_bound_2": cpu_bound,
            "lock_bound_2": lock_bound, "projected_scaling_2": projected,
            "server_core": core}


async def run(args: argparse.Namespace, core: int | None, workdir: Path) -> list[Result]:
    created = await admin_database()
    try:
        signer = Signer.generate()
        results = []
        for number, setup in enumerate(SETUPS):
            progress(f"{setup.name} ...")
            results.append(await run_setup(setup, args, signer, core, workdir / str(number)))
        return results
    finally:
        if created:
            await drop_database()


async def admin_database() -> bool:
    """Create the bench's database unless it exists; return whether it was created."""
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                     DATABASE):
            return False
        await connection.execute(f"CREATE DATABASE {DATABASE}")
        return True
    finally:
        await connection.close()


async def drop_database() -> None:
    """Drop the database the bench created, leaving none behind."""
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    core = args.server_core if pin_client(args.client_core) else None
    workdir = Path(tempfile.mkdtemp(prefix="kalshi-bench-pg-"))
    for number in range(len(SETUPS)):
        (workdir / str(number)).mkdir()
    try:
        results = uvloop.run(run(args, core, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    document = report(results, core)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("pg-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(document, indent=2))
        print(f"results: {path}")


if __name__ == "__main__":
    main()
