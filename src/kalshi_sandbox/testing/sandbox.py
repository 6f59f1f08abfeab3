"""A handle on one sandbox, in-process or external, driven through its control plane.

Everything here speaks HTTP to ``/sandbox/v1`` (and hands out clients for ``/trade-api/v2``),
so the same object, and the same tests, work against a sandbox started in-process by the
pytest fixture and against a ``kalshi-sandbox serve`` running elsewhere.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from kalshi_sandbox.client import AsyncKalshiClient, Environment, KalshiClient
from kalshi_sandbox.testing.keys import KeyPool

CONTROL_PREFIX = "/sandbox/v1"
DEFAULT_BALANCE = "10000"
"""Starting balance, in dollars, of the ready accounts and of ``account()`` by default."""

DEFAULT_MARKETS: tuple[tuple[str, bool, str], ...] = (
    ("KXSANDBOX-26DEC31-T50", False, "Will the sandbox index close above 50?"),
    ("KXSANDBOXHVM-26DEC31-B100", True, "Sandbox high-volatility market"),
)
"""(ticker, hvm, title) of the markets every fresh sandbox gets: a normal one, an HVM one."""

Dollars = str | Decimal | int
Seconds = float | int | Decimal | timedelta


class ControlPlaneError(Exception):
    """The sandbox's control plane refused a request (or the sandbox could not be reached)."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        detail = json.dumps(body) if not isinstance(body, str) else body
        super().__init__(f"{method} {CONTROL_PREFIX}{path} answered {status}: {detail}")

    @property
    def code(self) -> str | None:
        """Return the Kalshi error code of the answer, if it has one."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            return code if isinstance(code, str) else None
        return None


@dataclass(frozen=True, slots=True)
class SandboxAccount:
    """A sandbox account with an API key whose private key is known (PEM text and file)."""

    name: str
    user_id: str
    communications_id: str
    key_id: str
    private_key_pem: str = field(repr=False)
    private_key_path: Path
    balance_dollars: str

    def env(self) -> dict[str, str]:
        """Return the usual credential variables (for a bot started as a subprocess)."""
        return {"KALSHI_API_KEY_ID": self.key_id,
                "KALSHI_PRIVATE_KEY_PATH": str(self.private_key_path)}


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where the sandbox clock stands, as ``GET /sandbox/v1/clock`` reports it."""

    mode: str
    now: datetime
    pending_timers: int
    next_timer: datetime | None
    fired_timers: int | None = None
    speed: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClockState:
        """Read the control plane's clock answer."""
        next_timer = data.get("next_timer")
        return cls(mode=str(data["mode"]), now=parse_time(str(data["now"])),
                   pending_timers=int(data.get("pending_timers", 0)),
                   next_timer=None if next_timer is None else parse_time(str(next_timer)),
                   fired_timers=data.get("fired_timers"), speed=data.get("speed"),
                   raw=dict(data))


@dataclass(frozen=True, slots=True)
class Counterparty:
    """A built-in maker or requester, as the control plane describes it."""

    name: str
    kind: str
    user_id: str
    communications_id: str
    active: bool
    config: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counterparty:
        """Read one counterparty from the control plane's JSON."""
        return cls(name=str(data["name"]), kind=str(data["kind"]),
                   user_id=str(data.get("user_id", "")),
                   communications_id=str(data.get("communications_id", "")),
                   active=bool(data.get("active", True)), config=dict(data))


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A fault-injection rule and how often it has struck."""

    id: str
    match: Mapping[str, Any]
    action: Mapping[str, Any]
    probability: float
    count: int | None
    remaining: int | None
    hits: int
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Read one rule from the control plane's JSON."""
        return cls(id=str(data["id"]), match=dict(data.get("match") or {}),
                   action=dict(data.get("action") or {}),
                   probability=float(data.get("probability", 1.0)),
                   count=data.get("count"), remaining=data.get("remaining"),
                   hits=int(data.get("hits", 0)), raw=dict(data))


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 instant (``...Z``) into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(when: datetime | str) -> str:
    """Render an instant as RFC 3339 (a naive datetime is taken as UTC)."""
    if isinstance(when, str):
        return when
    if when.tzinfo is None:
        return when.isoformat() + "Z"
    return when.isoformat()


def seconds_text(seconds: Seconds) -> str:
    """Render a duration as the decimal seconds the control plane reads (0.0001 s steps)."""
    if isinstance(seconds, timedelta):
        value = Decimal(seconds.days * 86_400 + seconds.seconds) + (
            Decimal(seconds.microseconds) / 1_000_000)
    else:
        value = Decimal(str(seconds))
    return format(value.quantize(Decimal("0.0001")).normalize(), "f")


def _dollars(value: Dollars) -> str:
    if isinstance(value, float):
        raise TypeError("give dollar amounts as str, Decimal or int, never float")
    return str(value)


def _user(account: SandboxAccount | str) -> str:
    return account.user_id if isinstance(account, SandboxAccount) else account


def _given(**fields: Any) -> dict[str, Any]:
    """Keep the fields that were given, so the server's defaults apply to the rest."""
    return {k: v for k, v in fields.items() if v is not None}


def _number(value: Seconds | None) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    return value


class ControlPlane:
    """Signed-free JSON calls to ``/sandbox/v1`` (guarded by loopback or an admin token)."""

    def __init__(self, base_url: str, admin_token: str = "", timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.http = httpx.Client(base_url=base_url + CONTROL_PREFIX, headers=headers,
                                 timeout=timeout)

    def call(self, method: str, path: str, body: Any = None, *,
             content: str | bytes | None = None, content_type: str | None = None) -> Any:
        """Send one request; return the decoded JSON (text for other bodies, None if empty)."""
        headers = {"Content-Type": content_type} if content_type else None
        try:
            response = self.http.request(method, path, json=body, content=content,
                                         headers=headers)
        except httpx.TransportError as exc:
            raise ControlPlaneError(method, path, 0,
                                    f"cannot reach the sandbox: {type(exc).__name__}: {exc}"
                                    ) from exc
        if response.status_code >= 400:
            try:
                error: Any = response.json()
            except ValueError:
                error = response.text
            raise ControlPlaneError(method, path, response.status_code, error)
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


class SandboxClock:
    """The sandbox clock: advance a manual clock (firing due timers in order), read it."""

    def __init__(self, control: ControlPlane) -> None:
        self._control = control

    def state(self) -> ClockState:
        """Return the clock's mode, instant and pending timers."""
        return ClockState.from_json(self._control.call("GET", "/clock"))

    def now(self) -> datetime:
        """Return the sandbox's current instant (aware, UTC)."""
        return self.state().now

    def advance(self, seconds: Seconds = 0) -> ClockState:
        """Move a manual clock forward; every timer due in the span fires, each at its instant.

        ``advance(0)`` fires what is due now, such as a counterparty's zero delay.
        """
        return ClockState.from_json(self._control.call(
            "POST", "/clock/advance", {"seconds": seconds_text(seconds)}))

    def advance_to(self, when: datetime | str) -> ClockState:
        """Move a manual clock to ``when`` (a naive datetime is UTC), firing due timers."""
        return ClockState.from_json(self._control.call(
            "POST", "/clock/advance", {"to": format_time(when)}))

    def set_speed(self, speed: float) -> ClockState:
        """Run a system clock ``speed`` times faster than the wall clock."""
        return ClockState.from_json(self._control.call("POST", "/clock/speed",
                                                       {"speed": speed}))


class Counterparties:
    """Built-in makers and requesters that trade through the same rules as real users."""

    def __init__(self, control: ControlPlane) -> None:
        self._control = control

    def maker(self, name: str, *, markets: Sequence[str] | None = None,
              quote_delay: Seconds | None = None, fair_price: Dollars | None = None,
              spread: Dollars | None = None,
              confirm: str | Mapping[str, Any] = "always",
              confirm_delay: Seconds | None = None, probability: float | None = None,
              late_by: Seconds | None = None, balance: Dollars | None = None,
              seed: int | None = None, **extra: Any) -> Counterparty:
        """Start an auto-maker that quotes RFQs (on ``markets``, or all) after ``quote_delay``.

        ``confirm`` is the policy (``"always"``, ``"never"``, ``"probability"``, ``"late"``)
        or the whole ``confirm`` object; ``confirm_delay``, ``probability`` and ``late_by``
        refine the policy. Prices are the fair price ± half the spread, on the market's grid.
        """
        policy = dict(confirm) if isinstance(confirm, Mapping) else {"policy": confirm}
        policy.update(_given(delay=_number(confirm_delay), probability=probability,
                             late_by=_number(late_by)))
        body = _given(name=name, markets=list(markets) if markets is not None else None,
                      quote_delay=_number(quote_delay),
                      fair_price=None if fair_price is None else _dollars(fair_price),
                      spread=None if spread is None else _dollars(spread), confirm=policy,
                      balance_dollars=None if balance is None else _dollars(balance),
                      seed=seed)
        return Counterparty.from_json(self._control.call(
            "POST", "/counterparties/makers", {**body, **extra}))

    def requester(self, name: str, *, markets: Sequence[str] | None = None,
                  contracts: Dollars | None = None, interval: Seconds | None = None,
                  accept_delay: Seconds | None = None, accept_side: str | None = None,
                  delete_probability: float | None = None, balance: Dollars | None = None,
                  seed: int | None = None, **extra: Any) -> Counterparty:
        """Start an auto-requester on ``markets``: RFQs every ``interval`` s (None: on demand).

        It accepts the best quote (or ``accept_side``: ``"yes"``/``"no"``) ``accept_delay``
        seconds after it arrives, or deletes the RFQ with ``delete_probability``.
        """
        accept = _given(delay=_number(accept_delay), side=accept_side)
        body = _given(name=name, markets=list(markets) if markets is not None else None,
                      contracts=None if contracts is None else _dollars(contracts),
                      interval=_number(interval), accept=accept or None,
                      delete_probability=delete_probability,
                      balance_dollars=None if balance is None else _dollars(balance),
                      seed=seed)
        return Counterparty.from_json(self._control.call(
            "POST", "/counterparties/requesters", {**body, **extra}))

    def rfq(self, name: str, *, market: str | None = None,
            contracts: Dollars | None = None) -> str:
        """Have requester ``name`` create an RFQ now; return its id."""
        body = _given(market=market, contracts=None if contracts is None else _dollars(contracts))
        data = self._control.call("POST", f"/counterparties/requesters/{name}/rfqs", body)
        return str(data["rfq_id"])

    def list(self) -> list[Counterparty]:
        """Return every counterparty."""
        data = self._control.call("GET", "/counterparties")
        return [Counterparty.from_json(item) for item in data["counterparties"]]

    def get(self, name: str) -> Counterparty:
        """Return counterparty ``name``."""
        for party in self.list():
            if party.name == name:
                return party
        raise KeyError(name)

    def update(self, name: str, **fields: Any) -> Counterparty:
        """Change a counterparty's configuration (or ``active``)."""
        return Counterparty.from_json(self._control.call("PATCH", f"/counterparties/{name}",
                                                         fields))

    def pause(self, name: str) -> Counterparty:
        """Stop counterparty ``name`` from acting, keeping its account."""
        return self.update(name, active=False)

    def resume(self, name: str) -> Counterparty:
        """Let a paused counterparty act again."""
        return self.update(name, active=True)

    def remove(self, name: str) -> None:
        """Stop and forget counterparty ``name``."""
        self._control.call("DELETE", f"/counterparties/{name}")

    def clear(self) -> None:
        """Remove every counterparty."""
        for party in self.list():
            self.remove(party.name)


class Faults:
    """Fault-injection rules: errors, latency, 429s, and WebSocket drops, delays and closes."""

    def __init__(self, control: ControlPlane) -> None:
        self._control = control

    def add(self, action: Mapping[str, Any], *, path: str | None = None,
            method: str | None = None, account: SandboxAccount | str | None = None,
            market: str | None = None, probability: float | None = None,
            count: int | None = None) -> FaultRule:
        """Add a rule: ``action`` strikes requests matching every given field.

        ``path`` is a glob on the request path (``/trade-api/v2/communications/*/confirm``);
        ``account`` an account, user id, key id or account name; ``count`` how many times
        the rule strikes before it retires (None: until removed).
        """
        match = _given(path=path, method=method,
                       account=None if account is None else _user(account), market=market)
        body = _given(match=match, action=dict(action), probability=probability, count=count)
        return FaultRule.from_json(self._control.call("POST", "/faults", body))

    def error(self, status: int, code: str | None = None, message: str | None = None,
              details: str | None = None, **match: Any) -> FaultRule:
        """Answer matching requests with Kalshi's error body at ``status``."""
        action = _given(type="error", status=status, code=code, message=message,
                        details=details)
        return self.add(action, **match)

    def latency(self, ms: int, **match: Any) -> FaultRule:
        """Delay matching requests by ``ms`` milliseconds, then serve them."""
        return self.add({"type": "latency", "ms": ms}, **match)

    def rate_limit(self, **match: Any) -> FaultRule:
        """Answer matching requests with Kalshi's 429 ``too many requests``."""
        return self.add({"type": "rate_limit"}, **match)

    def ws_drop(self, message_types: Sequence[str] | None = None, **match: Any) -> FaultRule:
        """Drop WebSocket messages (of ``message_types``, or all) to matching connections."""
        return self.add({"type": "ws_drop", "message_types": _types(message_types)}, **match)

    def ws_delay(self, ms: int, message_types: Sequence[str] | None = None,
                 **match: Any) -> FaultRule:
        """Hold WebSocket messages (of ``message_types``, or all) back by ``ms`` ms."""
        return self.add({"type": "ws_delay", "ms": ms,
                         "message_types": _types(message_types)}, **match)

    def ws_close(self, **match: Any) -> FaultRule:
        """Close matching WebSocket connections."""
        return self.add({"type": "ws_close"}, **match)

    def list(self) -> list[FaultRule]:
        """Return every rule with its hit count."""
        data = self._control.call("GET", "/faults")
        items = data["faults"] if isinstance(data, dict) else data
        return [FaultRule.from_json(item) for item in items]

    def get(self, rule: FaultRule | str) -> FaultRule:
        """Return the current state of ``rule`` (hits, remaining)."""
        rule_id = rule.id if isinstance(rule, FaultRule) else rule
        for found in self.list():
            if found.id == rule_id:
                return found
        raise KeyError(rule_id)

    def remove(self, rule: FaultRule | str) -> None:
        """Delete one rule."""
        rule_id = rule.id if isinstance(rule, FaultRule) else rule
        self._control.call("DELETE", f"/faults/{rule_id}")

    def clear(self) -> None:
        """Delete every rule."""
        self._control.call("DELETE", "/faults")

    @staticmethod
    def header(*, error: int | str | None = None, rate_limit: bool = False,
               latency: int | None = None) -> dict[str, str]:
        """Return the ``X-Sandbox-Fault`` header forcing a fault on one request.

        ``error`` is a status (``503``) or ``"status:code"`` (``"400:insufficient_balance"``);
        ``latency`` milliseconds apply before any error.
        """
        parts = []
        if latency is not None:
            parts.append(f"latency={latency}")
        if rate_limit:
            parts.append("rate_limit")
        if error is not None:
            parts.append(f"error={error}")
        if not parts:
            raise ValueError("give at least one of error, rate_limit or latency")
        return {"X-Sandbox-Fault": ", ".join(parts)}


def _types(message_types: Sequence[str] | None) -> list[str] | None:
    return None if message_types is None else list(message_types)


class KalshiSandbox:
    """One sandbox: its URLs, ready accounts and markets, clock, counterparties and faults.

    ``base_url`` is the server root (``http://127.0.0.1:<port>``). The pytest fixture
    ``kalshi_sandbox`` builds one per test; :meth:`connect` builds one for any running
    sandbox. :meth:`setup` (which the fixture calls) wipes the sandbox and creates
    ``requester`` and ``maker`` and the two :data:`DEFAULT_MARKETS`.
    """

    def __init__(self, base_url: str, *, admin_token: str = "",
                 key_dir: Path | None = None, keys: KeyPool | None = None,
                 server: Any = None) -> None:
        self.environment = Environment.from_base_url(base_url)
        self.base_url = self.environment.rest_url.removesuffix("/trade-api/v2")
        self.server = server
        """The :class:`~kalshi_sandbox.testing.SandboxServer` when in-process, else None."""
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
        self._requester = self.account("requester", balance)
        self._maker = self.account("maker", balance)
        for ticker, hvm, title in DEFAULT_MARKETS:
            self.market(ticker, hvm=hvm, title=title)
        return self

    def account(self, name: str, balance: Dollars = DEFAULT_BALANCE) -> SandboxAccount:
        """Create an account with an API key and ``balance`` dollars; return it."""
        key = self._keys[self._used_keys]
        self._used_keys += 1
        data = self._control.call("POST", "/accounts", {
            "name": name, "balance_dollars": _dollars(balance),
            "public_key_pem": key.public_key_pem})
        return SandboxAccount(name=data["name"], user_id=data["user_id"],
                              communications_id=data["communications_id"],
                              key_id=data["key_id"], private_key_pem=key.private_key_pem,
                              private_key_path=key.path,
                              balance_dollars=data["balance_dollars"])

    def set_balance(self, account: SandboxAccount | str, balance: Dollars) -> None:
        """Set an account's cash balance, in dollars."""
        self._control.call("PUT", f"/accounts/{_user(account)}/balance",
                           {"balance_dollars": _dollars(balance)})

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
            "PATCH", f"/markets/{ticker}", _given(status=status, hvm=hvm, result=result))
        return market

    # State ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe every account, market, RFQ, quote, order, timer, counterparty and fault.

        The ready accounts and markets are gone too; :meth:`setup` makes them again (with
        new ids). The clock stays where it is: a clock never moves backwards.
        """
        self._forget_counterparties_and_faults()
        self._control.call("POST", "/reset", {})
        self._requester = self._maker = None
        self.markets = []
        self._used_keys = 0

    def _forget_counterparties_and_faults(self) -> None:
        try:
            self.counterparties.clear()
        except ControlPlaneError as exc:
            if exc.status != 404:  # a sandbox without counterparties has none to clear
                raise
        try:
            self.faults.clear()
        except ControlPlaneError as exc:
            if exc.status != 404:
                raise

    def snapshot(self, path: str | Path | None = None) -> dict[str, Any]:
        """Return the sandbox's whole state (or write it to ``path`` on the server's disk)."""
        body = {} if path is None else {"path": str(path)}
        data: dict[str, Any] = self._control.call("POST", "/snapshots", body)
        return data

    def restore(self, snapshot: Mapping[str, Any] | str | Path) -> None:
        """Put the sandbox back in a snapshot's state (a snapshot, or a server-side path)."""
        body = ({"path": str(snapshot)} if isinstance(snapshot, str | Path)
                else dict(snapshot))
        self._control.call("POST", "/snapshots/restore", body)

    def journal(self) -> list[dict[str, Any]]:
        """Return the journal: every API request and every event, in order."""
        text = self._control.call("GET", "/journal")
        if isinstance(text, list):
            return text
        return [json.loads(line) for line in str(text or "").splitlines() if line.strip()]

    def replay(self, journal: Iterable[Mapping[str, Any]] | str) -> int:
        """Rebuild a journal's state in this (freshly reset) sandbox; return entries replayed."""
        text = journal if isinstance(journal, str) else "".join(
            json.dumps(entry) + "\n" for entry in journal)
        data = self._control.call("POST", "/journal/replay", content=text,
                                  content_type="application/x-ndjson")
        return int(data["replayed"])

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
