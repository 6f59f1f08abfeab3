"""The quickstart the server's banner recommends runs against a freshly seeded sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_trades_one_rfq_against_the_demo_seed(tmp_path: Path) -> None:
    # A system clock with a short execution delay: the example polls as a user would. Rate
    # limits at Basic, as `serve` has them by default: the example keeps within them.
    server = ServerProcess(tmp_path, args=("--execution-delay", "0.2", "--rate-limit",
                                           "basic")).start()
    try:
        result = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "quickstart.py")],
            env={**os.environ, "KALSHI_SANDBOX_URL": server.base_url,
                 "KALSHI_SANDBOX_DATA_DIR": str(tmp_path)},
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr + result.stdout
    assert "quote executed" in result.stdout
    assert "requester fill: 10.00 YES at 0.4500 (fee 0.173300)" in result.stdout
    assert "requester balance: $9995.3267" in result.stdout
