"""Run pytest in a child process on test files written for the occasion."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ENV_DROPPED = ("KALSHI_SANDBOX_URL", "KALSHI_SANDBOX_ADMIN_TOKEN", "PYTEST_ADDOPTS",
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
