"""Fixtures for the fault tests: the control plane's fault rules, and signed WebSockets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.server import Control, ServerProcess
from tests.ws.client import OpenSocket, open_sockets


class Faults:
    """``/sandbox/v1/faults`` of the session's server."""

    def __init__(self, control: Control) -> None:
        self.control = control

    def add(self, action: dict[str, Any], **rule: Any) -> dict[str, Any]:
        """Add a rule (``match``, ``probability``, ``count``, ``seed`` as keywords)."""
        created: dict[str, Any] = self.control.call("POST", "/faults",
                                                    {"action": action, **rule}, expect=201)
        return created

    def refused(self, body: Any) -> dict[str, Any]:
        """Post a rule the control plane must refuse with 400; return the error body."""
        response = self.control.http.post("/faults", json=body)
        assert response.status_code == 400, response.text
        error: dict[str, Any] = response.json()
        return error

    def get(self, rule_id: str) -> dict[str, Any]:
        rule: dict[str, Any] = self.control.call("GET", f"/faults/{rule_id}")
        return rule

    def list(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self.control.call("GET", "/faults")["faults"]
        return rules


@pytest.fixture
def faults(control: Control) -> Faults:
    """The fault rules of the session's server (a reset, done by ``control``, clears them)."""
    return Faults(control)


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[OpenSocket]:
    """Open signed WebSocket connections for traders; close them after the test."""
    yield from open_sockets(server.base_url)
