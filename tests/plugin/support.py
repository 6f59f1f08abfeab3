"""Run pytest in a child process on test files written for the occasion."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server import free_port

ENV_DROPPED = ("KALSHI_SANDBOX_URL", "KALSHI_SANDBOX_ADMIN_TOKEN", "KALSHI_SANDBOX_TEST_URL",
               "KALSHI_SANDBOX_TEST_ADMIN_TOKEN", "KALSHI_SANDBOX_TEST_ALLOW_RESET",
               "PYTEST_ADDOPTS",
               "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS")


@dataclass
class Outcome:
    """What a pytest run printed and how it ended."""

    returncode: int
    output: str

    def assert_outcomes(self, **counts: int) -> None:
        """Check the summary line, e.g. ``passed=2`` (failed and errors must then be 0)."""
        summary = self.output.strip().splitlines()[-1] if self.output.strip() else ""
        for name in ("passed", "failed", "errors", "skipped"):
            expected = counts.get(name, 0)
            singular = name.rstrip("s") if name == "errors" else name
            found = 0
            for part in summary.strip("= ").split(", "):
                words = part.split()
                if len(words) >= 2 and words[1] in (name, singular):
                    found = int(words[0])
            assert found == expected, f"{name}: expected {expected}, got {found}\n{self.output}"


def run_pytest(directory: Path, files: dict[str, str], *args: str,
               env: dict[str, str] | None = None, timeout: float = 120) -> Outcome:
    """Write ``files`` under ``directory`` and run pytest there with only the plugin's help.

    The child sees no ``KALSHI_SANDBOX_*`` variables from this process unless ``env`` sets
    them, and the plugin is loaded through its ``pytest11`` entry point, as for any user.
    """
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    child_env = {k: v for k, v in os.environ.items() if k not in ENV_DROPPED}
    child_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(directory), "-W", "error", *args],
        cwd=directory, env=child_env, capture_output=True, text=True, timeout=timeout,
        check=False)
    return Outcome(done.returncode, done.stdout + done.stderr)


@contextmanager
def guarded_server(data_dir: Path, token: str) -> Iterator[str]:
    """Run ``kalshi-sandbox serve`` with an admin token (manual clock, no seed); yield its URL.

    (``ServerProcess`` waits for an unguarded health check, which a guarded server refuses.)
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kalshi_sandbox", "serve", "--port", str(port),
             "--data-dir", str(data_dir), "--clock", "manual", "--no-seed", "--admin-token",
             token, "--rate-limit", "off", "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, (data_dir / "server.log").read_text()
                assert time.monotonic() < deadline, "the guarded sandbox did not start"
                try:
                    health = httpx.get(url + "/sandbox/v1/health", timeout=1,
                                       headers={"Authorization": f"Bearer {token}"})
                    if health.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)  # waiting for a process to start, not for a sandbox timer
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
