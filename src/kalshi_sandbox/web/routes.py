"""The sandbox's own pages and descriptions: ``/health``, the OpenAPI documents, the docs page
and the dashboard with its live feed.

* ``GET /health``: liveness and readiness: 200 ``{"status": "ok", ...}`` when the storage
  answers, 503 ``{"status": "unavailable", ...}`` when it does not; ``/health/live`` answers
  200 while the process serves at all, without touching the storage.
* ``GET /trade-api/v2/openapi.json``: Kalshi's API as the sandbox serves it (OpenAPI 3.1);
  ``GET /sandbox/v1/openapi.json``: the control plane's, behind the control plane's guard.
* ``GET /docs``: Swagger UI over both documents, every asset served from the installed
  ``swagger-ui-py`` package (no CDN: it works offline).
* ``GET /`` and ``/dashboard``: the dashboard page (web/static/), guarded like the control
  plane (powers/guard.py); it reads ``GET /sandbox/v1/dashboard/state`` and follows
  ``GET /sandbox/v1/dashboard/feed`` (server-sent events: the whole state again after every
  change, at most ``FEED_INTERVAL`` apart), and acts through the control plane's endpoints.
"""

from __future__ import annotations

import asyncio
import importlib.util
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api import spec as trade_spec
from kalshi_sandbox.api.http import error_response, json_response
from kalshi_sandbox.api.routes import PREFIX, Charged
from kalshi_sandbox.domain.errors import NotFound
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.powers import spec as control_spec
from kalshi_sandbox.powers.guard import CONTROL_PREFIX, ControlPolicy, Handler
from kalshi_sandbox.web.openapi import DocumentCache, Operation, Param, Schema, document
from kalshi_sandbox.web.state import Sources, encode, read_state

STATIC = Path(__file__).with_name("static")
FEED_INTERVAL = 0.1
"""Seconds the feed waits after a change before it reads the state: a burst of changes
(an execution, a clock advance firing many timers) becomes one message."""
KEEPALIVE = 15.0
"""Seconds between comments on an idle feed, so proxies and the browser keep it open."""
HEALTH_TIMEOUT = 5.0
VERSION = version("kalshi-sandbox")

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Headers of the pages: their own scripts only, never framed by another site."""

SWAGGER_ASSETS = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css",
                  "favicon-32x32.png", "favicon-16x16.png")
DASHBOARD_ASSETS = ("dashboard.js", "dashboard.css", "docs.js")


def swagger_dir() -> Path:
    """Return the directory of Swagger UI's files in the installed ``swagger-ui-py``."""
    found = importlib.util.find_spec("swagger_ui")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(found.submodule_search_locations))) / "static"


def operations(table: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], Operation]:
    """Turn plain metadata (api/spec.py, powers/spec.py) into ``Operation`` records."""
    result = {}
    for key, fields in table.items():
        data = dict(fields)
        data["query"] = tuple(Param(name, schema, description)
                              for name, schema, description in data.get("query", ()))
        result[key] = Operation(**data)
    return result


TRADE_OPERATIONS = operations({
    **trade_spec.TRADE_OPERATIONS,
    ("GET", "/openapi.json"): {"summary": "This document", "tag": "meta"},
})
CONTROL_OPERATIONS = operations(control_spec.CONTROL_OPERATIONS)


def trade_document(routes: list[BaseRoute]) -> Schema:
    """The OpenAPI document of Kalshi's API as served by ``routes``."""

    def signed(route: Route) -> bool:
        endpoint = route.endpoint
        return isinstance(endpoint, Charged) and endpoint.cost is not None

    return document(
        routes, prefix=PREFIX, title="Kalshi Trade API v2 (kalshi-sandbox)",
        version=VERSION,
        description="The endpoints of Kalshi's Trade API v2 that kalshi-sandbox emulates. "
                    "Requests are signed as for Kalshi. The WebSocket is at /trade-api/ws/v2.",
        operations=TRADE_OPERATIONS, security=trade_spec.SECURITY, signed=signed)


def control_document(routes: list[BaseRoute]) -> Schema:
    """The OpenAPI document of the control plane as served by ``routes``."""
    return document(
        routes, prefix=CONTROL_PREFIX, title="kalshi-sandbox control plane",
        version=VERSION,
        description="The sandbox's own API: accounts, markets, the clock, counterparties, "
                    "liquidity, faults, snapshots and the journal. Open to loopback callers; "
                    "with --admin-token, a bearer token is required.",
        operations=CONTROL_OPERATIONS, security=control_spec.SECURITY)


class Assets:
    """Files served by name from one directory, each read once; no other name is served."""

    def __init__(self, directory: Path, names: tuple[str, ...]) -> None:
        self.directory = directory
        self.names = frozenset(names)
        self._cache: dict[str, bytes] = {}

    async def serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.names:
            return error_response(NotFound(f"no endpoint at {request.url.path}"))
        body = self._cache.get(name)
        if body is None:
            body = self._cache[name] = (self.directory / name).read_bytes()
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media.startswith("text/") or media.endswith("javascript"):
            media += "; charset=utf-8"
        return Response(body, media_type=media, headers={
            "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


class Feed:
    """Wakes the dashboard's streams when anything changes."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def changed(self, *_: Any) -> None:
        """Mark every open stream as behind (a hub listener, a journal hook)."""
        for waiter in self._waiters:
            waiter.set()

    def __len__(self) -> int:
        return len(self._waiters)

    async def stream(self, read: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
        """Yield server-sent events: the state now, then again after every change."""
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            yield b"retry: 1000\nevent: state\ndata: " + await read() + b"\n\n"
            while True:
                try:
                    await asyncio.wait_for(waiter.wait(), KEEPALIVE)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                await asyncio.sleep(FEED_INTERVAL)
                waiter.clear()
                yield b"event: state\ndata: " + await read() + b"\n\n"
        finally:
            self._waiters.discard(waiter)


class WebApi:
    """Handlers of the health check, the documents, the docs page and the dashboard."""

    def __init__(self, store: Store, sources: Sources, policy: ControlPolicy,
                 guard: Callable[[Handler], Handler]) -> None:
        self.store = store
        self.sources = sources
        self.policy = policy
        self.guard = guard
        self.feed = Feed()
        self._trade = DocumentCache(trade_document)
        self._control = DocumentCache(control_document)
        self._swagger = Assets(swagger_dir(), SWAGGER_ASSETS)
        self._assets = Assets(STATIC, DASHBOARD_ASSETS)

    # Health ---------------------------------------------------------------------------------

    async def live(self, request: Request) -> Response:
        return json_response({"status": "ok", "version": VERSION})

    async def health(self, request: Request) -> Response:
        """Liveness and readiness: the storage must answer a read within the timeout."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                async with self.store.transaction() as tx:
                    await tx.get_meta("schema_version")
            storage = "ok"
        except Exception as exc:  # any failure means not ready; say which
            storage = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        ready = storage == "ok"
        return json_response({"status": "ok" if ready else "unavailable", "live": True,
                              "ready": ready, "checks": {"storage": storage},
                              "version": VERSION},
                             200 if ready else 503)

    # Documents ------------------------------------------------------------------------------

    async def trade_openapi(self, request: Request) -> Response:
        return json_response(self._trade.get(request.app.router.routes))

    async def control_openapi(self, request: Request) -> Response:
        return json_response(self._control.get(request.app.router.routes))

    async def docs(self, request: Request) -> Response:
        return Response(DOCS_PAGE, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    # Dashboard ------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        refusal = self.policy.page_refusal(request.scope)
        if refusal is not None:
            return error_response(refusal)
        return Response((STATIC / "dashboard.html").read_bytes(),
                        media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def _state(self) -> bytes:
        return encode(await read_state(self.sources))

    async def state(self, request: Request) -> Response:
        return Response(await self._state(), media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    async def stream(self, request: Request) -> Response:
        return StreamingResponse(self.feed.stream(self._state), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    def routes(self) -> list[BaseRoute]:
        """Return the web routes; those under the control plane behind its guard."""
        g, c = self.guard, CONTROL_PREFIX
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/health/live", self.live, methods=["GET"]),
            Route("/health/ready", self.health, methods=["GET"]),
            Route(PREFIX + "/openapi.json", self.trade_openapi, methods=["GET"]),
            Route(c + "/openapi.json", g(self.control_openapi), methods=["GET"]),
            Route("/docs", self.docs, methods=["GET"]),
            Route("/docs/assets/{name}", self._swagger.serve, methods=["GET"]),
            Route("/", self.page, methods=["GET"]),
            Route("/dashboard", self.page, methods=["GET"]),
            Route("/dashboard/assets/{name}", self._assets.serve, methods=["GET"]),
            Route(c + "/dashboard/state", g(self.state), methods=["GET"]),
            Route(c + "/dashboard/feed", g(self.stream), methods=["GET"]),
        ]


DOCS_PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kalshi-sandbox API documents</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/dashboard/assets/docs.js"></script>
</body>
</html>
"""

__all__ = ["Feed", "WebApi", "control_document", "swagger_dir", "trade_document"]
