"""The control plane's parts: the clock, counterparties, liquidity makers and fault rules, over
plain HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kalshi_sandbox.client.control import ControlPlane
from kalshi_sandbox.testing.models import (
    ClockState,
    Counterparty,
    Dollars,
    FaultRule,
    LiquidityMaker,
    SandboxAccount,
    Seconds,
    dollars_text,
    format_time,
    given,
    seconds_number,
    seconds_text,
    user_id_of,
)


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
        policy.update(given(delay=seconds_number(confirm_delay), probability=probability,
                             late_by=seconds_number(late_by)))
        body = given(name=name, markets=list(markets) if markets is not None else None,
                      quote_delay=seconds_number(quote_delay),
                      fair_price=None if fair_price is None else dollars_text(fair_price),
                      spread=None if spread is None else dollars_text(spread), confirm=policy,
                      balance_dollars=None if balance is None else dollars_text(balance),
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
        accept = given(delay=seconds_number(accept_delay), side=accept_side)
        body = given(name=name, markets=list(markets) if markets is not None else None,
                      contracts=None if contracts is None else dollars_text(contracts),
                      interval=seconds_number(interval), accept=accept or None,
                      delete_probability=delete_probability,
                      balance_dollars=None if balance is None else dollars_text(balance),
                      seed=seed)
        return Counterparty.from_json(self._control.call(
            "POST", "/counterparties/requesters", {**body, **extra}))

    def rfq(self, name: str, *, market: str | None = None,
            contracts: Dollars | None = None) -> str:
        """Have requester ``name`` create an RFQ now; return its id."""
        body = given(market=market,
                     contracts=None if contracts is None else dollars_text(contracts))
        data = self._control.call("POST", f"/counterparties/requesters/{name}/rfqs", body)
        return str(data["rfq_id"])

    def list(self) -> list[Counterparty]:
        """Return every counterparty."""
        data = self._control.call("GET", "/counterparties")
        return [Counterparty.from_json(item) for item in data["counterparties"]]

    def get(self, name: str) -> Counterparty:
        """Return counterparty ``name`` with its configuration, stats and recent activity."""
        return Counterparty.from_json(self._control.call("GET", f"/counterparties/{name}"))

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


class Liquidity:
    """Built-in market makers keeping a two-sided book around a fair value that moves."""

    def __init__(self, control: ControlPlane) -> None:
        self._control = control

    def add(self, name: str, *, markets: Sequence[str | Mapping[str, Any]] | None = None,
            fair_value: Dollars | None = None, spread: Dollars | None = None,
            depth: int | None = None, size: Dollars | None = None,
            step: Dollars | None = None, volatility: Dollars | None = None,
            interval: Seconds | None = None, post_only: bool | None = None,
            balance: Dollars | None = None, seed: int | None = None,
            **extra: Any) -> LiquidityMaker:
        """Start a maker on ``markets`` (tickers, or objects with a ``ticker`` and that
        market's own ``fair_value``, ``spread``, ``depth``, ``size``, ``step``,
        ``volatility`` or ``path``), or on every open market; it quotes at once.

        It keeps ``depth`` orders of ``size`` contracts each side, the best bid and ask
        ``spread`` apart around the fair value and the deeper ones ``step`` apart. Every
        ``interval`` seconds of sandbox time the fair value moves (a random walk of standard
        deviation ``volatility``; ``volatility=0`` keeps it still) and the maker requotes.
        """
        body = given(
            name=name,
            markets=None if markets is None else [m if isinstance(m, str) else dict(m)
                                                  for m in markets],
            fair_value=_text(fair_value), spread=_text(spread), depth=depth, size=_text(size),
            step=_text(step), volatility=_text(volatility),
            interval=seconds_number(interval), post_only=post_only,
            balance_dollars=_text(balance), seed=seed)
        return LiquidityMaker.from_json(self._control.call("POST", "/liquidity",
                                                           {**body, **extra}))

    def set_fair_value(self, name: str, market: str, fair_value: Dollars) -> LiquidityMaker:
        """Move ``market``'s fair value to ``fair_value`` now; the maker requotes at once."""
        self._control.call("PUT", f"/liquidity/{name}/markets/{market}",
                           {"fair_value": dollars_text(fair_value)})
        return self.get(name)

    def set_path(self, name: str, market: str,
                 points: Sequence[tuple[Seconds, Dollars]]) -> LiquidityMaker:
        """Make ``market``'s fair value follow ``points``: (seconds from now, price) pairs.

        At each requote the fair value is the latest point reached, and after the last point
        it stays there until another path or fair value is set.
        """
        path = [[seconds_number(after), dollars_text(price)] for after, price in points]
        self._control.call("PUT", f"/liquidity/{name}/markets/{market}", {"path": path})
        return self.get(name)

    def configure_market(self, name: str, market: str, **fields: Any) -> LiquidityMaker:
        """Give ``market`` its own ``spread``, ``depth``, ``size``, ``step`` or
        ``volatility`` (and/or ``fair_value``, ``path``); the maker requotes it at once."""
        body = {k: (v if k in ("depth", "path") else dollars_text(v))
                for k, v in fields.items() if v is not None}
        self._control.call("PUT", f"/liquidity/{name}/markets/{market}", body)
        return self.get(name)

    def requote(self, name: str | None = None) -> None:
        """Quote now (every maker, or ``name``), without moving the fair values."""
        path = "/liquidity/requote" if name is None else f"/liquidity/{name}/requote"
        self._control.call("POST", path, {})

    def list(self) -> list[LiquidityMaker]:
        """Return every maker."""
        data = self._control.call("GET", "/liquidity")
        return [LiquidityMaker.from_json(item) for item in data["liquidity"]]

    def get(self, name: str) -> LiquidityMaker:
        """Return maker ``name`` with its fair values, quotes, stats and recent activity."""
        return LiquidityMaker.from_json(self._control.call("GET", f"/liquidity/{name}"))

    def update(self, name: str, **fields: Any) -> LiquidityMaker:
        """Change a maker's configuration (or ``active``); it requotes at once."""
        return LiquidityMaker.from_json(self._control.call("PATCH", f"/liquidity/{name}",
                                                           fields))

    def pause(self, name: str) -> LiquidityMaker:
        """Withdraw a maker's orders and stop it quoting."""
        return self.update(name, active=False)

    def resume(self, name: str) -> LiquidityMaker:
        """Let a paused maker quote again."""
        return self.update(name, active=True)

    def remove(self, name: str) -> None:
        """Withdraw a maker's orders and forget it."""
        self._control.call("DELETE", f"/liquidity/{name}")

    def clear(self) -> None:
        """Remove every maker."""
        for maker in self.list():
            self.remove(maker.name)


def _text(value: Dollars | None) -> str | None:
    return None if value is None else dollars_text(value)


class Faults:
    """Fault-injection rules: errors, latency, 429s, and WebSocket drops, delays and closes."""

    def __init__(self, control: ControlPlane) -> None:
        self._control = control

    def add(self, action: Mapping[str, Any], *, path: str | None = None,
            method: str | None = None, account: SandboxAccount | str | None = None,
            market: str | None = None, probability: float | None = None,
            count: int | None = None, seed: int | None = None) -> FaultRule:
        """Add a rule: ``action`` strikes requests matching every given field.

        ``path`` is a glob on the request path (``/trade-api/v2/communications/*/confirm``);
        ``account`` an account, user id, key id or account name; ``probability`` draws from
        the rule's own generator (``seed`` makes it repeatable); ``count`` is how many times
        the rule strikes before it retires (None: until removed).
        """
        match = given(path=path, method=method,
                      account=None if account is None else user_id_of(account), market=market)
        body = given(match=match, action=dict(action), probability=probability, count=count,
                     seed=seed)
        return FaultRule.from_json(self._control.call("POST", "/faults", body))

    def error(self, status: int, code: str | None = None, message: str | None = None,
              details: str | None = None, **match: Any) -> FaultRule:
        """Answer matching requests with Kalshi's error body at ``status``."""
        action = given(type="error", status=status, code=code, message=message,
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

    def ws_close(self, message_types: Sequence[str] | None = None, code: int | None = None,
                 **match: Any) -> FaultRule:
        """Close matching WebSocket connections instead of sending them a message.

        ``message_types`` limits which message closes it (None: the next one); ``code`` is
        the close code (the server's default: 1001, going away).
        """
        action = given(type="ws_close", message_types=_types(message_types), code=code)
        return self.add(action, **match)

    def list(self) -> list[FaultRule]:
        """Return every rule with its hit count."""
        data = self._control.call("GET", "/faults")
        items = data["faults"] if isinstance(data, dict) else data
        return [FaultRule.from_json(item) for item in items]

    def get(self, rule: FaultRule | str) -> FaultRule:
        """Return the current state of ``rule`` (hits, remaining)."""
        rule_id = rule.id if isinstance(rule, FaultRule) else rule
        return FaultRule.from_json(self._control.call("GET", f"/faults/{rule_id}"))

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
