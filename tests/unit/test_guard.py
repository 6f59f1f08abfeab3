"""The control plane's policy on ASGI scopes: the spellings of hosts, origins and peers that a
real socket test cannot produce (IPv6, mapped addresses, a TLS proxy's default ports)."""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_sandbox.domain.errors import SandboxError
from kalshi_sandbox.powers.guard import ControlPolicy
from kalshi_sandbox.settings import Settings


def scope(*headers: tuple[str, str], client: Any = ("127.0.0.1", 5000),
          path: str = "/sandbox/v1/accounts") -> dict[str, Any]:
    return {"type": "http", "path": path, "client": client,
            "headers": [(name.encode(), value.encode("latin-1")) for name, value in headers]}


POLICY = ControlPolicy.from_settings(Settings())


def status(refusal: SandboxError | None) -> int | None:
    """Return the status a refusal answers with (None: admitted)."""
    return None if refusal is None else refusal.status


@pytest.mark.parametrize(("host", "origin"), [
    ("[::1]:8000", "http://[::1]:8000"),
    ("localhost:8000", "http://LOCALHOST:8000"),
    ("127.0.0.1", "http://127.0.0.1"),
    ("127.0.0.1", "https://127.0.0.1"),
    ("localhost.", "http://localhost"),
])
def test_the_sandboxs_own_origin_in_any_spelling_is_admitted(host: str, origin: str) -> None:
    assert POLICY.refusal(scope(("host", host), ("origin", origin))) is None


@pytest.mark.parametrize(("host", "origin"), [
    ("127.0.0.1:8000", "http://127.0.0.1:8001"),
    ("127.0.0.1", "http://127.0.0.1:8080"),
    ("127.0.0.1:8000", "http://localhost:8000"),
    ("127.0.0.1:8000", "null"),
    ("127.0.0.1:8000", "http://127.0.0.1:99999"),
    ("[::1", "http://[::1]"),
    ("127.0.0.1:80a", "http://127.0.0.1"),
])
def test_another_origin_or_a_malformed_host_is_refused(host: str, origin: str) -> None:
    assert status(POLICY.refusal(scope(("host", host), ("origin", origin)))) == 403


@pytest.mark.parametrize(("client", "admitted"), [
    (("127.0.0.1", 1), True), (("127.8.9.10", 1), True), (("::1", 1), True),
    (("::ffff:127.0.0.1", 1), True), (("localhost", 1), False), (("10.0.0.1", 1), False),
    (("::ffff:10.0.0.1", 1), False), (None, False), (("", 0), False),
])
def test_locality_is_the_peers_address(client: Any, admitted: bool) -> None:
    refusal = POLICY.refusal(scope(("host", "127.0.0.1"), client=client))
    assert (refusal is None) is admitted


def test_a_token_admits_any_peer_and_only_the_exact_header() -> None:
    policy = ControlPolicy.from_settings(Settings(admin_token="t0k"))
    assert policy.refusal(scope(("authorization", "Bearer t0k"), client=("8.8.8.8", 1))) is None
    for sent in ("Bearer t0k ", "Bearer t0", "bearer t0k", "Bearer t0k\xe9", ""):
        assert status(policy.refusal(scope(("authorization", sent)))) == 401


def test_allowed_hosts_add_names_and_a_star_admits_any() -> None:
    named = ControlPolicy.from_settings(Settings(allowed_hosts="Sandbox.Example, other.example"))
    assert named.refusal(scope(("host", "sandbox.example:443"))) is None
    assert named.refusal(scope(("host", "third.example"))) is not None
    anyone = ControlPolicy.from_settings(Settings(allowed_hosts="*"))
    assert anyone.refusal(scope(("host", "third.example"))) is None


def test_only_a_body_needs_a_content_type() -> None:
    assert POLICY.refusal(scope(("content-length", "0"))) is None
    assert POLICY.refusal(scope()) is None
    assert status(POLICY.refusal(scope(("content-length", "2")))) == 415
    assert status(POLICY.refusal(scope(("transfer-encoding", "chunked")))) == 415
    replay = scope(("content-length", "2"), ("content-type", "application/x-ndjson"),
                   path="/sandbox/v1/journal/replay")
    assert POLICY.refusal(replay) is None
