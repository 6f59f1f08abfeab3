"""A real sandbox server process for tests, and signed clients to talk to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kalshi_sandbox.client.auth import KalshiAuth
from kalshi_sandbox.client.control import ControlPlane

API = "/trade-api/v2"
UNLIMITED = {"KALSHI_SANDBOX_RATE_LIMIT": "off"}
"""Test servers send hundreds of requests a second per account, on a clock that refills
buckets only when advanced: rate limits are off unless a test's flags or env turn them on."""


def free_port() -> int:
    """Return a TCP port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """``kalshi-sandbox serve`` in a child process, on a free port, with its own data dir."""

    data_dir: Path
    args: tuple[str, ...] = ("--clock", "manual", "--no-seed")
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    token: str = ""
    """The server's admin token, if its arguments set one: the health check sends it."""
    cwd: Path | None = None
    """The server's working directory (default: this process's)."""
    process: subprocess.Popen[bytes] | None = None
    _log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start the server and wait until it answers."""
        command = [sys.executable, "-m", "kalshi_sandbox", "serve", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), "--log-level", "warning", *self.args]
        env = {**os.environ, **UNLIMITED, **self.env}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            self._log = (self.data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, cwd=self.cwd)
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.process.returncode}: "
                                   f"{self.log_text()}")
            try:
                health = httpx.get(self.base_url + "/sandbox/v1/health", timeout=1,
                                   headers=auth)
                if health.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"sandbox did not start: {self.log_text()}")

    def log_text(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` and wait for the process to end."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Account:
    """A sandbox account as the control plane created it."""

    user_id: str
    name: str
    communications_id: str
    key_id: str
    private_key_pem: str


class Trader:
    """A signed HTTP client for one account (raw requests, to test the wire exactly)."""

    def __init__(self, base_url: str, account: Account) -> None:
        self.account = account
        self.http = httpx.Client(base_url=base_url + API,
                                 auth=KalshiAuth(account.key_id, account.private_key_pem),
                                 timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.put(path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.delete(path, **kwargs)

    def close(self) -> None:
        self.http.close()

    # Lifecycle helpers that assert success --------------------------------------------------

    def create_rfq(self, market: str, contracts: str = "10", **extra: Any) -> str:
        body = {"market_ticker": market, "contracts_fp": contracts, "rest_remainder": False,
                **extra}
        response = self.post("/communications/rfqs", json=body)
        assert response.status_code == 201, response.text
        rfq_id: str = response.json()["id"]
        return rfq_id

    def create_quote(self, rfq_id: str, yes_bid: str = "0.40", no_bid: str = "0.55",
                     **extra: Any) -> str:
        body = {"rfq_id": rfq_id, "yes_bid": yes_bid, "no_bid": no_bid,
                "rest_remainder": False, **extra}
        response = self.post("/communications/quotes", json=body)
        assert response.status_code == 201, response.text
        quote_id: str = response.json()["id"]
        return quote_id

    def accept(self, rfq_id: str, quote_id: str, side: str = "yes") -> None:
        response = self.put(f"/communications/rfqs/{rfq_id}/quotes/{quote_id}/accept",
                            json={"accepted_side": side})
        assert response.status_code == 204, response.text

    def confirm(self, rfq_id: str, quote_id: str) -> None:
        response = self.put(f"/communications/rfqs/{rfq_id}/quotes/{quote_id}/confirm")
        assert response.status_code == 204, response.text

    def quote(self, quote_id: str) -> dict[str, Any]:
        response = self.get(f"/communications/quotes/{quote_id}")
        assert response.status_code == 200, response.text
        quote: dict[str, Any] = response.json()["quote"]
        return quote

    def rfq(self, rfq_id: str) -> dict[str, Any]:
        response = self.get(f"/communications/rfqs/{rfq_id}")
        assert response.status_code == 200, response.text
        rfq: dict[str, Any] = response.json()["rfq"]
        return rfq

    def balance(self) -> dict[str, Any]:
        response = self.get("/portfolio/balance")
        assert response.status_code == 200, response.text
        balance: dict[str, Any] = response.json()
        return balance


class Control:
    """The control plane of a running sandbox, through the client everyone uses, with
    assertions on the status of each call."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.plane = ControlPlane(base_url)
        self.http = self.plane.http
        self._traders: list[Trader] = []

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.plane.send(method, path, body)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def reset(self) -> None:
        self.call("POST", "/reset", {})

    def account(self, name: str, balance: str = "1000") -> Account:
        data = self.call("POST", "/accounts", {"name": name, "balance_dollars": balance},
                         expect=201)
        return Account(data["user_id"], data["name"], data["communications_id"],
                       data["key_id"], data["private_key_pem"])

    def trader(self, name: str, balance: str = "1000") -> Trader:
        trader = Trader(self.base_url, self.account(name, balance))
        self._traders.append(trader)
        return trader

    def market(self, ticker: str, **fields: Any) -> dict[str, Any]:
        market: dict[str, Any] = self.call("POST", "/markets", {"ticker": ticker, **fields},
                                           expect=201)
        return market

    def advance(self, seconds: float) -> dict[str, Any]:
        state: dict[str, Any] = self.call("POST", "/clock/advance", {"seconds": seconds})
        return state

    def close(self) -> None:
        for trader in self._traders:
            trader.close()
        self._traders.clear()
        self.plane.close()


def running(data_dir: Path, *args: str, **env: str) -> Iterator[ServerProcess]:
    """Yield a started server; stop it afterwards."""
    server = ServerProcess(data_dir, args=args or ServerProcess.args, env=env).start()
    try:
        yield server
    finally:
        server.stop()
