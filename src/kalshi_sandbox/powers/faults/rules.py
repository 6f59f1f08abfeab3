"""Fault rules: what they match, what they do, and how the control plane and the
``X-Sandbox-Fault`` header spell them (the power as a whole: powers/faults/__init__.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kalshi_sandbox.domain.errors import InvalidParameters, RateLimited, SandboxError

REST_PREFIX = "/trade-api/v2"

ERROR = "error"
LATENCY = "latency"
RATE_LIMIT = "rate_limit"
WS_DROP = "ws_drop"
WS_DELAY = "ws_delay"
WS_CLOSE = "ws_close"
HTTP_ACTIONS = (ERROR, LATENCY, RATE_LIMIT)
WS_ACTIONS = (WS_DROP, WS_DELAY, WS_CLOSE)
ACTIONS = HTTP_ACTIONS + WS_ACTIONS

MESSAGE_TYPES = ("rfq_created", "rfq_deleted", "quote_created", "quote_accepted",
                 "quote_executed", "fill", "user_order")
"""Data messages the sandbox's WebSocket sends, by ``type``."""

MAX_MS = 600_000
"""The longest latency or delay a rule may ask for (ten minutes)."""
GOING_AWAY = 1001
"""Close code a ``ws_close`` sends unless told otherwise: what a server going down sends."""

STATUS_CODES = {
    400: "bad_request", 401: "authentication_error", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 422: "unprocessable_entity",
    429: "too_many_requests", 500: "internal_server_error", 501: "not_implemented",
    502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout",
}
"""The ``code`` an injected error carries when the rule or header names only a status."""


# Rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """What a rule applies to; ``None`` matches anything."""

    path: str | None = None
    """A glob on the request path; ``*`` matches any run of characters, ``/`` included."""
    method: str | None = None
    account: str | None = None
    """The account as given: a user id, a key id or an account name."""
    user_ids: frozenset[str] | None = None
    """The user ids ``account`` resolved to when the rule was added."""
    market: str | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """What a rule does when it fires."""

    type: str
    status: int = 500
    code: str = ""
    message: str = ""
    details: str | None = None
    ms: float = 0.0
    message_types: frozenset[str] | None = None
    close_code: int = GOING_AWAY

    @property
    def on_messages(self) -> bool:
        """Return True if the action applies to WebSocket data messages."""
        return self.type in WS_ACTIONS

    @property
    def delays(self) -> bool:
        """Return True if the action only delays (and lets the request or message through)."""
        return self.type in (LATENCY, WS_DELAY)

    def error(self) -> SandboxError:
        """Return the error an ``error`` or ``rate_limit`` action answers with."""
        if self.type == RATE_LIMIT:
            return RateLimited()
        error = SandboxError(self.details, message=self.message, code=self.code)
        error.status = self.status
        return error

    def render(self) -> dict[str, Any]:
        """Return the action as the control plane shows it."""
        data: dict[str, Any] = {"type": self.type}
        if self.type == ERROR:
            data.update(status=self.status, code=self.code, message=self.message,
                        details=self.details)
        elif self.type in (LATENCY, WS_DELAY):
            data["ms"] = self.ms
        if self.on_messages:
            data["message_types"] = (None if self.message_types is None
                                     else sorted(self.message_types))
        if self.type == WS_CLOSE:
            data["code"] = self.close_code
        return data


@dataclass(eq=False)
class Rule:
    """One fault rule with its remaining count, hits and random generator."""

    id: str
    match: Match
    action: Action
    probability: float = 1.0
    count: int | None = None
    seed: int = 0
    remaining: int | None = None
    hits: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.remaining = self.count
        self.rng = random.Random(self.seed)

    @property
    def live(self) -> bool:
        """Return True while the rule may still fire."""
        return self.remaining is None or self.remaining > 0

    def fire(self) -> bool:
        """Draw whether the rule fires on a request or message it matches; count it if so.

        The generator is drawn once per matching request only when 0 < probability < 1, so
        with the same seed and the same traffic a rule fires on the same requests.
        """
        if not self.live:
            return False
        p = self.probability
        if p <= 0 or (p < 1 and self.rng.random() >= p):
            return False
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1
        return True

    def render(self) -> dict[str, Any]:
        """Return the rule as the control plane shows it."""
        m = self.match
        return {
            "id": self.id,
            "match": {"path": m.path, "method": m.method, "account": m.account,
                      "market": m.market},
            "action": self.action.render(),
            "probability": self.probability,
            "count": self.count,
            "remaining": self.remaining,
            "hits": self.hits,
            "seed": self.seed,
        }


# Parsing rules and headers --------------------------------------------------------------------


def _keys(data: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidParameters(f"{what} has unknown field(s) {', '.join(unknown)}; "
                                f"known: {', '.join(allowed)}")


def _optional_string(data: dict[str, Any], name: str, what: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidParameters(f"{what}.{name} must be a non-empty string")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameters(f"{name} must be a number")
    if not low <= value <= high:
        raise InvalidParameters(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameters(f"{name} must be an integer")
    if not low <= value <= high:
        raise InvalidParameters(f"{name} must be between {low} and {high}")
    return value


def normalize_path(pattern: str) -> str:
    """Anchor a path glob: one that starts with ``/`` but not ``/trade-api`` is under
    ``/trade-api/v2`` (``/communications/rfqs`` means ``/trade-api/v2/communications/rfqs``)."""
    if pattern.startswith("/") and not pattern.startswith("/trade-api"):
        return REST_PREFIX + pattern
    return pattern


def error_action(status: int, code: str | None = None, message: str | None = None,
                 details: str | None = None) -> Action:
    """Return an ``error`` action, filling in the code and message a status implies."""
    code = code or STATUS_CODES.get(status, "error")
    return Action(ERROR, status=status, code=code,
                  message=message or code.replace("_", " ").lower(), details=details)


def parse_action(data: Any) -> Action:
    """Parse a rule's ``action`` object; raise ``InvalidParameters`` when it is wrong."""
    if not isinstance(data, dict):
        raise InvalidParameters("action must be an object with a type")
    kind = data.get("type")
    if kind not in ACTIONS:
        raise InvalidParameters(f"action.type must be one of {', '.join(ACTIONS)}")
    if kind == ERROR:
        _keys(data, ("type", "status", "code", "message", "details"), "action")
        status = _integer(data.get("status", 500), "action.status", 400, 599)
        return error_action(status, _optional_string(data, "code", "action"),
                            _optional_string(data, "message", "action"),
                            _optional_string(data, "details", "action"))
    if kind == RATE_LIMIT:
        _keys(data, ("type",), "action")
        return Action(RATE_LIMIT, status=429)
    if kind == LATENCY:
        _keys(data, ("type", "ms"), "action")
        if "ms" not in data:
            raise InvalidParameters("a latency action needs ms")
        return Action(LATENCY, ms=_number(data["ms"], "action.ms", 0, MAX_MS))
    types = _message_types(data.get("message_types"))
    if kind == WS_DROP:
        _keys(data, ("type", "message_types"), "action")
        return Action(WS_DROP, message_types=types)
    if kind == WS_DELAY:
        _keys(data, ("type", "ms", "message_types"), "action")
        if "ms" not in data:
            raise InvalidParameters("a ws_delay action needs ms")
        return Action(WS_DELAY, ms=_number(data["ms"], "action.ms", 0, MAX_MS),
                      message_types=types)
    _keys(data, ("type", "message_types", "code"), "action")
    code = _integer(data.get("code", GOING_AWAY), "action.code", 1000, 4999)
    return Action(WS_CLOSE, message_types=types, close_code=code)


def _message_types(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise InvalidParameters("action.message_types must be a non-empty list of message "
                                "types, or null for every type")
    unknown = sorted(set(value) - set(MESSAGE_TYPES))
    if unknown:
        raise InvalidParameters(f"unknown message type(s) {', '.join(unknown)}; known: "
                                f"{', '.join(MESSAGE_TYPES)}")
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as asked for, before its account is resolved and an id assigned."""

    match: Match
    action: Action
    probability: float
    count: int | None
    seed: int | None


def parse_rule(data: dict[str, Any]) -> RuleSpec:
    """Parse the body of ``POST /sandbox/v1/faults``; raise ``InvalidParameters`` if wrong."""
    _keys(data, ("match", "action", "probability", "count", "seed"), "the rule")
    raw_match = data.get("match") or {}
    if not isinstance(raw_match, dict):
        raise InvalidParameters("match must be an object")
    _keys(raw_match, ("path", "method", "account", "market"), "match")
    path = _optional_string(raw_match, "path", "match")
    method = _optional_string(raw_match, "method", "match")
    action = parse_action(data.get("action"))
    if action.on_messages and (path is not None or method is not None):
        raise InvalidParameters(f"a {action.type} rule acts on WebSocket messages: match "
                                "them by account and market, and action.message_types")
    match = Match(
        path=None if path is None else normalize_path(path),
        method=None if method is None else method.upper(),
        account=_optional_string(raw_match, "account", "match"),
        market=_optional_string(raw_match, "market", "match"),
    )
    probability = _number(data.get("probability", 1.0), "probability", 0, 1)
    count = data.get("count")
    if count is not None:
        count = _integer(count, "count", 1, 2**31)
    seed = data.get("seed")
    if seed is not None:
        seed = _integer(seed, "seed", 0, 2**63 - 1)
    return RuleSpec(match, action, probability, count, seed)


def parse_header(value: str) -> list[Action]:
    """Parse an ``X-Sandbox-Fault`` header into its actions, in order.

    Accepts ``error=<status>``, ``error=<status>:<code>``, ``rate_limit`` and
    ``latency=<ms>``, separated by commas.
    """
    actions = []
    for part in value.split(","):
        item = part.strip()
        if not item:
            continue
        name, _, argument = item.partition("=")
        name, argument = name.strip().lower(), argument.strip()
        try:
            if name == ERROR and argument:
                status_text, _, code = argument.partition(":")
                status = int(status_text)
                if not 400 <= status <= 599:
                    raise ValueError
                actions.append(error_action(status, code.strip() or None))
            elif name == RATE_LIMIT and not argument:
                actions.append(Action(RATE_LIMIT, status=429))
            elif name == LATENCY and argument:
                ms = float(argument)
                if not 0 <= ms <= MAX_MS:
                    raise ValueError
                actions.append(Action(LATENCY, ms=ms))
            else:
                raise ValueError
        except ValueError:
            raise InvalidParameters(
                f"X-Sandbox-Fault: cannot read {item!r}; use error=<status 400-599>[:<code>], "
                f"rate_limit or latency=<ms 0-{MAX_MS}>, separated by commas",
                code="invalid_sandbox_fault", message="invalid X-Sandbox-Fault header",
            ) from None
    return actions


__all__ = [
    "ACTIONS",
    "ERROR",
    "HTTP_ACTIONS",
    "LATENCY",
    "MAX_MS",
    "MESSAGE_TYPES",
    "RATE_LIMIT",
    "REST_PREFIX",
    "WS_ACTIONS",
    "WS_CLOSE",
    "WS_DELAY",
    "WS_DROP",
    "Action",
    "Match",
    "Rule",
    "RuleSpec",
    "parse_header",
    "parse_rule",
]
