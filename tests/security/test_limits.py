"""Bodies are capped before they are read, and control-plane bodies are bounded within.

The cap is answered 413 in Kalshi's error shape before a byte of the body is buffered or
journaled; within it, control-plane bodies are refused past a nesting depth, a list length
and a string length (powers/bounds.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.security.conftest import (
    CONTROL,
    accounts_of,
    chunked_upload,
    journal_entries,
    raw_request,
)
from tests.support.server import API, Control, ServerProcess
from tests.ws.client import open_ws

RFQS = API + "/communications/rfqs"
TOO_LARGE = {"error": {"code": "payload_too_large", "message": "payload too large",
                       "details": "the request body is larger than 1048576 bytes"}}
MB = 1 << 20


def entries_for(server: ServerProcess, path: str, since: int) -> list[dict[str, Any]]:
    """Return the journal's records of POSTs to ``path`` after the first ``since`` entries."""
    return [e for e in journal_entries(server)[since:]
            if e.get("path") == path and e.get("method") == "POST"]


@pytest.mark.parametrize("path", [RFQS, CONTROL + "/accounts"])
def test_a_declared_20_mb_body_is_refused_before_it_is_read(
        server: ServerProcess, control: Control, path: str) -> None:
    before = len(journal_entries(server))
    names = accounts_of(server)
    # Only the headers are sent: the answer cannot wait for the body.
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {20 * MB}").encode()
    response = raw_request(server.port, head)
    assert response.status == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == TOO_LARGE
    assert entries_for(server, path, before) == []
    assert accounts_of(server) == names


@pytest.mark.parametrize("path", [RFQS, CONTROL + "/markets"])
def test_a_streamed_body_is_cut_off_at_the_cap(server: ServerProcess, control: Control,
                                               path: str) -> None:
    before = len(journal_entries(server))
    response, sent = chunked_upload(server.port, path, 20 * MB,
                                    headers=b"Content-Type: application/json\r\n")
    assert response.status == 413, response.body
    assert response.json() == TOO_LARGE
    # Answered once the cap was crossed, not after 20 MB (what the client managed to push
    # into the sockets' buffers meanwhile depends on the machine's load).
    assert sent < 12 * MB
    assert entries_for(server, path, before) == []


def test_a_body_under_the_cap_is_read(server: ServerProcess, control: Control) -> None:
    padding = "x" * (MB - 100)
    response = httpx.post(server.base_url + CONTROL + "/markets",
                          json={"ticker": "KXBIG-1", "pad": padding})
    # Read, decoded and then refused for its content: not for its size.
    assert response.status_code == 400, response.text
    assert "pad is longer than 256 characters" in response.text


def test_whole_journals_may_be_larger_than_requests(server: ServerProcess,
                                                    control: Control) -> None:
    journal = b'{"not": "a journal line"}\n' * (2 * MB // 26)
    response = httpx.post(server.base_url + CONTROL + "/journal/replay", content=journal,
                          headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code != 413
    assert response.status_code < 500, response.text


# Bounds within a control-plane body ---------------------------------------------------------


@pytest.mark.parametrize(("path", "body", "says"), [
    ("/markets", {"ticker": "K" * 257}, "ticker is longer than 256 characters"),
    ("/markets", {"ticker": "KXT-1", "title": "t" * 1025}, "title is longer than 1024"),
    ("/markets", {"ticker": "KXT-1", "price_ranges": [{}] * 1001}, "more than 1000 items"),
    ("/faults", {"match": {"path": "/" + "p" * 300}, "action": {"type": "rate_limit"}},
     "match.path is longer than 256"),
    ("/faults", {"action": {"type": "error", "details": "d" * 5000}},
     "action.details is longer than 4096"),
    ("/counterparties/makers", {"name": "m", "markets": ["K" * 300]},
     "markets[0] is longer than 256"),
    ("/accounts", {"name": "a", "public_key_pem": "k" * 20_000},
     "public_key_pem is longer than 16384"),
    ("/clock/advance", {"seconds": 1, "x" * 300: 1}, "a key longer than 256"),
])
def test_long_strings_and_lists_are_refused(server: ServerProcess, control: Control,
                                            path: str, body: dict[str, Any],
                                            says: str) -> None:
    names = accounts_of(server)
    response = httpx.post(server.base_url + CONTROL + path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_parameters"
    assert says in response.json()["error"]["details"]
    assert accounts_of(server) == names
    assert httpx.get(server.base_url + CONTROL + "/faults").json()["faults"] == []
    assert httpx.get(server.base_url + CONTROL + "/counterparties").json()[
        "counterparties"] == []


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


CONTROL_BODIES = [
    ("POST", "/accounts"), ("POST", "/markets"), ("PATCH", "/markets/KXTEST-26DEC31-T50"),
    ("POST", "/clock/advance"), ("POST", "/faults"), ("POST", "/counterparties/makers"),
    ("POST", "/counterparties/requesters"), ("POST", "/reset"),
]


@pytest.mark.parametrize(("method", "path"), CONTROL_BODIES)
def test_deep_json_is_a_400_on_every_control_endpoint(server: ServerProcess, control: Control,
                                                      method: str, path: str) -> None:
    names = accounts_of(server)
    url = server.base_url + CONTROL + path
    json = {"Content-Type": "application/json"}
    brackets = httpx.request(method, url, content=b"[" * 100_000, headers=json)
    assert brackets.status_code == 400, brackets.text
    braces = httpx.request(method, url, content=b'{"a":' * 50_000, headers=json)
    assert braces.status_code == 400, braces.text
    deep = httpx.request(method, url, json={"name": "deep", "ticker": "KXD-1",
                                            "nest": nested(20)})
    assert deep.status_code == 400, deep.text
    assert "nested deeper than 16 levels" in deep.text
    assert accounts_of(server) == names


@pytest.mark.parametrize("path", [RFQS, API + "/communications/quotes"])
def test_deep_json_is_a_400_on_the_trade_api(control: Control, path: str) -> None:
    trader = control.trader("deep")
    for raw in (b"[" * 100_000, b'{"a":' * 50_000):
        response = trader.post(path.removeprefix(API), content=raw,
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "bad_request"


def test_query_parameter_errors_carry_a_code(control: Control) -> None:
    response = control.trader("asker").get("/communications/rfqs", params={"limit": 101})
    assert response.status_code == 400
    text = ("Parameter validation failed for GetRFQs: Key: 'GetRFQsParams.Limit' "
            "Error:Field validation for 'Limit' failed on the 'lte' tag")
    assert response.json() == {"code": "bad_request", "message": "bad request",
                               "details": text, "msg": text}


def test_a_websocket_message_over_the_cap_closes_the_connection(server: ServerProcess,
                                                                control: Control) -> None:
    trader = control.trader("talker")
    with open_ws(server.base_url, trader.account) as client:
        client.send({"id": 1, "cmd": "list_subscriptions", "pad": "x" * 1000})
        assert client.reply(1)["type"] == "ok"
        client.send({"id": 2, "cmd": "list_subscriptions", "pad": "x" * (MB + 1)})
        with pytest.raises(ConnectionClosed) as closed:
            client.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
