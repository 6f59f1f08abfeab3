"""Fault injection: rules that make Kalshi's API fail, slow down or lose messages on demand.

A rule matches requests (or WebSocket data messages) and acts on them:

* on Kalshi API requests (REST, and the WebSocket handshake): ``error`` answers with a Kalshi
  error body (nested shape, reference §8.2) and any status; ``rate_limit`` answers 429 with
  ``{"error": "too many requests"}`` (§10.1); ``latency`` waits before handling. An error or
  429 answers before the request reaches its handler, so no transaction runs and no state
  changes.
* on WebSocket data messages: ``ws_drop`` loses the message, whose ``seq`` is still spent, so
  the client sees a gap as it would on Kalshi; ``ws_delay`` holds it back, together with every
  frame queued behind it on the connection, so no ``sid`` sees its order change; ``ws_close``
  closes the connection instead of sending it.

A rule matches on the request path (a glob), the method, the account (user id, key id or
account name; for messages, the recipient's) and the market (from the path, the query, the
JSON body, or the RFQ or quote the path names). It fires with a probability drawn from its own
seeded random generator, at most ``count`` times. Latency rules all apply; of the rules that
answer (error, 429) or lose a message (drop, close), the first that fires, in creation order,
wins.

A single request can also force a fault with the ``X-Sandbox-Fault`` header, e.g.
``error=503``, ``error=400:insufficient_balance``, ``rate_limit``, ``latency=250`` or several
separated by commas. The control plane (``/sandbox/v1``) is never faulted.

Latency and WebSocket delays are real time (transport latency), not sandbox time: they do not
depend on the sandbox clock, manual or not.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from kalshi_sandbox.api.auth import Authenticator, key_id_of, scope_header
from kalshi_sandbox.api.http import error_body, json_response
from kalshi_sandbox.api.ws.fanout import Mishap
from kalshi_sandbox.domain.errors import (
    InvalidParameters,
    RateLimited,
    SandboxError,
)
from kalshi_sandbox.service.admin import Admin
from kalshi_sandbox.service.exchange import Actor, Exchange

KALSHI_PREFIX = "/trade-api/"
REST_PREFIX = "/trade-api/v2"
FAULT_HEADER = "x-sandbox-fault"
_FAULT_HEADER_BYTES = FAULT_HEADER.encode()

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

_RFQ_PATH = re.compile(r"^/trade-api/v2/communications/rfqs/([^/]+)")
_QUOTE_PATH = re.compile(r"^/trade-api/v2/communications/quotes/([^/]+)")
_MARKET_PATH = re.compile(r"^/trade-api/v2/markets/([^/]+)$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_decode = msgspec.json.Decoder().decode


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


# The registry ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """What faults do to one request: wait ``delay`` seconds, then answer ``answer`` (if any)."""

    delay: float = 0.0
    answer: SandboxError | None = None


class Caller:
    """What fault rules may ask of one request, each looked up at most once."""

    def __init__(self, registry: FaultRegistry, scope: Scope, receive: Receive) -> None:
        self.registry = registry
        self.scope = scope
        self._receive = receive
        self.body: bytes | None = None
        self._actor: Actor | None = None
        self._actor_known = False
        self._market: str | None = None
        self._market_known = False

    @property
    def path(self) -> str:
        """Return the request path, without the query string."""
        path: str = self.scope["path"]
        return path

    @property
    def method(self) -> str:
        """Return the HTTP method (``GET`` for a WebSocket handshake)."""
        if self.scope["type"] == "websocket":
            return "GET"
        method: str = self.scope["method"]
        return method

    async def actor(self) -> Actor | None:
        """Return the account the request's ``KALSHI-ACCESS-KEY`` names (unverified)."""
        if not self._actor_known:
            self._actor_known = True
            key_id = key_id_of(self.scope)
            if key_id:
                credential = await self.registry.authenticator.credential(key_id)
                self._actor = None if credential is None else credential.actor
        return self._actor

    async def market(self) -> str | None:
        """Return the market the request is about, if it names one."""
        if not self._market_known:
            self._market_known = True
            self._market = await self._find_market()
        return self._market

    async def _find_market(self) -> str | None:
        found = _MARKET_PATH.match(self.path)
        if found:
            return found.group(1)
        raw_query: bytes = self.scope.get("query_string", b"")
        query = parse_qs(raw_query.decode("latin-1"))
        for name in ("market_ticker", "ticker"):
            if query.get(name):
                return query[name][0]
        exchange = self.registry.exchange
        actor = await self.actor() or Actor("", "")
        rfq_id: str | None = None
        found = _RFQ_PATH.match(self.path)
        if found:
            rfq_id = found.group(1)
        elif self.scope["type"] == "http" and self.method in _BODY_METHODS:
            body = await self.read_body()
            try:
                data = _decode(body) if body.strip() else None
            except msgspec.DecodeError:
                data = None
            if isinstance(data, dict):
                if isinstance(data.get("market_ticker"), str):
                    return str(data["market_ticker"])
                if isinstance(data.get("rfq_id"), str):
                    rfq_id = data["rfq_id"]
        try:
            if rfq_id is not None:
                return (await exchange.get_rfq(actor, rfq_id)).market_ticker
            found = _QUOTE_PATH.match(self.path)
            if found:
                return (await exchange.get_quote(actor, found.group(1))).market_ticker
        except SandboxError:
            return None
        return None

    async def read_body(self) -> bytes:
        """Read the whole request body (it is handed on to the handler unchanged)."""
        if self.body is None:
            chunks = []
            while True:
                message = await self._receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            self.body = b"".join(chunks)
        return self.body

    def receive(self) -> Receive:
        """Return the ``receive`` the handler should use: the read body first, if any."""
        if self.body is None:
            return self._receive
        pending = [{"type": "http.request", "body": self.body, "more_body": False}]
        downstream = self._receive

        async def replay() -> Message:
            if pending:
                return pending.pop()
            return await downstream()

        return replay


class FaultRegistry:
    """The fault rules of one sandbox; the REST middleware and the WebSocket fanout ask it."""

    def __init__(self, authenticator: Authenticator, exchange: Exchange, admin: Admin) -> None:
        self.authenticator = authenticator
        self.exchange = exchange
        self.admin = admin
        self._rules: list[Rule] = []
        self._next_id = 1
        self._seeds = random.SystemRandom()
        self.requests_live = False
        """True while some live rule acts on requests (read on every request)."""
        self.watching = False
        """True while some live rule acts on WebSocket messages (read on every message)."""

    # Rules --------------------------------------------------------------------------------

    async def add(self, spec: RuleSpec) -> Rule:
        """Add a rule, resolving its account; raise ``InvalidParameters`` if unknown."""
        match = spec.match
        if match.account is not None:
            match = Match(match.path, match.method, match.account,
                          await self._resolve(match.account), match.market)
        seed = spec.seed if spec.seed is not None else self._seeds.randrange(2**32)
        rule = Rule(f"f{self._next_id}", match, spec.action, spec.probability, spec.count,
                    seed)
        self._next_id += 1
        self._rules.append(rule)
        self._refresh()
        return rule

    async def _resolve(self, account: str) -> frozenset[str]:
        found = await self.admin.identify(account)
        if found is not None:
            return frozenset({found[1].user_id})
        ids = frozenset(view.account.user_id for view in await self.admin.list_accounts()
                        if account in (view.account.user_id, view.account.name))
        if not ids:
            raise InvalidParameters(f"no account has the user id, key id or name {account!r}")
        return ids

    @property
    def rules(self) -> list[Rule]:
        """Return every rule, exhausted ones included, in creation order."""
        return list(self._rules)

    def get(self, rule_id: str) -> Rule | None:
        """Return the rule with ``rule_id``, if any."""
        return next((r for r in self._rules if r.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        """Remove a rule; return False if there was none with that id."""
        rule = self.get(rule_id)
        if rule is None:
            return False
        self._rules.remove(rule)
        self._refresh()
        return True

    def clear(self) -> None:
        """Remove every rule (a reset does too)."""
        self._rules.clear()
        self._refresh()

    def _refresh(self) -> None:
        live = [r for r in self._rules if r.live]
        self.requests_live = any(not r.action.on_messages for r in live)
        self.watching = any(r.action.on_messages for r in live)

    # Requests -----------------------------------------------------------------------------

    async def plan(self, caller: Caller, forced: list[Action]) -> Plan:
        """Decide what faults do to a request: the header's ``forced`` actions, then rules."""
        plan = Plan()
        for action in forced:
            if action.delays:
                plan.delay += action.ms / 1000
            elif plan.answer is None:
                plan.answer = action.error()
        if not self.requests_live:
            return plan
        candidates = [r for r in self._rules
                      if r.live and not r.action.on_messages
                      and (plan.answer is None or r.action.delays)]
        matching = [r for r in candidates if await self._matches(r.match, caller)]
        # No awaits from here: counts and draws are taken atomically on the event loop.
        for rule in matching:
            if rule.action.delays:
                if rule.fire():
                    plan.delay += rule.action.ms / 1000
            elif plan.answer is None and rule.fire():
                plan.answer = rule.action.error()
        if any(not r.live for r in matching):
            self._refresh()
        return plan

    async def _matches(self, match: Match, caller: Caller) -> bool:
        if match.method is not None and match.method != caller.method:
            return False
        if match.path is not None and not fnmatch.fnmatchcase(caller.path, match.path):
            return False
        if match.user_ids is not None:
            actor = await caller.actor()
            if actor is None or actor.user_id not in match.user_ids:
                return False
        return match.market is None or await caller.market() == match.market

    # WebSocket messages -------------------------------------------------------------------

    def mishap(self, user_id: str, kind: str, ticker: str) -> Mishap | None:
        """Decide what faults do to one data message for ``user_id`` about ``ticker``."""
        delay = 0.0
        exhausted = False
        for rule in self._rules:
            action = rule.action
            if not (action.on_messages and rule.live):
                continue
            m = rule.match
            if ((m.user_ids is not None and user_id not in m.user_ids)
                    or (m.market is not None and m.market != ticker)
                    or (action.message_types is not None and kind not in action.message_types)):
                continue
            if action.type == WS_DELAY:
                if rule.fire():
                    delay += action.ms / 1000
                    exhausted = exhausted or not rule.live
            elif rule.fire():
                self._refresh()
                if action.type == WS_CLOSE:
                    return Mishap(close_code=action.close_code)
                return Mishap(drop=True)
        if exhausted:
            self._refresh()
        return Mishap(delay=delay) if delay else None


# The middleware -------------------------------------------------------------------------------


class FaultMiddleware:
    """ASGI middleware that applies fault rules and ``X-Sandbox-Fault`` to Kalshi's API.

    Only paths under ``/trade-api/`` are considered; everything else, the control plane
    included, passes straight through.
    """

    def __init__(self, app: ASGIApp, registry: FaultRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or not scope["path"].startswith(KALSHI_PREFIX):
            await self.app(scope, receive, send)
            return
        header = scope_header(scope, _FAULT_HEADER_BYTES)
        if header is None and not self.registry.requests_live:
            await self.app(scope, receive, send)
            return
        caller = Caller(self.registry, scope, receive)
        try:
            forced = parse_header(header) if header is not None else []
        except SandboxError as error:
            await self._answer(scope, receive, send, error)
            return
        plan = await self.registry.plan(caller, forced)
        if plan.delay > 0:
            await asyncio.sleep(plan.delay)
        if plan.answer is not None:
            await self._answer(scope, caller.receive(), send, plan.answer)
            return
        await self.app(scope, caller.receive(), send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send,
                      error: SandboxError) -> None:
        response = json_response(error_body(error), error.status)
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        # A refused WebSocket handshake is answered like a refused signature: an HTTP
        # response instead of the upgrade.
        websocket = WebSocket(scope, receive, send)
        try:
            await websocket.send_denial_response(response)
        except RuntimeError:
            await websocket.close(1008)


__all__ = [
    "ACTIONS",
    "MESSAGE_TYPES",
    "Action",
    "FaultMiddleware",
    "FaultRegistry",
    "Match",
    "Rule",
    "RuleSpec",
    "parse_header",
    "parse_rule",
]
