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


def test_quickstart_without_a_sandbox_names_the_url_and_shows_no_traceback(
        tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "demo-accounts.json").write_text(
        '[{"name": "requester", "key_id": "k", "key_path": "keys/r.pem"},'
        ' {"name": "maker", "key_id": "k", "key_path": "keys/m.pem"}]')
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    (tmp_path / "keys" / "r.pem").write_bytes(pem)
    (tmp_path / "keys" / "m.pem").write_bytes(pem)
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        env={**os.environ, "KALSHI_SANDBOX_URL": "http://127.0.0.1:9",
             "KALSHI_SANDBOX_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the sandbox at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
