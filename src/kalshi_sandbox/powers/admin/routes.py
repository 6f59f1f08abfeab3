"""The admin power's control-plane endpoints under ``/sandbox/v1``: accounts and their keys,
balances and rate-limit tiers, markets, reset, and a health check.

Every route sits behind the control plane's guard (powers/guard.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import json_response
from kalshi_sandbox.api.render import render_bucket_limit, render_market
from kalshi_sandbox.api.requests import Body
from kalshi_sandbox.domain.clock import MICROS, Clock, format_instant, in_range, parse_instant
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.limits import MICRO_TOKENS, Bucket
from kalshi_sandbox.domain.market import MarketStatus, PriceRange
from kalshi_sandbox.domain.money import format_money, parse_dollars, parse_price
from kalshi_sandbox.exchange.accounts import Accounts, AccountView
from kalshi_sandbox.exchange.markets import Markets, MarketSpec
from kalshi_sandbox.exchange.ratelimits import RateLimits, parse_tier
from kalshi_sandbox.exchange.scheduler import Scheduler
from kalshi_sandbox.powers.admin.service import Admin
from kalshi_sandbox.powers.bounds import read_control_json
from kalshi_sandbox.powers.guard import CONTROL_PREFIX, Handler

Guard = Callable[[Handler], Handler]
"""Wraps a handler in the control plane's check (powers/guard.py)."""

PREFIX = CONTROL_PREFIX


def render_account(view: AccountView, usage_tier: str) -> dict[str, Any]:
    """Render an account for the control plane (private ids included)."""
    return {
        "user_id": view.account.user_id,
        "name": view.account.name,
        "communications_id": view.account.communications_id,
        "key_ids": [k.key_id for k in view.keys],
        "balance_dollars": format_money(view.balance),
        "usage_tier": usage_tier,
        "created_ts": format_instant(view.account.created_ts),
    }


def render_limits(limits: RateLimits, user_id: str) -> dict[str, Any]:
    """Render an account's tier, its budgets and the tokens its buckets hold now."""
    buckets = limits.buckets_of(user_id)
    now = limits.clock.now()
    data: dict[str, Any] = {"user_id": user_id, "usage_tier": buckets.tier.name,
                            "enforced": limits.enforced}
    for which in Bucket:
        bucket = buckets.bucket(which)
        data[which.value] = {**render_bucket_limit(buckets.tier.limit(which)),
                             "tokens": bucket.level_at(now) / MICRO_TOKENS}
    return data


class AdminApi:
    """Handlers of the admin endpoints."""

    def __init__(self, admin: Admin, accounts: Accounts, markets: Markets,
                 limits: RateLimits, scheduler: Scheduler, clock: Clock, guard: Guard,
                 reseed: Callable[[], Awaitable[dict[str, Any]]] | None = None) -> None:
        self.admin = admin
        self.accounts = accounts
        self.markets = markets
        self.limits = limits
        self.scheduler = scheduler
        self.clock = clock
        self.guard = guard
        self.reseed = reseed
        self.instance: Callable[[], dict[str, Any]] | None = None
        """With PostgreSQL: this instance's coordination counters (docs/deploy.md)."""

    async def health(self, request: Request) -> Response:
        clock = self.clock
        body: dict[str, Any] = {
            "status": "ok",
            "clock": "manual" if clock.manual else "system",
            "now": format_instant(clock.now()),
            "pending_timers": len(self.scheduler),
        }
        if self.instance is not None:
            body["instance"] = self.instance()
        return json_response(body)

    # Accounts -------------------------------------------------------------------------------

    async def create_account(self, request: Request) -> Response:
        body = Body(
            await read_control_json(request, "CreateAccountRequest"), "CreateAccountRequest")
        balance = dollars_field(body.data, "balance_dollars")
        tier = body.string("usage_tier")
        if tier is not None:
            parse_tier(tier)  # refused before the account exists
        created = await self.accounts.create_account(
            body.required_string("name"),
            balance or 0,
            public_key_pem=body.string("public_key_pem"),
            key_id=body.string("key_id"),
        )
        user_id = created.account.user_id
        if tier is not None:
            await self.limits.set_tier(user_id, tier)
        data: dict[str, Any] = {
            "user_id": user_id,
            "name": created.account.name,
            "communications_id": created.account.communications_id,
            "key_id": created.key.key_id,
            "balance_dollars": format_money(created.balance),
            "usage_tier": self.limits.tier_of(user_id).name,
        }
        if created.private_key_pem is not None:
            data["private_key_pem"] = created.private_key_pem
        return json_response(data, 201)

    async def list_accounts(self, request: Request) -> Response:
        tier = self.limits.tier_of
        return json_response({"accounts": [render_account(v, tier(v.account.user_id).name)
                                           for v in await self.accounts.list_accounts()]})

    async def get_account(self, request: Request) -> Response:
        view = await self.accounts.get_account(request.path_params["user_id"])
        return json_response({"account": render_account(
            view, self.limits.tier_of(view.account.user_id).name)})

    async def get_limits(self, request: Request) -> Response:
        view = await self.accounts.get_account(request.path_params["user_id"])
        return json_response(render_limits(self.limits, view.account.user_id))

    async def set_limits(self, request: Request) -> Response:
        body = Body(
            await read_control_json(request, "SetLimitsRequest"), "SetLimitsRequest")
        user_id = request.path_params["user_id"]
        await self.limits.set_tier(user_id, body.required_string("usage_tier"))
        return json_response(render_limits(self.limits, user_id))

    async def add_key(self, request: Request) -> Response:
        body = Body(await read_control_json(request, "AddKeyRequest", allow_empty=True),
                    "AddKeyRequest")
        key, private = await self.accounts.add_key(request.path_params["user_id"],
                                                body.string("public_key_pem"))
        data: dict[str, Any] = {"key_id": key.key_id, "user_id": key.user_id}
        if private is not None:
            data["private_key_pem"] = private
        return json_response(data, 201)

    async def set_balance(self, request: Request) -> Response:
        body = Body(
            await read_control_json(request, "SetBalanceRequest"), "SetBalanceRequest")
        micros = dollars_field(body.data, "balance_dollars", required=True) or 0
        subaccount = body.integer("subaccount") or 0
        await self.accounts.set_balance(request.path_params["user_id"], micros, subaccount)
        return json_response({"balance_dollars": format_money(micros),
                              "subaccount": subaccount})

    # Markets --------------------------------------------------------------------------------

    async def create_market(self, request: Request) -> Response:
        data = await read_control_json(request, "CreateMarketRequest")
        body = Body(data, "CreateMarketRequest")
        status = body.string("status")
        ranges = data.get("price_ranges")
        market = await self.markets.create_market(MarketSpec(
            ticker=body.required_string("ticker"),
            event_ticker=body.string("event_ticker"),
            series_ticker=body.string("series_ticker"),
            title=body.string("title"),
            subtitle=body.string("subtitle") or "",
            status=_market_status(status) if status else None,
            hvm=body.boolean("hvm"),
            price_level_structure=body.string("price_level_structure") or "linear_cent",
            price_ranges=_ranges(ranges) if ranges is not None else None,
            open_time=parse_instant_field(body.string("open_time")),
            close_time=parse_instant_field(body.string("close_time")),
            mve_collection_ticker=body.string("mve_collection_ticker"),
            event_title=body.string("event_title"),
            event_sub_title=body.string("event_sub_title") or "",
            series_title=body.string("series_title"),
            category=body.string("category") or "Sandbox",
            settlement_timer=(body.integer("settlement_timer_seconds") or 0) * MICROS,
        ))
        return json_response(_market(market), 201)

    async def list_markets(self, request: Request) -> Response:
        return json_response({"markets": [_market(m) for m in await self.markets.list_markets()]})

    async def update_market(self, request: Request) -> Response:
        body = Body(
            await read_control_json(request, "UpdateMarketRequest"), "UpdateMarketRequest")
        status = body.string("status")
        market = await self.markets.update_market(
            request.path_params["ticker"],
            status=_market_status(status) if status else None,
            hvm=body.boolean("hvm"),
            result=body.string("result"),
        )
        return json_response(_market(market))

    # Reset ----------------------------------------------------------------------------------

    async def reset(self, request: Request) -> Response:
        data = await read_control_json(request, "ResetRequest", allow_empty=True)
        seed = data.get("seed", False)
        if not isinstance(seed, bool):
            raise InvalidParameters("seed must be a boolean")
        await self.admin.reset()
        result: dict[str, Any] = {"reset": True}
        if seed:
            if self.reseed is None:
                raise InvalidParameters("this server has no demo seed")
            result["seed"] = await self.reseed()
        return json_response(result)

    def routes(self) -> list[BaseRoute]:
        """Return the admin routes, each behind the guard."""
        g = self.guard
        p = PREFIX
        return [
            Route(p + "/health", g(self.health), methods=["GET"]),
            Route(p + "/accounts", g(self.create_account), methods=["POST"]),
            Route(p + "/accounts", g(self.list_accounts), methods=["GET"]),
            Route(p + "/accounts/{user_id}", g(self.get_account), methods=["GET"]),
            Route(p + "/accounts/{user_id}/keys", g(self.add_key), methods=["POST"]),
            Route(p + "/accounts/{user_id}/balance", g(self.set_balance), methods=["PUT"]),
            Route(p + "/accounts/{user_id}/limits", g(self.get_limits), methods=["GET"]),
            Route(p + "/accounts/{user_id}/limits", g(self.set_limits), methods=["PUT"]),
            Route(p + "/markets", g(self.create_market), methods=["POST"]),
            Route(p + "/markets", g(self.list_markets), methods=["GET"]),
            Route(p + "/markets/{ticker}", g(self.update_market), methods=["PATCH"]),
            Route(p + "/reset", g(self.reset), methods=["POST"]),
        ]


def admin_market(market: Any) -> dict[str, Any]:
    """Render a market for the control plane (with its HVM flag)."""
    return _market(market)


def dollars_field(data: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    """Read an amount of dollars from a control-plane body: a string such as ``"250.00"`` or
    a number such as ``250`` (the sandbox's own API is lenient where Kalshi's is strict)."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidParameters(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidParameters(f"{name} must be dollars, as a number (250) or a string "
                                "(\"250.00\")")
    text = value if isinstance(value, str) else repr(value)
    return parse_dollars(text, what=name)


def _market(market: Any) -> dict[str, Any]:
    data = render_market(market)
    data["hvm"] = market.hvm
    return data


def _market_status(text: str) -> MarketStatus:
    try:
        return MarketStatus(text)
    except ValueError:
        known = ", ".join(s.value for s in MarketStatus)
        raise InvalidParameters(f"status must be one of {known}") from None


def parse_instant_field(text: str | None) -> int | None:
    """Parse an optional RFC 3339 field of a control-plane body, in the years 1970-9999."""
    if text is None:
        return None
    try:
        instant = parse_instant(text)
    except (ValueError, OverflowError):
        raise InvalidParameters(f"{text!r} is not an RFC 3339 timestamp") from None
    if not in_range(instant):
        raise InvalidParameters(f"{text!r} is outside the years 1970 to 9999 (UTC)")
    return instant


def _ranges(value: Any) -> tuple[PriceRange, ...]:
    if not isinstance(value, list):
        raise InvalidParameters("price_ranges must be a list of {start, end, step}")
    bands = []
    for band in value:
        if not isinstance(band, dict) or not all(
                isinstance(band.get(k), str) for k in ("start", "end", "step")):
            raise InvalidParameters("each price range needs string start, end and step")
        bands.append(PriceRange(parse_price(band["start"]), parse_price(band["end"]),
                                parse_price(band["step"])))
    return tuple(bands)


__all__ = ["AdminApi", "admin_market", "dollars_field", "parse_instant_field"]
