"""Every setting of the sandbox server, its default and its environment variable.

Each field reads ``KALSHI_SANDBOX_<FIELD NAME IN UPPER CASE>`` from the environment; the
``serve`` command's flags override the environment. Durations are in seconds.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENV_PREFIX = "KALSHI_SANDBOX_"
RATE_LIMIT_OFF = "off"
"""The ``rate_limit`` value that turns rate limiting off."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
"""The names of this machine the control plane always answers to (docs/security.md)."""
MIN_CLOCK_SPEED = 0.001
MAX_CLOCK_SPEED = 1000.0
"""The range of the system clock's speed factor: at 1000 the clock still needs eight years
of real time to run past year 9999, and a slower one than 0.001 would schedule timers in
real seconds no event loop can wait for."""
USAGE_TIERS = ("basic", "advanced", "expert", "premier", "paragon", "prime", "prestige")
"""Kalshi's usage tiers, lowest first (their budgets live in ``domain.limits``)."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """The server's configuration; see each field's ``help`` metadata."""

    host: str = _setting("127.0.0.1", "Interface to listen on.")
    port: int = _setting(8000, "TCP port to listen on.")
    data_dir: str = _setting(".kalshi-sandbox", "Directory for the database and demo keys.")
    db: str = _setting(
        "", "SQLite file path (default: <data_dir>/sandbox.db), or a PostgreSQL URL "
        "(postgresql://user@host:port/database) that several instances may share.")
    workers: int = _setting(
        1, "Server processes sharing the port, each an instance of one exchange; more than "
        "1 needs a PostgreSQL --db (docs/deploy.md).")
    shared: bool = _setting(
        False, "Other instances serve the same PostgreSQL database (implied by --workers "
        "above 1): powers that need the only instance are refused (docs/deploy.md).")
    confirm_window: float = _setting(30.0, "Seconds a maker has to confirm an accepted quote.")
    execution_delay: float = _setting(15.0, "Seconds from confirmation to execution.")
    hvm_confirm_window: float = _setting(3.0, "Confirmation window on high-volatility markets.")
    hvm_execution_delay: float = _setting(1.0, "Execution delay on high-volatility markets.")
    clock: str = _setting("system", "Clock mode: 'system' (wall clock) or 'manual'.")
    clock_speed: float = _setting(1.0, "Speed factor of the system clock (10 = ten times faster).")
    clock_start: str = _setting(
        "", "RFC 3339 instant a manual clock starts at (default: where it stopped, or now)."
    )
    seed: bool = _setting(True, "Seed demo markets and accounts into an empty database.")
    seed_balance_dollars: str = _setting("10000", "Starting balance of each demo account.")
    admin_token: str = _setting(
        "", "If set, the control plane requires 'Authorization: Bearer <token>' from every "
        "caller, and may be reached from other machines; required to listen on an address "
        "other than the loopback."
    )
    allowed_hosts: str = _setting(
        "", "Host names, besides localhost, 127.0.0.1, [::1] and --host, that the control "
        "plane answers to (comma-separated; '*' for any): the names a team reaches it by."
    )
    forwarded_allow_ips: str = _setting(
        "", "Addresses of trusted proxies (comma-separated, or '*') whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; by default forwarding headers are ignored and the "
        "caller is the socket's peer."
    )
    verbose_auth: bool = _setting(
        False, "Say in a 401 which signing mistake was made, or that the key id is unknown "
        "(for local debugging: it tells any caller which key ids exist)."
    )
    max_body_bytes: int = _setting(
        1_048_576, "Largest request body accepted, in bytes; a larger one is answered 413 "
        "before it is read."
    )
    max_upload_bytes: int = _setting(
        67_108_864, "Largest body accepted by the endpoints that take a whole journal or "
        "snapshot (POST /sandbox/v1/journal/replay, /sandbox/v1/snapshots/restore), in bytes."
    )
    timestamp_past_tolerance: float = _setting(
        10.0, "How old a signed request's timestamp may be, in seconds."
    )
    timestamp_future_tolerance: float = _setting(
        60.0, "How far in the future a signed request's timestamp may be, in seconds."
    )
    taker_fee_multiplier: str = _setting("0.07", "Taker fee multiplier (the requester pays).")
    maker_fee_multiplier: str = _setting("0.0175", "Maker fee multiplier (the quoter pays).")
    max_open_rfqs: int = _setting(100, "Open RFQs allowed per user at a time.")
    retention_days: float = _setting(
        7.0, "Days closed RFQs and cancelled quotes stay readable after their last update."
    )
    flush_open_quotes_on_restart: bool = _setting(
        True, "Forget open (never accepted) quotes at start-up, as a Kalshi server roll does."
    )
    accepted_side_flip: bool = _setting(
        False, "Read accepted_side as the maker's side instead of the requester's."
    )
    legacy_accepted_side: str = _setting(
        "auto",
        "Emit accepted_side as 'true'/'false' for kalshi-python 3.2.0: 'auto' (by User-Agent), "
        "'always' or 'never'.",
    )
    idempotent_confirm: bool = _setting(
        False, "Answer 204 to a repeated confirm by the quote's maker instead of 400."
    )
    whole_contracts: bool = _setting(
        False, "Allow whole contracts only (Kalshi before 2026-06-11)."
    )
    replace_existing_scope: str = _setting(
        "all", "Which RFQs replace_existing closes: 'all', 'market' or 'keep_newest'."
    )
    rfq_ttl: float = _setting(0.0, "Close RFQs this many seconds after creation (0 = never).")
    block_trade_fills: bool = _setting(True, "Flag RFQ executions as block trades.")
    ws_ping_interval: float = _setting(
        10.0, "Seconds between the WebSocket server's Ping frames (0 = no pings)."
    )
    ws_ping_timeout: float = _setting(
        10.0, "Seconds a WebSocket client has to answer a Ping before it is dropped."
    )
    ws_queue_limit: int = _setting(
        1024, "Messages a WebSocket connection may have waiting to be sent; beyond it the "
        "subscription that overflows is dropped with error 25."
    )
    ws_compression: bool = _setting(
        False, "Offer permessage-deflate on WebSocket connections."
    )
    makers: int = _setting(
        0, "Default auto-makers to run (auto-maker-1..N): they quote every RFQ after 1 s at "
        "the market's last price (else 0.50) less a 0.04 spread, and confirm after 1 s."
    )
    requesters: int = _setting(
        0, "Default auto-requesters to run (auto-requester-1..N): each creates an RFQ for 10 "
        "contracts every requester_interval seconds and accepts the best quote after 1 s."
    )
    requester_interval: float = _setting(
        30.0, "Seconds between the RFQs of each default auto-requester."
    )
    liquidity: bool = _setting(
        False, "Run a built-in market maker, auto-liquidity, on every open market: 3 orders "
        "of 10 contracts each side, 0.04 apart at the top and 0.01 deeper, around a fair value "
        "starting at the last price (else 0.50) on a random walk, requoted every second of "
        "sandbox time."
    )
    journal: bool = _setting(
        True, "Journal every request, timer firing and event (<db stem>.journal.NNNNNN.jsonl "
        "segments beside the database) for export and replay."
    )
    journal_events: str = _setting(
        "ids", "How the journal keeps events: 'ids' (the event and the ids of what it is "
        "about), 'full' (the whole objects) or 'off' (no event lines; a replay needs none)."
    )
    journal_segment_mb: float = _setting(
        4.0, "Size in MB at which the journal's active segment is closed and compressed."
    )
    journal_retention_mb: float = _setting(
        0.0, "Compressed journal segments kept, in MB; the oldest are deleted past it "
        "(0 = keep all). A journal missing its oldest segments cannot be replayed from "
        "the start."
    )
    file_limit_mb: float = _setting(
        512.0, "Largest snapshot or journal, in MB, the control plane reads from a file in "
        "the data directory or from a request body."
    )
    rate_limit: str = _setting(
        "basic", "Usage tier of accounts not given one (basic, advanced, expert, premier, "
        "paragon, prime or prestige), whose token buckets limit their requests; 'off' "
        "limits nothing."
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")
    log_format: str = _setting(
        "text", "Log lines as readable text ('text') or one JSON object each ('json'); at "
        "info, one line per request and per exchange event."
    )
    legacy_orders: str = _setting(
        "gone", "Legacy /portfolio/orders writes: 'gone' answers Kalshi's 410 "
        "deprecated_v1_order_endpoint (as production since June 2026), 'serve' serves them "
        "for older clients (kalshi-python 3.2.0)."
    )

    @property
    def postgres(self) -> bool:
        """Whether ``db`` names a PostgreSQL database."""
        return self.db.startswith(("postgresql://", "postgres://"))

    @property
    def multi_instance(self) -> bool:
        """Whether several instances may serve this database (``shared`` or ``workers``)."""
        return self.shared or self.workers > 1

    @property
    def database_path(self) -> Path:
        """Return where the SQLite database lives (with PostgreSQL: the base name of the
        files kept beside it in the data directory, such as the journal)."""
        if self.postgres:
            return Path(self.data_dir) / "postgres"
        return Path(self.db) if self.db else Path(self.data_dir) / "sandbox.db"

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``KALSHI_SANDBOX_*`` variables over the defaults."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(ENV_PREFIX + spec.name.upper())
            if raw is not None:
                values[spec.name] = _convert(raw, type(spec.default), spec.name)
        return cls(**values)

    def validate(self) -> None:
        """Raise ``ValueError`` if any setting is out of range."""
        if self.log_format not in ("text", "json"):
            raise ValueError("log_format must be text or json")
        if self.clock not in ("system", "manual"):
            raise ValueError("clock must be 'system' or 'manual'")
        if not MIN_CLOCK_SPEED <= self.clock_speed <= MAX_CLOCK_SPEED:
            raise ValueError(f"clock_speed must be between {MIN_CLOCK_SPEED:g} and "
                             f"{MAX_CLOCK_SPEED:g}")
        if self.clock_start:
            if self.clock != "manual":
                raise ValueError("clock_start needs the manual clock")
            try:
                start = datetime.fromisoformat(self.clock_start.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("clock_start must be an RFC 3339 timestamp") from None
            try:
                year = (start if start.tzinfo is None else start.astimezone(UTC)).year
            except OverflowError:
                year = 10_000
            if not 1970 <= year <= 9999:
                raise ValueError("clock_start must fall in the years 1970 to 9999 (UTC)")
        if not self.admin_token and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is not a loopback address: the control plane would be "
                "open to the network. Set an admin token (--admin-token or "
                "KALSHI_SANDBOX_ADMIN_TOKEN) to listen there; see docs/security.md")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        if self.max_upload_bytes < self.max_body_bytes:
            raise ValueError("max_upload_bytes must be at least max_body_bytes")
        for name in ("confirm_window", "execution_delay", "hvm_confirm_window",
                     "hvm_execution_delay", "timestamp_past_tolerance",
                     "timestamp_future_tolerance", "retention_days", "rfq_ttl",
                     "ws_ping_interval", "ws_ping_timeout"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.legacy_accepted_side not in ("auto", "always", "never"):
            raise ValueError("legacy_accepted_side must be 'auto', 'always' or 'never'")
        if self.replace_existing_scope not in ("all", "market", "keep_newest"):
            raise ValueError("replace_existing_scope must be 'all', 'market' or 'keep_newest'")
        if self.makers < 0 or self.requesters < 0:
            raise ValueError("makers and requesters must not be negative")
        if self.requester_interval < 0.1:
            raise ValueError("requester_interval must be at least 0.1 seconds")
        if self.ws_queue_limit < 1:
            raise ValueError("ws_queue_limit must be at least 1")
        if self.rate_limit not in (*USAGE_TIERS, RATE_LIMIT_OFF):
            raise ValueError(f"rate_limit must be one of {', '.join(USAGE_TIERS)} or "
                             f"{RATE_LIMIT_OFF}")
        if self.journal_events not in ("ids", "full", "off"):
            raise ValueError("journal_events must be 'ids', 'full' or 'off'")
        if not 0.01 <= self.journal_segment_mb <= 4096:
            raise ValueError("journal_segment_mb must be between 0.01 and 4096")
        if not 0 <= self.journal_retention_mb <= 1 << 30:
            raise ValueError("journal_retention_mb must be between 0 (keep all) and 2^30")
        if not 0.001 <= self.file_limit_mb <= 1 << 20:
            raise ValueError("file_limit_mb must be between 0.001 and 2^20")
        if self.legacy_orders not in ("gone", "serve"):
            raise ValueError("legacy_orders must be 'gone' or 'serve'")
        if not 1 <= self.port <= 65535 and self.port != 0:
            raise ValueError("port must be between 0 and 65535")
        if not 1 <= self.workers <= 64:
            raise ValueError("workers must be between 1 and 64")
        if self.multi_instance:
            self._validate_multi_instance()

    def _validate_multi_instance(self) -> None:
        """Refuse what cannot work with several instances on one database (docs/deploy.md)."""
        if not self.postgres:
            raise ValueError("several instances (--workers above 1, --shared) need a "
                             "PostgreSQL --db: a SQLite file has one writer process")
        if self.clock != "system" or self.clock_speed != 1.0:
            raise ValueError("each instance reads its own clock: several instances need the "
                             "system clock at speed 1")
        if self.makers or self.requesters:
            raise ValueError("built-in counterparties run in one process: run them with one "
                             "instance (--workers 1, no --shared)")
        if self.liquidity:
            raise ValueError("built-in liquidity runs in one process: run it with one "
                             "instance (--workers 1, no --shared)")
        if self.port == 0 and self.workers > 1:
            raise ValueError("--workers above 1 needs a fixed --port")


def is_loopback(host: str) -> bool:
    """Return True if ``host`` (an address or ``localhost``) names this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def names(text: str) -> tuple[str, ...]:
    """Split a comma-separated setting into its lower-case, non-empty items."""
    return tuple(item.strip().lower() for item in text.split(",") if item.strip())


def _convert(raw: str, kind: type, name: str) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a boolean, got {raw!r}")
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: {exc}") from exc


def help_for(name: str) -> str:
    """Return the help text of setting ``name``."""
    for spec in fields(Settings):
        if spec.name == name:
            return str(spec.metadata["help"])
    raise KeyError(name)
