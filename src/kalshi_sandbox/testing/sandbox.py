"""A handle on one sandbox, in-process or external, driven through its control plane.

Everything here speaks HTTP to ``/sandbox/v1`` (and hands out clients for ``/trade-api/v2``),
so the same object, and the same tests, work against a sandbox started in-process by the
pytest fixture and against a ``kalshi-sandbox serve`` running elsewhere.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kalshi_sandbox.client import AsyncKalshiClient, Environment, KalshiClient
from kalshi_sandbox.client.control import ControlPlane
from kalshi_sandbox.testing.control import Counterparties, Faults, Liquidity, SandboxClock
from kalshi_sandbox.testing.keys import KeyPool
from kalshi_sandbox.testing.models import (
    Dollars,
    SandboxAccount,
    dollars_text,
    given,
    user_id_of,
)
from kalshi_sandbox.testing.server import SandboxServer

DEFAULT_BALANCE = "10000"
"""Starting balance, in dollars, of the ready accounts and of ``account()`` by default."""

DEFAULT_MARKETS: tuple[tuple[str, bool, str], ...] = (
    ("KXSANDBOX-26DEC31-T50", False, "Will the sandbox index close above 50?"),
    ("KXSANDBOXHVM-26DEC31-B100", True, "Sandbox high-volatility market"),
)
"""(ticker, hvm, title) of the markets every fresh sandbox gets: a normal one, an HVM one."""


class KalshiSandbox:
    """One sandbox: its URLs, ready accounts and markets, clock, counterparties, liquidity
    makers and faults.

    ``base_url`` is the server root (``http://127.0.0.1:<port>``). The pytest fixture
    ``kalshi_sandbox`` builds one per test; :meth:`connect` builds one for any running
    sandbox. :meth:`setup` (which the fixture calls) wipes the sandbox and creates
    ``requester`` and ``maker`` and the two :data:`DEFAULT_MARKETS`.
    """

    def __init__(self, base_url: str, *, admin_token: str = "",
                 key_dir: Path | None = None, keys: KeyPool | None = None,
                 server: SandboxServer | None = None) -> None:
        self.environment = Environment.from_base_url(base_url)
        self.base_url = self.environment.rest_url.removesuffix("/trade-api/v2")
        self.server = server
        """The in-process server the fixture started, else None."""
        self._temp_dir: Path | None = None
        if keys is None:
            if key_dir is None:
                self._temp_dir = key_dir = Path(tempfile.mkdtemp(prefix="kalshi-keys-"))
            keys = KeyPool(key_dir)
        self._keys = keys
        self._used_keys = 0
        self._control = ControlPlane(self.base_url, admin_token)
        self.clock = SandboxClock(self._control)
        self.counterparties = Counterparties(self._control)
        self.faults = Faults(self._control)
        self.liquidity = Liquidity(self._control)
        self.markets: list[str] = []
        """Tickers of the markets this handle created: ``[0]`` normal, ``[1]`` HVM."""
        self._requester: SandboxAccount | None = None
        self._maker: SandboxAccount | None = None
        self._closers: list[Callable[[], None]] = []

    @classmethod
    def connect(cls, base_url: str, *, admin_token: str = "") -> KalshiSandbox:
        """Return a handle on the sandbox at ``base_url``, as it is (call :meth:`setup`)."""
        return cls(base_url, admin_token=admin_token)

    # URLs -----------------------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """Return the REST base URL, ``<base_url>/trade-api/v2``."""
        return self.environment.rest_url

    @property
    def ws_url(self) -> str:
        """Return the WebSocket URL, ``ws://<host:port>/trade-api/ws/v2``."""
        return self.environment.ws_url

    @property
    def external(self) -> bool:
        """Return whether the sandbox runs outside this process."""
        return self.server is None

    # Accounts and markets -------------------------------------------------------------------

    @property
    def requester(self) -> SandboxAccount:
        """Return the ready requester account."""
        if self._requester is None:
            raise RuntimeError("no ready accounts: call setup() (the fixture does)")
        return self._requester

    @property
    def maker(self) -> SandboxAccount:
        """Return the ready maker account."""
        if self._maker is None:
            raise RuntimeError("no ready accounts: call setup() (the fixture does)")
        return self._maker

    def setup(self, *, balance: Dollars = DEFAULT_BALANCE) -> KalshiSandbox:
        """Wipe the sandbox, then create the ready accounts and the default markets."""
        self.reset()
        self.markets = []
        self._requester = self.account("requester", balance)
        self._maker = self.account("maker", balance)
        for ticker, hvm, title in DEFAULT_MARKETS:
            self.market(ticker, hvm=hvm, title=title)
        if self.liquidity.list():
            # A server started with liquidity (``liquidity=True``) quotes the new markets now.
            self.liquidity.requote()
        return self

    def account(self, name: str, balance: Dollars = DEFAULT_BALANCE, *,
                usage_tier: str | None = None) -> SandboxAccount:
        """Create an account with an API key and ``balance`` dollars; return it.

        ``usage_tier`` (``basic`` ... ``prestige``) sets its rate limits; without it the
        account follows the server's ``rate_limit`` setting.
        """
        key = self._keys[self._used_keys]
        self._used_keys += 1
        data = self._control.call("POST", "/accounts", {
            "name": name, "balance_dollars": dollars_text(balance),
            "public_key_pem": key.public_key_pem, **given(usage_tier=usage_tier)})
        return SandboxAccount(name=data["name"], user_id=data["user_id"],
                              communications_id=data["communications_id"],
                              key_id=data["key_id"], private_key_pem=key.private_key_pem,
                              private_key_path=key.path,
                              balance_dollars=data["balance_dollars"])

    def set_balance(self, account: SandboxAccount | str, balance: Dollars) -> None:
        """Set an account's cash balance, in dollars."""
        self._control.call("PUT", f"/accounts/{user_id_of(account)}/balance",
                           {"balance_dollars": dollars_text(balance)})

    def limits(self, account: SandboxAccount | str) -> dict[str, Any]:
        """Return an account's usage tier, its buckets' budgets and the tokens they hold."""
        limits: dict[str, Any] = self._control.call(
            "GET", f"/accounts/{user_id_of(account)}/limits")
        return limits

    def set_usage_tier(self, account: SandboxAccount | str, usage_tier: str) -> dict[str, Any]:
        """Give an account a usage tier (its buckets start full again); return its limits.

        Limits apply only on a sandbox whose ``rate_limit`` is not ``off``: in-process, ask
        for one with ``@pytest.mark.kalshi_sandbox(rate_limit="basic")``.
        """
        limits: dict[str, Any] = self._control.call(
            "PUT", f"/accounts/{user_id_of(account)}/limits", {"usage_tier": usage_tier})
        return limits

    def market(self, ticker: str, *, hvm: bool = False, **fields: Any) -> str:
        """Create a market (``hvm``: high-volatility windows); return its ticker.

        ``fields`` are the control plane's market fields: ``title``, ``status``,
        ``price_level_structure`` (``linear_cent``, ``deci_cent``, ...), ``price_ranges``,
        ``close_time``.
        """
        data = self._control.call("POST", "/markets", {"ticker": ticker, "hvm": hvm, **fields})
        created = str(data["ticker"])
        self.markets.append(created)
        return created

    def update_market(self, ticker: str, *, status: str | None = None,
                      hvm: bool | None = None, result: str | None = None) -> dict[str, Any]:
        """Change a market (closing it closes its open RFQs); return it."""
        market: dict[str, Any] = self._control.call(
            "PATCH", f"/markets/{ticker}", given(status=status, hvm=hvm, result=result))
        return market

    # State ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe every account, market, RFQ, quote, order, timer, counterparty and fault rule.

        The clock stays where it is. ``requester``, ``maker`` and ``markets`` still name what
        the last :meth:`setup` made, which no longer exists unless a :meth:`restore` or
        :meth:`replay` brings it back; :meth:`setup` makes new ones. A server started with
        default counterparties (``--makers N``) starts them again.
        """
        self._control.call("POST", "/reset", {})

    def snapshot(self, path: str | Path | None = None) -> dict[str, Any]:
        """Return the sandbox's whole state (or write it to ``path``, a name inside the
        server's data directory)."""
        body = {} if path is None else {"path": str(path)}
        data: dict[str, Any] = self._control.call("POST", "/snapshots", body)
        return data

    def restore(self, snapshot: Mapping[str, Any] | str | Path) -> dict[str, Any]:
        """Put the whole sandbox, clock included, back in a snapshot's state.

        ``snapshot`` is what :meth:`snapshot` returned, or the name of a snapshot file inside
        the server's data directory. Return the server's answer (``instant``: the
        snapshot's, ``now``).
        """
        body = ({"path": str(snapshot)} if isinstance(snapshot, str | Path)
                else dict(snapshot))
        answer: dict[str, Any] = self._control.call("POST", "/snapshots/restore", body)
        return answer

    def journal(self, after: int | None = None) -> list[dict[str, Any]]:
        """Return the journal: every API request, timer firing and event, in order.

        ``after`` leaves out the entries up to that ``seq``.
        """
        text = self._control.call("GET", "/journal",
                                  params=None if after is None else {"after": after})
        return [json.loads(line) for line in str(text or "").splitlines() if line.strip()]

    def replay(self, journal: Iterable[Mapping[str, Any]] | str) -> dict[str, Any]:
        """Rebuild a journal's state in this sandbox, which must be fresh (:meth:`reset`).

        Return the server's report: ``replayed`` entries, and any ``mismatches``.
        """
        text = journal if isinstance(journal, str) else "".join(
            json.dumps(entry) + "\n" for entry in journal)
        report: dict[str, Any] = self._control.call("POST", "/journal/replay", content=text,
                                                    content_type="application/x-ndjson")
        return report

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Send any request to the control plane (``path`` under ``/sandbox/v1``)."""
        return self._control.call(method, path, body)

    # Clients --------------------------------------------------------------------------------

    def client(self, account: SandboxAccount, **options: Any) -> KalshiClient:
        """Return our :class:`~kalshi_sandbox.client.KalshiClient` signed as ``account``.

        ``options`` go to the client (``headers``, ``timeout``); it is closed at teardown.
        """
        client = KalshiClient(base_url=self.base_url, ws_url=self.ws_url,
                              key_id=account.key_id, private_key=account.private_key_pem,
                              credentials_from_env=False, **options)
        self._closers.append(client.close)
        return client

    def async_client(self, account: SandboxAccount, **options: Any) -> AsyncKalshiClient:
        """Return an :class:`~kalshi_sandbox.client.AsyncKalshiClient` signed as ``account``.

        Use it in ``async with`` so it is closed on the event loop that used it.
        """
        return AsyncKalshiClient(base_url=self.base_url, ws_url=self.ws_url,
                                 key_id=account.key_id, private_key=account.private_key_pem,
                                 credentials_from_env=False, **options)

    def kalshi_python_config(self, account: SandboxAccount) -> Any:
        """Return a ``kalshi_python_sync.Configuration`` for Kalshi's official Python SDK.

        It is configured as the SDK's README says, with the sandbox as host.
        """
        try:
            import kalshi_python_sync
        except ImportError as exc:
            raise ImportError("kalshi_python_config needs Kalshi's SDK: "
                              "pip install kalshi-python-sync") from exc
        config = kalshi_python_sync.Configuration(host=self.rest_url)
        config.api_key_id = account.key_id
        config.private_key_pem = account.private_key_pem
        return config

    def kalshi_python_client(self, account: SandboxAccount) -> Any:
        """Return a ``kalshi_python_sync.KalshiClient`` signed as ``account``."""
        import kalshi_python_sync

        client = kalshi_python_sync.KalshiClient(self.kalshi_python_config(account))
        self._closers.append(client.rest_client.pool_manager.clear)
        return client

    def kalshi_typescript_config(self, account: SandboxAccount) -> dict[str, str]:
        """Return the ``Configuration`` parameters of Kalshi's TypeScript SDK, as JSON values.

        ``new Configuration({apiKey, privateKeyPem, basePath})`` (``privateKeyPath`` too).
        """
        return {"basePath": self.rest_url, "apiKey": account.key_id,
                "privateKeyPem": account.private_key_pem,
                "privateKeyPath": str(account.private_key_path)}

    # Lifetime -------------------------------------------------------------------------------

    def close_clients(self) -> None:
        """Close every client this handle gave out."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            close()

    def close(self) -> None:
        """Close the clients and the control-plane connection (the server keeps running)."""
        self.close_clients()
        self._control.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> KalshiSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "in-process" if self.server is not None else "external"
        return f"KalshiSandbox({self.base_url}, {where})"
