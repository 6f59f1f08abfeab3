"""The official SDKs configured through the fixture's helpers, unmodified."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kalshi_python_sync as sdk
import pytest

from kalshi_sandbox.testing import KalshiSandbox

HERE = Path(__file__).parent
NODE_MODULES = HERE.parent / "conformance" / "ts" / "node_modules"


def test_python_sdk_configuration_points_at_the_sandbox_as_the_account(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    config = sb.kalshi_python_config(sb.requester)
    assert isinstance(config, sdk.Configuration)
    assert config.host == sb.rest_url
    assert config.api_key_id == sb.requester.key_id
    client = sb.kalshi_python_client(sb.requester)
    assert client.get_communications_id().communications_id == (
        sb.requester.communications_id)


def test_python_sdk_trades_an_rfq_to_execution_through_the_fixture(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    requester = sb.kalshi_python_client(sb.requester)
    maker = sb.kalshi_python_client(sb.maker)
    market = sb.markets[0]
    rfq_id = requester.create_rfq(market_ticker=market, contracts=10, rest_remainder=False).id
    quote_id = maker.create_quote(rfq_id=rfq_id, yes_bid="0.40", no_bid="0.55",
                                  rest_remainder=False).id
    requester.accept_quote(quote_id, accepted_side="true")
    maker.confirm_quote(quote_id)
    sb.clock.advance(15)
    executed: Any = requester.get_quote(quote_id).quote
    assert executed.status == "executed"
    positions = requester.get_positions().market_positions
    assert [(p.ticker, p.position) for p in positions] == [(market, 10)]


def test_python_sdk_quotes_for_an_auto_requester(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.counterparties.requester("taker", markets=[sb.markets[0]], accept_delay=1)
    rfq_id = sb.counterparties.rfq("taker")
    maker = sb.kalshi_python_client(sb.maker)
    quote_id = maker.create_quote(rfq_id=rfq_id, yes_bid="0.40", no_bid="0.55",
                                  rest_remainder=False).id
    sb.clock.advance(1)
    assert maker.get_quote(quote_id).quote.status == "accepted"
    maker.confirm_quote(quote_id)
    sb.clock.advance(15)
    assert maker.get_quote(quote_id).quote.status == "executed"


@pytest.mark.parametrize("use_path", [False, True])
def test_typescript_sdk_takes_the_configuration_values_as_they_are(
        kalshi_sandbox: KalshiSandbox, use_path: bool) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "kalshi-typescript").is_dir():
        pytest.fail("needs node and the pinned npm packages: run `make test` "
                    "(or `npm ci` in tests/conformance/ts)")
    sb = kalshi_sandbox
    values = sb.kalshi_typescript_config(sb.maker)
    assert values == {"basePath": sb.rest_url, "apiKey": sb.maker.key_id,
                      "privateKeyPem": sb.maker.private_key_pem,
                      "privateKeyPath": str(sb.maker.private_key_path)}
    done = subprocess.run([node, str(HERE / "sdk_config.js")],
                          input=json.dumps({**values, "use_path": use_path}),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"communications_id": sb.maker.communications_id,
                                       "balance": 1_000_000}
