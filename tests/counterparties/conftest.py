"""Helpers for counterparty tests: the control plane's counterparty endpoints, and time."""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_sandbox.domain.clock import MICROS, parse_instant
from tests.support.server import Control, Trader

PATH = "/counterparties"


class Bots:
    """The counterparty endpoints of a sandbox's control plane."""

    def __init__(self, control: Control) -> None:
        self.control = control

    def maker(self, name: str, **config: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.control.call(
            "POST", PATH + "/makers", {"name": name, **config}, expect=201)
        return created

    def requester(self, name: str, **config: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.control.call(
            "POST", PATH + "/requesters", {"name": name, **config}, expect=201)
        return created

    def rfq(self, name: str, **body: Any) -> str:
        data = self.control.call("POST", f"{PATH}/requesters/{name}/rfqs", body, expect=201)
        rfq_id: str = data["rfq_id"]
        return rfq_id

    def get(self, name: str) -> dict[str, Any]:
        bot: dict[str, Any] = self.control.call("GET", f"{PATH}/{name}")
        return bot

    def all(self) -> list[dict[str, Any]]:
        bots: list[dict[str, Any]] = self.control.call("GET", PATH)["counterparties"]
        return bots

    def patch(self, name: str, **changes: Any) -> dict[str, Any]:
        bot: dict[str, Any] = self.control.call("PATCH", f"{PATH}/{name}", changes)
        return bot

    def activity(self, name: str, action: str) -> list[dict[str, Any]]:
        """Return the counterparty's recent actions of one kind, oldest first."""
        return [a for a in self.get(name)["activity"] if a["action"] == action]

    def balance(self, user_id: str) -> str:
        """Return an account's balance in dollars, read through the control plane."""
        balance: str = self.control.call("GET", f"/accounts/{user_id}")["account"][
            "balance_dollars"]
        return balance


@pytest.fixture
def bots(control: Control) -> Bots:
    return Bots(control)


def now(control: Control) -> int:
    """Return the sandbox clock's instant."""
    return parse_instant(control.call("GET", "/clock")["now"])


def at(text: str) -> int:
    return parse_instant(text)


def seconds(value: float) -> int:
    return round(value * MICROS)


def quotes_on(trader: Trader, rfq_id: str) -> list[dict[str, Any]]:
    """Return the quotes ``trader`` can see on an RFQ, oldest first."""
    response = trader.get("/communications/quotes", params={"rfq_id": rfq_id})
    assert response.status_code == 200, response.text
    quotes: list[dict[str, Any]] = response.json()["quotes"]
    return sorted(quotes, key=lambda q: (q["created_ts"], q["id"]))
