"""Server processes pinned to a core, and CPU accounting from /proc."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    """Return a TCP port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_times(pid: int) -> tuple[float, float]:
    """Return (seconds on a CPU, seconds runnable but waiting for one) of ``pid`` so far.

    Read from the scheduler's own nanosecond counters (/proc/PID/task/*/schedstat), summed
    over the process's threads; the waiting time shows how much other load delayed it.
    """
    run = wait = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0, 0.0
    for task in tasks:
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue
        run += int(fields[0])
        wait += int(fields[1])
    return run / 1e9, wait / 1e9


def pin_command(core: int | None) -> list[str]:
    """Return the ``taskset`` prefix that pins a command to ``core`` (empty if unpinned)."""
    if core is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(core)]


@dataclass
class Server:
    """A server child process on a free port, pinned to one core."""

    name: str
    argv: list[str]
    health_path: str | None
    core: int | None
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        """Start the process and wait until it answers."""
        command = [*pin_command(self.core), sys.executable, *self.argv, "--port", str(self.port)]
        log = self.log_path.open("ab")
        # The sandbox's own settings come from the command line and self.env only, never
        # from whatever KALSHI_SANDBOX_* variables the caller's shell happens to hold.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_SANDBOX_")}
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                        env={**inherited, **self.env})
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_path.read_text(errors='replace')}")
            if self._answers():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start:\n"
                           f"{self.log_path.read_text(errors='replace')}")

    def _answers(self) -> bool:
        if self.health_path is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return True
        try:
            response = httpx.get(f"http://127.0.0.1:{self.port}{self.health_path}", timeout=1)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def times(self) -> tuple[float, float]:
        """Return the server's (CPU seconds, seconds waiting for a CPU) so far."""
        return process_times(self.pid)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def sandbox_server(workdir: Path, core: int | None, *extra: str) -> Server:
    """Return (unstarted) ``kalshi-sandbox serve`` with a manual clock and SQLite in workdir.

    Rate limits are off (the load is far beyond any tier's budget, and a manual clock refills
    no bucket); every other setting keeps its default (30 s confirmation window, 15 s
    execution delay).
    """
    return Server(
        "sandbox",
        ["-m", "kalshi_sandbox", "serve", "--data-dir", str(workdir / "sandbox"),
         "--clock", "manual", "--no-seed", "--rate-limit", "off", "--log-level", "warning",
         *extra],
        "/sandbox/v1/health", core, workdir / "sandbox.log")
