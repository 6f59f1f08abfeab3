"""The fault rules of one sandbox, asked by the REST middleware and the WebSocket fanout."""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

import msgspec
from starlette.types import Message, Receive, Scope

from kalshi_sandbox.api.auth import Authenticator, key_id_of
from kalshi_sandbox.api.ws.fanout import MessageFault
from kalshi_sandbox.domain.errors import InvalidParameters, SandboxError
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.powers import Cause
from kalshi_sandbox.powers.faults.rules import WS_CLOSE, WS_DELAY, Action, Match, Rule, RuleSpec

_RFQ_PATH = re.compile(r"^/trade-api/v2/communications/rfqs/([^/]+)")
_QUOTE_PATH = re.compile(r"^/trade-api/v2/communications/quotes/([^/]+)")
_MARKET_PATH = re.compile(r"^/trade-api/v2/markets/([^/]+)$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_decode = msgspec.json.Decoder().decode


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

    def __init__(self, authenticator: Authenticator, exchange: Exchange,
                 accounts: Accounts) -> None:
        self.authenticator = authenticator
        self.exchange = exchange
        self.accounts = accounts
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
        found = await self.accounts.identify(account)
        if found is not None:
            return frozenset({found[1].user_id})
        ids = frozenset(view.account.user_id for view in await self.accounts.list_accounts()
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

    async def reload(self, cause: Cause) -> None:
        """A reset removes every rule; a restored snapshot keeps them (they are not state)."""
        if cause is Cause.RESET:
            self.clear()

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

    def message_fault(self, user_id: str, kind: str, ticker: str) -> MessageFault | None:
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
                    return MessageFault(close_code=action.close_code)
                return MessageFault(drop=True)
        if exhausted:
            self._refresh()
        return MessageFault(delay=delay) if delay else None


__all__ = ["Caller", "FaultRegistry", "Plan"]
