"""Benchmark the sandbox against a bare signed Starlette app, on one pinned server core.

``make bench`` (or ``python -m bench``) starts, each pinned with taskset to the server core:
the sandbox (``kalshi-sandbox serve --clock manual --rate-limit off``, SQLite in a temporary
directory), the baseline app (bench/baseline.py) and a canned-response server (bench/sink.py);
the load generator runs on the other core. It prints figures and ratios, and writes them as
JSON to bench/results/. It asserts no timing: the machine may be shared and noisy, which is why
every comparison is against a baseline measured in the same run, on the same core, and why CPU
time per request is reported beside wall-clock rates.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import uvloop

from bench.loadgen import Pool, build_request
from bench.scenario import Bench, Measure, Round, Signer, World, measure, setup_world
from bench.servers import Server, sandbox_server

RESULTS = Path(__file__).parent / "results"
CONFIRM_GOAL = 0.5
LIFECYCLE_GOAL = 1500.0
WARM_UP_LIFECYCLES = 300


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--lifecycles", type=int, default=2000,
                        help="lifecycles per phased round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="phased rounds (default 3)")
    parser.add_argument("--interleaved", type=int, default=1000,
                        help="lifecycles of the live-signing run (default 1000; 0 skips it)")
    parser.add_argument("--connections", type=int, default=64,
                        help="keep-alive connections of the load generator (default 64)")
    parser.add_argument("--workers", type=int, default=64,
                        help="concurrent lifecycles of the live-signing run (default 64)")
    parser.add_argument("--confirm-windows", type=int, default=4,
                        help="alternating baseline/sandbox windows per round (default 4)")
    parser.add_argument("--markets", type=int, default=50,
                        help="markets to spread RFQs over, at most 100 (default 50)")
    parser.add_argument("--makers", type=int, default=10, help="maker accounts (default 10)")
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="length of each fixed-duration ceiling run (default 2)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)
    if not 1 <= args.markets <= 100:
        parser.error("--markets must be 1..100 (a requester may hold 100 open RFQs)")
    if args.lifecycles < 1 or args.rounds < 1:
        parser.error("--lifecycles and --rounds must be positive")
    return args


def pin_client(core: int) -> bool:
    """Pin this process to ``core``; return False (and warn) when that is not possible."""
    cores = os.sched_getaffinity(0)
    if len(cores) < 2 or core not in cores:
        print(f"warning: cannot pin to core {core} (allowed: {sorted(cores)}); "
              "running unpinned", file=sys.stderr)
        return False
    os.sched_setaffinity(0, {core})
    return True


def environment() -> dict[str, Any]:
    """Describe the machine and the software measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in ("kalshi-sandbox", "starlette", "uvicorn", "uvloop", "httptools",
                 "cryptography", "msgspec"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit = None
    if shutil.which("git"):
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, cwd=Path(__file__).parent, check=False)
        commit = found.stdout.strip() or None
    return {"cpu": model, "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_average": os.getloadavg(), "versions": versions, "commit": commit}


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, signer: Signer, sink: Server, baseline: Server,
              sandbox: Server, world: World) -> dict[str, Any]:
    """Run every measurement; return the results."""
    sink_pool = await Pool(sink.port, args.connections).open()
    baseline_pool = await Pool(baseline.port, args.connections).open()
    sandbox_pool = await Pool(sandbox.port, args.connections).open()
    bench = Bench(sandbox, sandbox_pool, world, signer, baseline, baseline_pool,
                  confirm_windows=args.confirm_windows)
    sink_get = [build_request("GET", "/", sink.port)]
    baseline_get = [build_request("GET", "/", baseline.port)]
    try:
        progress("warming up ...")
        await sink_pool.run_for(sink_get, 0.3)
        await baseline_pool.run_for(baseline_get, 0.3)
        await bench.lifecycle_round(min(WARM_UP_LIFECYCLES, args.lifecycles))

        progress("measuring ceilings ...")
        client_ceiling, _ = await measure(
            "load generator vs canned-response server", sink,
            lambda: sink_pool.run_for(sink_get, args.seconds))
        trivial_get, _ = await measure(
            "baseline trivial GET", baseline,
            lambda: baseline_pool.run_for(baseline_get, args.seconds))

        rounds: list[Round] = []
        for number in range(args.rounds):
            progress(f"round {number + 1}/{args.rounds}: {args.lifecycles} lifecycles ...")
            rounds.append(await bench.lifecycle_round(args.lifecycles))

        interleaved: Measure | None = None
        advance: Measure | None = None
        if args.interleaved:
            progress(f"interleaved: {args.interleaved} lifecycles with live signing ...")
            interleaved, advance = await bench.interleaved(args.interleaved, args.workers)
        problems = await bench.verify_executed()
    finally:
        for pool in (sink_pool, baseline_pool, sandbox_pool):
            pool.close()
    return {"client_ceiling": client_ceiling, "trivial_get": trivial_get, "rounds": rounds,
            "interleaved": interleaved, "interleaved_advance": advance, "problems": problems}


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _median_by(items: Sequence[Measure], key: Callable[[Measure], float]) -> Measure:
    return sorted(items, key=key)[len(items) // 2]


HEAD = (f"  {'measurement':<36} {'requests':>8} {'seconds':>7} {'req/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'srv us/req':>10} {'srv busy':>8} {'srv wait':>8} {'client':>7}")
RULE = "  " + "-" * (len(HEAD) - 2)


def row(label: str, m: Measure, *, latency: bool = True) -> None:
    """Print one measure as a table row."""
    p50 = f"{m.percentile_ms(0.5):.1f}" if latency and m.latencies else "-"
    p99 = f"{m.percentile_ms(0.99):.1f}" if latency and m.latencies else "-"
    print(f"  {label:<36} {m.requests:>8,} {m.seconds:>7.3f} {_n(m.rate):>7} {p50:>7} "
          f"{p99:>7} {m.server_us:>10.0f} {_pct(m.share(m.server_run)):>8} "
          f"{_pct(m.share(m.server_wait)):>8} {_pct(m.share(m.client_run)):>7}")


def report(args: argparse.Namespace, env: dict[str, Any], sign_us: float,
           server_core: int | None, results: dict[str, Any]) -> dict[str, Any]:
    """Print the tables; return the JSON document."""
    rounds: list[Round] = results["rounds"]
    ceiling: Measure = results["client_ceiling"]
    trivial: Measure = results["trivial_get"]
    pinned = (f"server on core {server_core}, load generator on core {args.client_core}"
              if server_core is not None else "not pinned")
    print()
    print(f"kalshi-sandbox benchmark: {pinned}, {args.connections} keep-alive connections")
    print(f"  {env['cpu']}; Python {env['python']}; load average at start "
          f"{env['load_average'][0]:.2f}; commit {env['commit']}")
    print("  columns: srv us/req = server CPU per request; srv busy = server CPU / wall time;"
          " srv wait = time the")
    print("  server was runnable but its core was taken by others (noise); "
          "client = load generator CPU / wall time")
    print()

    print("Ceilings (fixed-duration runs of GET /)")
    print(HEAD)
    print(RULE)
    row("load generator vs canned server", ceiling, latency=False)
    row("baseline trivial GET", trivial, latency=False)
    print()

    baselines = [r.baseline_confirm for r in rounds if r.baseline_confirm is not None]
    confirms = [r.confirm for r in rounds]
    ratios = [r.confirm_ratio for r in rounds]
    cpu_ratios = [r.confirm_cpu_ratio for r in rounds]
    print("1. Signed Confirm Quote (all 204) vs bare signed Starlette PUT, the same request "
          f"bytes, {args.confirm_windows} alternating windows per round")
    print(HEAD)
    print(RULE)
    for number, r in enumerate(rounds, 1):
        assert r.baseline_confirm is not None
        row(f"round {number}: baseline PUT", r.baseline_confirm)
        row(f"round {number}: sandbox confirm", r.confirm)
    print(RULE)
    median_ratio = statistics.median(ratios)
    median_cpu_ratio = statistics.median(cpu_ratios)
    base_rate = statistics.median(m.rate for m in baselines)
    confirm_rate = statistics.median(m.rate for m in confirms)
    print(f"  sandbox {_n(confirm_rate)}/s vs baseline {_n(base_rate)}/s: ratio "
          f"{median_ratio:.2f} (median; rounds {', '.join(f'{x:.2f}' for x in ratios)}); "
          f"goal >= {CONFIRM_GOAL}")
    print(f"  by server CPU per request ({statistics.median(m.server_us for m in confirms):.0f}"
          f" us vs {statistics.median(m.server_us for m in baselines):.0f} us): ratio "
          f"{median_cpu_ratio:.2f} (rounds {', '.join(f'{x:.2f}' for x in cpu_ratios)})")
    client_at_baseline = statistics.median(m.share(m.client_run) for m in baselines)
    print(f"  load generator: ceiling {_n(ceiling.rate)} req/s; the baseline PUT runs at "
          f"{base_rate / ceiling.rate:.0%} of it, with the client core {client_at_baseline:.0%}"
          " busy")
    print()

    print(f"2. Lifecycles with SQLite: {args.lifecycles:,} per round, phase by phase, "
          f"pre-signed requests (median round of {len(rounds)} per phase)")
    print(HEAD)
    print(RULE)
    for index, first in enumerate(rounds[0].phases):
        middle = _median_by([r.phases[index] for r in rounds], lambda m: m.rate)
        label = "execute (one clock advance)" if first.name == "execute" else first.name
        row(label, middle, latency=first.name != "execute")
    print(RULE)
    rates = [r.rate for r in rounds]
    cpu_rates = [r.cpu_rate for r in rounds]
    median_rate = statistics.median(rates)
    print(f"  lifecycles/s = N / sum of phase times: {_n(median_rate)}/s (median; rounds "
          f"{', '.join(_n(x) for x in rates)}); goal >= {_n(LIFECYCLE_GOAL)}")
    print(f"  lifecycles per server CPU second: {_n(statistics.median(cpu_rates))} "
          f"(rounds {', '.join(_n(x) for x in cpu_rates)})")
    signing = statistics.median(r.signing_seconds for r in rounds)
    print(f"  signing accepts and confirms between phases: {signing:.2f} s per round, untimed")

    interleaved: Measure | None = results["interleaved"]
    advance: Measure | None = results["interleaved_advance"]
    bound = 1e6 / (4 * sign_us)
    live_side = ""
    if interleaved is not None and advance is not None:
        client_busy = interleaved.share(interleaved.client_run)
        server_busy = interleaved.share(interleaved.server_run)
        live_side = "client-bound" if client_busy > server_busy else "server-bound"
        print()
        print(f"  Interleaved end to end with live signing ({args.workers} lifecycles at a time,"
              " then one clock advance):")
        print(f"    {interleaved.requests:,} lifecycles in {interleaved.seconds:.2f} s "
              f"(advance {advance.seconds:.2f} s) = {_n(interleaved.rate)}/s; client core "
              f"{_pct(client_busy)} busy, server core {_pct(server_busy)}: {live_side}")
        print(f"    signing alone caps a client core at 1e6 / (4 signatures x {sign_us:.0f} us)"
              f" = {_n(bound)} lifecycles/s, before any HTTP work")
    if results["problems"]:
        print()
        print("  read-back problems: " + "; ".join(results["problems"]))
    print()

    cpu_rate = statistics.median(cpu_rates)
    print("Summary")
    print(f"  {'figure':<46} {'wall clock':>12} {'per CPU s':>10} {'goal':>8}")
    print(f"  {'confirm rate / bare signed PUT rate':<46} {median_ratio:>12.2f} "
          f"{median_cpu_ratio:>10.2f} {'>= 0.5':>8}")
    print(f"  {'sandbox confirms/s':<46} {_n(confirm_rate):>12} "
          f"{_n(statistics.median(m.cpu_rate for m in confirms)):>10} {'':>8}")
    print(f"  {'lifecycles/s, pre-signed phases':<46} {_n(median_rate):>12} {_n(cpu_rate):>10} "
          f"{'>= ' + _n(LIFECYCLE_GOAL):>8}")
    if interleaved is not None:
        label = f"lifecycles/s, live signing ({live_side})"
        print(f"  {label:<46} {_n(interleaved.rate):>12} {'-':>10} {'':>8}")
    waits = [m.share(m.server_wait) for r in rounds for m in r.phases]
    noisy = statistics.median(waits)
    if noisy > 0.05:
        print(f"  note: the server waited for its core {noisy:.0%} of the time (other load); "
              "wall-clock figures are depressed, the per-CPU-second ones less so")
    print()

    return {
        "environment": env,
        "settings": vars(args),
        "server_core": server_core,
        "client_sign_us": sign_us,
        "client_ceiling": ceiling.as_dict(),
        "trivial_get": trivial.as_dict(),
        "confirm": {
            "sandbox_per_second": confirm_rate,
            "baseline_per_second": base_rate,
            "ratio": median_ratio,
            "ratios": ratios,
            "cpu_ratio": median_cpu_ratio,
            "cpu_ratios": cpu_ratios,
            "goal": CONFIRM_GOAL,
        },
        "lifecycles": {
            "per_second": median_rate,
            "per_server_cpu_second": cpu_rate,
            "goal": LIFECYCLE_GOAL,
            "rounds": [r.as_dict() for r in rounds],
        },
        "interleaved": None if interleaved is None or advance is None else {
            **interleaved.as_dict(),
            "lifecycles_per_second": interleaved.rate,
            "advance": advance.as_dict(),
            "client_bound_per_second": bound,
            "bound_by": live_side,
        },
        "read_back_problems": results["problems"],
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its tables."""
    args = parse_args(argv)
    server_core = args.server_core if pin_client(args.client_core) else None
    env = environment()
    workdir = Path(tempfile.mkdtemp(prefix="kalshi-bench-"))
    signer = Signer.generate()
    sign_us = signer.cost_us()
    servers: list[Server] = []
    try:
        progress("starting servers ...")
        sink = Server("sink", ["-m", "bench.sink"], None, server_core, workdir / "sink.log")
        servers.append(sink.start())
        sandbox = sandbox_server(workdir, server_core)
        servers.append(sandbox.start())
        progress("creating markets and accounts ...")
        world = setup_world(sandbox.base_url, signer,
                            max(args.lifecycles, args.interleaved, WARM_UP_LIFECYCLES),
                            args.markets, args.makers)
        keys = workdir / "keys.json"
        keys.write_text(json.dumps({
            "public_key_pem": signer.public_pem,
            "key_ids": [t.key_id for t in (*world.requesters, *world.makers)],
        }))
        baseline = Server("baseline", ["-m", "bench.baseline", "--keys", str(keys)], "/",
                          server_core, workdir / "baseline.log")
        servers.append(baseline.start())
        results = uvloop.run(run(args, signer, sink, baseline, sandbox, world))
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    document = report(args, env, sign_us, server_core, results)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("bench-%Y%m%d-%H%M%S.json")
        text = json.dumps(document, indent=2)
        path.write_text(text)
        (RESULTS / "latest.json").write_text(text)
        print(f"results: {path}")


if __name__ == "__main__":
    main()
