"""The control plane cannot be driven by a web page, through a forwarder or by a forged header.

Each test replays an attack on a real server process, checks that it is refused, and checks
that nothing changed: the accounts, the clock, the journal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import (
    CONTROL,
    Forwarder,
    accounts_of,
    journal_entries,
    raw_request,
)
from tests.support.server import Control, ServerProcess, free_port

EVIL = "http://evil.example"
PAYLOAD = b'{"name": "pwned", "balance_dollars": "1000000"}'
TOKEN = "team-secret"


def control_url(server: ServerProcess, path: str) -> str:
    return server.base_url + CONTROL + path


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


# What a web page can send -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:{port}"])
def test_a_text_plain_post_from_a_web_page_creates_no_account(
        server: ServerProcess, control: Control, host: str) -> None:
    """A form or a no-cors fetch on http://evil.example, whether it reaches the sandbox by
    127.0.0.1 or by its own name rebound to 127.0.0.1 (DNS rebinding)."""
    before = accounts_of(server)
    response = httpx.post(control_url(server, "/accounts"), content=PAYLOAD, headers={
        "Host": host.format(port=server.port), "Origin": EVIL, "Content-Type": "text/plain"})
    assert response.status_code == 403, response.text
    assert error_code(response) == "forbidden"
    assert accounts_of(server) == before


def test_a_rebound_page_cannot_read_the_journal_and_its_keys(
        server: ServerProcess, control: Control) -> None:
    control.account("holder")  # the journal now holds a private key
    response = httpx.get(control_url(server, "/journal"),
                         headers={"Host": f"evil.example:{server.port}"})
    assert response.status_code == 403
    assert b"PRIVATE KEY" not in response.content
    assert "answers to" in response.json()["error"]["details"]
    # The same request by the sandbox's own name is answered (so the refusal is the Host's).
    assert b"PRIVATE KEY" in httpx.get(control_url(server, "/journal")).content


def test_a_request_by_another_name_of_the_machine_is_refused(
        server: ServerProcess, control: Control) -> None:
    before = accounts_of(server)
    for host in ("127.0.0.2", f"0.0.0.0:{server.port}", "192.168.1.10", "sandbox.local"):
        response = httpx.post(control_url(server, "/accounts"), json={"name": "x"},
                              headers={"Host": host})
        assert response.status_code == 403, (host, response.text)
    for host in ("localhost", f"LOCALHOST:{server.port}", f"127.0.0.1:{server.port}"):
        response = httpx.get(control_url(server, "/accounts"), headers={"Host": host})
        assert response.status_code == 200, (host, response.text)
    assert accounts_of(server) == before


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1:1", "http://localhost:{port}",
                                    "file://", "not a url"])
def test_a_cross_site_origin_is_refused_whatever_the_content_type(
        server: ServerProcess, control: Control, origin: str) -> None:
    before = accounts_of(server)
    response = httpx.post(control_url(server, "/accounts"), json={"name": "x"},
                          headers={"Origin": origin.format(port=server.port)})
    assert response.status_code == 403, response.text
    assert "cross-site" in response.json()["error"]["details"]
    # A body-less POST needs no content type: only the Origin stops a page from resetting.
    reset = httpx.post(control_url(server, "/reset"), headers={"Origin": EVIL})
    assert reset.status_code == 403
    assert accounts_of(server) == before


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_fetch_another_site_made_is_refused(server: ServerProcess, control: Control,
                                              site: str) -> None:
    response = httpx.get(control_url(server, "/journal"), headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403


def test_the_sandboxs_own_origin_and_plain_clients_get_in(
        server: ServerProcess, control: Control) -> None:
    own = f"http://127.0.0.1:{server.port}"
    created = httpx.post(control_url(server, "/accounts"), json={"name": "own-origin"},
                         headers={"Origin": own, "Sec-Fetch-Site": "same-origin"})
    assert created.status_code == 201, created.text
    typed = httpx.get(control_url(server, "/accounts"), headers={"Sec-Fetch-Site": "none"})
    assert typed.status_code == 200
    assert "own-origin" in accounts_of(server)


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/jsonx", "application/x-ndjson", "é"])
def test_a_control_plane_body_must_be_declared_json(
        server: ServerProcess, control: Control, content_type: str | None) -> None:
    before = accounts_of(server)
    headers = {} if content_type is None else {b"Content-Type": content_type.encode("latin-1")}
    response = httpx.post(control_url(server, "/accounts"), content=PAYLOAD, headers=headers)
    assert response.status_code == 415, response.text
    assert response.json() == {"error": {
        "code": "invalid_content_type", "message": "invalid content type",
        "details": "a control-plane body must be sent as application/json"}}
    assert accounts_of(server) == before


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON"])
def test_json_in_any_spelling_is_accepted(server: ServerProcess, control: Control,
                                          content_type: str) -> None:
    response = httpx.post(control_url(server, "/accounts"), content=b'{"name": "typed"}',
                          headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


def test_a_refused_control_request_is_not_journaled(server: ServerProcess,
                                                    control: Control) -> None:
    before = len(journal_entries(server))
    refused = httpx.post(control_url(server, "/markets"), content=b'{"ticker": "KXNOPE"}',
                         headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415
    entries = journal_entries(server)[before:]
    assert [e for e in entries if e.get("path") == CONTROL + "/markets"] == []


# Forwarders ---------------------------------------------------------------------------------------


@pytest.fixture
def forwarder(server: ServerProcess) -> Iterator[Forwarder]:
    """A TCP forwarder on 127.0.0.2 in front of the sandbox on 127.0.0.1."""
    relay = Forwarder("127.0.0.2", server.port)
    yield relay
    relay.close()


def test_a_forwarder_on_another_loopback_address_does_not_get_in(
        server: ServerProcess, control: Control, forwarder: Forwarder) -> None:
    before = accounts_of(server)
    relayed = f"http://127.0.0.2:{forwarder.port}"
    created = httpx.post(relayed + CONTROL + "/accounts", json={"name": "relayed"})
    assert created.status_code == 403, created.text
    assert "private_key_pem" not in created.text
    assert httpx.get(relayed + CONTROL + "/journal").status_code == 403
    assert accounts_of(server) == before
    # The forwarder does forward: Kalshi's API, which needs signatures, answers through it.
    assert httpx.get(relayed + "/trade-api/v2/exchange/status").status_code == 200


# Forwarding headers -------------------------------------------------------------------------------


def test_forwarding_headers_are_ignored_by_default(server: ServerProcess,
                                                   control: Control) -> None:
    """Locality is the socket peer's: a header can neither make a caller local nor remote."""
    for forwarded in ("203.0.113.9", "localhost", "127.0.0.1"):
        response = httpx.get(control_url(server, "/accounts"),
                             headers={"X-Forwarded-For": forwarded})
        assert response.status_code == 200, (forwarded, response.text)


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox that believes forwarding headers from a proxy on 127.0.0.1."""
    server = ServerProcess(tmp_path_factory.mktemp("proxied"),
                           args=("--clock", "manual", "--no-seed",
                                 "--forwarded-allow-ips", "127.0.0.1")).start()
    yield server
    server.stop()


def test_a_trusted_proxys_forwarded_caller_is_judged_by_its_address(
        behind_proxy: ServerProcess) -> None:
    before = accounts_of(behind_proxy)
    for forwarded in ("203.0.113.9", "localhost", "::ffff:8.8.8.8", "127.0.0.1, 203.0.113.9"):
        response = httpx.post(control_url(behind_proxy, "/accounts"), json={"name": "fwd"},
                              headers={"X-Forwarded-For": forwarded})
        assert response.status_code == 403, (forwarded, response.text)
    assert accounts_of(behind_proxy) == before
    local = httpx.get(control_url(behind_proxy, "/accounts"),
                      headers={"X-Forwarded-For": "127.0.0.1"})
    assert local.status_code == 200


# Exposing a sandbox -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_serve_refuses_a_public_address_without_an_admin_token(tmp_path: Path,
                                                               how: str) -> None:
    port = free_port()
    args = ["--host", "0.0.0.0"] if how == "flag" else []
    env = {"KALSHI_SANDBOX_HOST": "0.0.0.0"} if how == "variable" else {}
    done = subprocess.run(
        [sys.executable, "-m", "kalshi_sandbox", "serve", "--port", str(port), "--data-dir",
         str(tmp_path / "data"), *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **env, "KALSHI_SANDBOX_ADMIN_TOKEN": ""}, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not a loopback address" in done.stderr
    assert "--admin-token" in done.stderr
    assert not (tmp_path / "data").exists()  # it stopped before opening anything


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox on every interface, with an admin token and the name a team reaches it by."""
    server = ServerProcess(tmp_path_factory.mktemp("exposed"), token=TOKEN,
                           args=("--clock", "manual", "--no-seed", "--host", "0.0.0.0",
                                 "--admin-token", TOKEN, "--allowed-hosts",
                                 "sandbox.team.example")).start()
    yield server
    server.stop()


def test_an_exposed_sandbox_wants_its_token_from_everyone(exposed: ServerProcess) -> None:
    before = accounts_of(exposed, TOKEN)
    url = control_url(exposed, "/accounts")
    for authorization in (None, "Bearer wrong", f"bearer {TOKEN}", TOKEN):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = httpx.post(url, json={"name": "x"}, headers=headers)
        assert response.status_code == 401, (authorization, response.text)
        assert error_code(response) == "unauthorized"
    by_name = httpx.post(url, json={"name": "teammate"},
                         headers={"Authorization": f"Bearer {TOKEN}",
                                  "Host": f"sandbox.team.example:{exposed.port}"})
    assert by_name.status_code == 201, by_name.text
    other = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}",
                                    "Host": "other.example"})
    assert other.status_code == 403
    assert accounts_of(exposed, TOKEN) == sorted([*before, "teammate"])


@pytest.mark.parametrize("value", [b"Bearer \xe9\xe8", b"\xff\xfe", "Bearer ✓".encode(),
                                   b"Bearer " + TOKEN.encode() + b"\xe9"])
def test_a_malformed_authorization_header_is_a_401_not_a_500(exposed: ServerProcess,
                                                             value: bytes) -> None:
    before = accounts_of(exposed, TOKEN)
    head = (f"POST {CONTROL}/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(PAYLOAD)}\r\n"
            "Connection: close\r\nAuthorization: ").encode() + value
    response = raw_request(exposed.port, head, PAYLOAD)
    assert response.status == 401, response.body
    assert response.json()["error"]["code"] == "unauthorized"
    assert accounts_of(exposed, TOKEN) == before
