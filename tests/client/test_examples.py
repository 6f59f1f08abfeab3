"""The example bots trade with each other through a real sandbox, as their docstrings say."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.test_cli import Lines
from tests.support.server import Account, Control, ServerProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MARKET = "KXBOTS-26DEC31-T50"


@pytest.fixture
def quick_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A sandbox on the wall clock that executes confirmed quotes at once.

    Rate limits at Basic, as ``serve`` has them by default: the bots keep within them.
    """
    server = ServerProcess(tmp_path / "bots", args=("--clock", "system", "--no-seed",
                                                     "--execution-delay", "0",
                                                     "--rate-limit", "basic")).start()
    try:
        yield server
    finally:
        server.stop()


def _env(account: Account) -> dict[str, str]:
    # The PEM text itself in KALSHI_PRIVATE_KEY: the second way credentials come from the
    # environment.
    return {**os.environ, "KALSHI_API_KEY_ID": account.key_id,
            "KALSHI_PRIVATE_KEY": account.private_key_pem, "KALSHI_PRIVATE_KEY_PATH": ""}


def test_maker_bot_quotes_and_confirms_and_requester_bot_takes_the_quote(
        quick_server: ServerProcess) -> None:
    control = Control(quick_server.base_url)
    try:
        control.market(MARKET)
        requester = control.account("requester", "100")
        maker = control.account("maker", "100")
    finally:
        control.close()
    url = ["--url", quick_server.base_url]
    maker_bot = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "maker_bot.py"), *url, "--max-trades", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env(maker))
    try:
        lines = Lines(maker_bot)
        assert lines.next().startswith("listening for RFQs as ")
        requester_bot = subprocess.run(
            [sys.executable, str(EXAMPLES / "requester_bot.py"), *url, "--market", MARKET,
             "--contracts", "4", "--side", "yes", "--quotes", "1", "--wait", "30"],
            capture_output=True, text=True, env=_env(requester), timeout=60)
        maker_out = lines.next(), lines.next(), lines.next(), lines.next()
        assert maker_bot.wait(timeout=30) == 0
    finally:
        maker_bot.kill()
        maker_bot.wait()
        assert maker_bot.stdout is not None
        maker_bot.stdout.close()

    assert requester_bot.returncode == 0, requester_bot.stdout + requester_bot.stderr
    out = requester_bot.stdout.splitlines()
    assert out[1].endswith("yes 0.4500 / no 0.5000")
    assert "accepted quote" in out[2]
    assert "yes at 0.5000 per contract" in out[2]
    assert out[3] == "filled 4.00 yes at yes-price 0.5000, fee 0.070000"
    assert out[4] == "balance $97.9300"
    assert maker_out[0].startswith("quoted RFQ ")
    assert "confirmed quote" in maker_out[1]
    assert maker_out[2].startswith("executed: bought 4.00 no on " + MARKET)
    assert maker_out[3].startswith("balance $")
