"""schemathesis runs every operation of the served documents against a real server, with
signed requests and a bounded number of examples: no request may end in a server error, and
no documented operation may fall through to the router's "no endpoint" answer.

The documents are built at collection from the same route table ``serve`` runs (so each
operation is its own test, spread over the xdist workers); a test checks that the server
serves exactly these documents.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from kalshi_sandbox.api.routes import PREFIX
from kalshi_sandbox.client.auth import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    load_private_key,
    sign_request,
)
from kalshi_sandbox.powers.guard import CONTROL_PREFIX
from kalshi_sandbox.web.routes import control_document, trade_document
from tests.support.server import Control, ServerProcess, running
from tests.web.conftest import served_routes

MAX_EXAMPLES = 4

_ROUTES = served_routes(Path(tempfile.gettempdir()))
TRADE = trade_document(_ROUTES)
CONTROL = control_document(_ROUTES)

UNFUZZED = {
    ("POST", "/faults"): "a fault rule answers the errors it is given, 5xx included",
    ("POST", "/clock/advance"): "moving the clock to year 9999 fires every counterparty's "
                                "timers the fuzzer started, one by one",
    ("POST", "/journal/replay"): "a replay needs a fresh sandbox; tests/state cover it",
    ("POST", "/snapshots/restore"): "a restore replaces the state; tests/state cover it",
    ("GET", "/dashboard/feed"): "an endless event stream; tests/web/test_dashboard.py",
}
"""Control-plane operations left out of the fuzzing, and why."""

trade_schema = schemathesis.openapi.from_dict(TRADE)
control_schema = schemathesis.openapi.from_dict(CONTROL).exclude(
    func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in UNFUZZED)

FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


class Signed(requests.auth.AuthBase):
    """Signs a request as Kalshi does (client/auth.py), for schemathesis' requests calls."""

    def __init__(self, key_id: str, private_key_pem: str) -> None:
        self.key_id = key_id
        self.key = load_private_key(private_key_pem)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        import time

        stamp = str(int(time.time() * 1000))
        request.headers[KEY_HEADER] = self.key_id
        request.headers[TIMESTAMP_HEADER] = stamp
        request.headers[SIGNATURE_HEADER] = sign_request(self.key, stamp, request.method or "",
                                                         request.path_url)
        return request


def no_missing_endpoint(ctx: Any, response: Any, case: Any) -> bool | None:
    """A documented operation reaches a handler: never the router's "no endpoint" 404."""
    if response.request.method != case.operation.method.upper():
        return None  # schemathesis also tries methods the path does not serve, on purpose
    assert response.status_code != 405, response.text
    if response.status_code == 404:
        assert "no endpoint at" not in response.text, response.text
    return None


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Signed]]:
    """A server of its own (the fuzzer resets and reshapes it) and a signed account."""
    for server in running(tmp_path_factory.mktemp("fuzz")):
        control = Control(server.base_url)
        control.market("KXTEST-26DEC31-T50")
        account = control.call("POST", "/accounts",
                               {"name": "fuzzer", "balance_dollars": "1000"}, expect=201)
        control.close()
        yield server, Signed(account["key_id"], account["private_key_pem"])


def test_server_serves_the_documents_the_fuzzer_reads(
        fuzzed: tuple[ServerProcess, Signed]) -> None:
    server, _ = fuzzed
    assert httpx.get(server.base_url + PREFIX + "/openapi.json").json() == TRADE
    assert httpx.get(server.base_url + CONTROL_PREFIX + "/openapi.json").json() == CONTROL


@trade_schema.parametrize()
@FUZZ
def test_trade_api_never_answers_a_server_error(
        case: Any, fuzzed: tuple[ServerProcess, Signed]) -> None:
    server, auth = fuzzed
    case.call_and_validate(base_url=server.base_url + PREFIX, auth=auth, timeout=30,
                           checks=[not_a_server_error, no_missing_endpoint])


@control_schema.parametrize()
@FUZZ
def test_control_plane_never_answers_a_server_error(
        case: Any, fuzzed: tuple[ServerProcess, Signed]) -> None:
    server, _ = fuzzed
    case.call_and_validate(base_url=server.base_url + CONTROL_PREFIX, timeout=30,
                           checks=[not_a_server_error, no_missing_endpoint])
