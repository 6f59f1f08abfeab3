"""Profile the sandbox's hot paths with py-spy while the lifecycle benchmark drives it.

Not part of ``make bench``. Run ``python -m bench.profile`` (needs the ``bench`` extra): it
starts the sandbox on the server core, runs one large phased round of lifecycles, attaches
``py-spy record`` (on the client core) to the server for each phase, and prints where the
server's samples went, by layer and by function. Raw collapsed stacks are kept in
bench/results/profile-<phase>.txt for flame graphs (e.g. speedscope or inferno).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import uvloop

from bench.loadgen import Pool
from bench.scenario import Bench, Signer, World, no_hook, setup_world
from bench.servers import Server, pin_command, sandbox_server

RESULTS = Path(__file__).parent / "results"

# Layers, tested in order against each frame from the leaf up; the first match wins, so a
# sample lands in the innermost layer that explains it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signature verification (OpenSSL via cryptography)", ("/cryptography/", "libcrypto")),
    ("SQLite (C library and sqlite3 module)",
     ("_sqlite3", "libsqlite3", "/sqlite3/", "kalshi_sandbox/storage/sqlite.py")),
    ("SQL layer (statements, rows to domain objects)",
     ("kalshi_sandbox/storage/sql.py", "kalshi_sandbox/storage/rows.py")),
    ("JSON (msgspec)", ("msgspec",)),
    ("HTTP parsing (httptools)", ("httptools",)),
    ("Starlette (routing, request, response)", ("/starlette/",)),
    ("uvicorn protocol", ("/uvicorn/",)),
    ("event loop (uvloop, asyncio)", ("/uvloop/", "/asyncio/")),
    ("kalshi_sandbox api (auth, wire, http)", ("kalshi_sandbox/api/",)),
    ("kalshi_sandbox exchange (use cases, scheduler, bus)", ("kalshi_sandbox/exchange/",)),
    ("kalshi_sandbox domain", ("kalshi_sandbox/domain/",)),
    ("kalshi_sandbox tester powers", ("kalshi_sandbox/powers/",)),
)


_LINE = re.compile(r":\d+\)$")
_PREFIX = re.compile(r"\(/\S*?/(site-packages|src|lib/python3\.\d+)/")


def _frames(stack: str) -> list[str]:
    return stack.split(";")


def short(frame: str) -> str:
    """Return a frame without its line number and its path up to the package."""
    return _PREFIX.sub("(", _LINE.sub(")", frame))


def layer_of(frames: list[str]) -> str:
    """Return the innermost layer a sample's stack (root first) belongs to."""
    for frame in reversed(frames):
        for name, needles in LAYERS:
            if any(n in frame for n in needles):
                return name
    return "other (interpreter, libc, kernel)"


def read_samples(path: Path) -> Counter[str]:
    """Read py-spy's raw (collapsed) output: 'frame;frame;... count' per line."""
    samples: Counter[str] = Counter()
    if not path.exists():
        return samples
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples[stack] += int(count)
    return samples


def summarize(name: str, samples: Counter[str], top: int = 15) -> str:
    """Return a text summary: samples by layer and the heaviest functions."""
    total = sum(samples.values())
    if not total:
        return f"{name}: no samples\n"
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in samples.items():
        frames = _frames(stack)
        layers[layer_of(frames)] += count
        own[short(frames[-1])] += count
        for frame in {short(f) for f in frames}:
            if "kalshi_sandbox/" in frame:
                inclusive[frame] += count
    lines = [f"== {name}: {total} samples =="]
    lines.append("  by layer (innermost frame that belongs to one):")
    lines.extend(f"    {count / total:6.1%}  {layer}" for layer, count in layers.most_common())
    lines.append("  heaviest kalshi_sandbox functions, inclusive:")
    lines.extend(f"    {count / total:6.1%}  {frame}"
                 for frame, count in inclusive.most_common(top + 3) if count < total)
    lines.append("  heaviest leaf frames (self time):")
    lines.extend(f"    {count / total:6.1%}  {frame}" for frame, count in own.most_common(top))
    return "\n".join(lines) + "\n"


class Profiler:
    """Attaches py-spy to the server for the phases it is asked to record."""

    def __init__(self, pid: int, core: int | None, out: Path, rate: int, native: bool) -> None:
        self.pid = pid
        self.core = core
        self.out = out
        self.rate = rate
        self.native = native
        self.files: dict[str, Path] = {}

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        path = self.out / f"profile-{phase.replace(' ', '-')}.txt"
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [*pin_command(self.core), py_spy, "record", "--pid", str(self.pid),
                   "--rate", str(self.rate), "--format", "raw", "--full-filenames",
                   "--output", str(path)]
        if self.native:
            command.append("--native")
        recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # let py-spy attach before the load starts
        try:
            yield
        finally:
            recorder.send_signal(signal.SIGINT)
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()
            self.files[phase] = path


async def _drive(bench: Bench, lifecycles: int) -> None:
    hook = bench.hook
    bench.hook = no_hook  # warm up unprofiled
    await bench.lifecycle_round(min(200, lifecycles))
    bench.hook = hook
    result = await bench.lifecycle_round(lifecycles)
    for phase in result.phases:
        print(f"  {phase.name:<14} {phase.rate:>8,.0f}/s under the profiler",
              file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Profile each phase of a lifecycle round; print the summaries."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--lifecycles", type=int, default=6000)
    parser.add_argument("--markets", type=int, default=100)
    parser.add_argument("--makers", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--native", action="store_true",
                        help="include C frames (SQLite, OpenSSL, httptools)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--summarize", action="store_true",
                        help="only summarize the raw files of an earlier run")
    args = parser.parse_args(argv)
    if args.summarize:
        report({p.stem.removeprefix("profile-").replace("-", " "): p
                for p in sorted(RESULTS.glob("profile-*.txt"))})
        return
    cores = os.sched_getaffinity(0)
    server_core: int | None = None
    if len(cores) >= 2 and args.client_core in cores:
        os.sched_setaffinity(0, {args.client_core})
        server_core = args.server_core
    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kalshi-profile-"))
    signer = Signer.generate()
    sandbox: Server = sandbox_server(workdir, server_core)
    try:
        sandbox.start()
        world: World = setup_world(sandbox.base_url, signer, args.lifecycles, args.markets,
                                   args.makers)
        profiler = Profiler(sandbox.pid, args.client_core if server_core is not None else None,
                            RESULTS, args.rate, args.native)

        async def go() -> None:
            pool = await Pool(sandbox.port, args.connections).open()
            try:
                bench = Bench(sandbox, pool, world, signer, hook=profiler)
                await _drive(bench, args.lifecycles)
            finally:
                pool.close()

        uvloop.run(go())
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report(profiler.files)


def report(files: dict[str, Path]) -> None:
    """Print the summary of each phase's samples, then of all of them."""
    everything: Counter[str] = Counter()
    for phase, path in files.items():
        samples = read_samples(path)
        everything.update(samples)
        print(summarize(phase, samples))
    print(summarize("all lifecycle phases", everything))


if __name__ == "__main__":
    main()
