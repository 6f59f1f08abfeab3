"""HTTP plumbing shared by Kalshi's API and the control plane: JSON in, JSON out, errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from kalshi_sandbox.domain.errors import (
    BadRequest,
    ErrorShape,
    MethodNotAllowed,
    NotFound,
    SandboxError,
)

log = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

NO_CONTENT = 204


def json_response(data: Any, status: int = 200) -> Response:
    """Return ``data`` encoded as a JSON response."""
    return Response(_encoder.encode(data), status_code=status, media_type="application/json")


_EMPTY: dict[int, Response] = {}


def empty_response(status: int = NO_CONTENT) -> Response:
    """Return a response without a body (one shared instance per status: it never changes)."""
    response = _EMPTY.get(status)
    if response is None:
        response = _EMPTY[status] = Response(status_code=status)
    return response


def error_body(error: SandboxError) -> dict[str, Any]:
    """Lay out ``error`` in the shape Kalshi uses for its kind (docs/behaviour.md, "Wire")."""
    if error.shape is ErrorShape.RATE_LIMIT:
        return {"error": "too many requests"}
    if error.shape is ErrorShape.BARE:
        # Kalshi's bare ``msg``, with the ``code`` every error carries since 2026-08-06.
        text = error.details or error.message
        return {"code": error.code, "message": error.message, "details": text, "msg": text}
    inner: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        inner["details"] = error.details
    if error.shape is ErrorShape.FLAT:
        return inner
    return {"error": inner}


def error_response(error: SandboxError) -> Response:
    """Render a sandbox error."""
    return json_response(error_body(error), error.status)


async def sandbox_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette handler for every ``SandboxError``."""
    assert isinstance(exc, SandboxError)
    return error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Render Starlette's routing errors (unknown path, wrong method) as Kalshi errors."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(MethodNotAllowed(f"{request.method} is not allowed on this path"))
    if exc.status_code == 404:
        return error_response(NotFound(f"no endpoint at {request.url.path}"))
    return json_response({"error": {"code": "http_error", "message": str(exc.detail)}},
                         exc.status_code)


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    """Log an unexpected failure and answer 500 in Kalshi's shape."""
    log.exception("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=exc)
    return error_response(SandboxError("an unexpected error occurred; see the server log"))


def decode_json(raw: bytes, struct: str, *, allow_empty: bool = False) -> dict[str, Any]:
    """Decode a JSON object body, raising Kalshi's flat ``bad_request`` when it is not one."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("unexpected end of JSON input")
    try:
        data = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("invalid JSON: exceeded max depth") from None
    if data is None:
        # Go's json.Unmarshal of null into a struct leaves it empty without an error.
        return {}
    if not isinstance(data, dict):
        kind = {list: "array", str: "string", bool: "bool", int: "number",
                float: "number"}.get(type(data), "value")
        raise BadRequest(f"json: cannot unmarshal {kind} into Go value of type {struct}")
    return data


async def read_json(request: Request, struct: str, *, allow_empty: bool = False
                    ) -> dict[str, Any]:
    """Read and decode a request's JSON object body."""
    return decode_json(await read_body(request), struct, allow_empty=allow_empty)


async def read_body(request: Request) -> bytes:
    """Return a request's body; skip the read when the request declares it empty."""
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            if value == b"0":
                return b""
            break
    return await request.body()


Handler = Callable[[Request], Awaitable[Response]]


class Endpoint:
    """An ASGI app calling ``handler(request)`` and sending the response it returns.

    Starlette wraps a plain function endpoint in closures that render exceptions at the route;
    here they propagate to the app's exception middleware, which renders them with the same
    handlers, and the hot path saves the wrapping.
    """

    __slots__ = ("handler",)

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive, send))
        await response(scope, receive, send)


# Route table -------------------------------------------------------------------------------

_PARAMETER = re.compile(r"\{[A-Za-z_]\w*(:(str|int|float|uuid))?\}")


class _Node:
    __slots__ = ("literal", "parameter", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.parameter: _Node | None = None
        self.routes: list[tuple[int, BaseRoute]] = []


class RouteTable:
    """Finds the routes that could match a path, by its segments, instead of trying each one.

    Only plain ``Route`` paths whose parameters each fill a whole segment are indexed; any
    other route (a mount, a ``path`` parameter) is a candidate for every path. Candidates
    keep the order of the route list, and each is still asked to match, so the first match
    is the one Starlette's router would find.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.size = len(routes)
        self._root = _Node()
        self._everywhere: list[tuple[int, BaseRoute]] = []
        for index, route in enumerate(routes):
            segments = _segments(route)
            if segments is None:
                if not isinstance(route, WebSocketRoute):  # never a match for http
                    self._everywhere.append((index, route))
                continue
            node = self._root
            for segment in segments:
                if segment is None:
                    if node.parameter is None:
                        node.parameter = _Node()
                    node = node.parameter
                else:
                    node = node.literal.setdefault(segment, _Node())
            node.routes.append((index, route))

    def candidates(self, path: str) -> list[BaseRoute]:
        """Return, in route-list order, every route that could match ``path``."""
        parts = path.split("/")
        found: list[tuple[int, BaseRoute]] = []
        stack = [(self._root, 1)]
        while stack:
            node, position = stack.pop()
            if position == len(parts):
                found.extend(node.routes)
                continue
            part = parts[position]
            child = node.literal.get(part)
            if child is not None:
                stack.append((child, position + 1))
            if node.parameter is not None and part:
                stack.append((node.parameter, position + 1))
        if self._everywhere:
            found.extend(self._everywhere)
        if len(found) > 1:
            found.sort(key=lambda item: item[0])
        return [route for _, route in found]


def _segments(route: BaseRoute) -> list[str | None] | None:
    """Return a route's path segments (None for a parameter), or None if it cannot be indexed."""
    if type(route) is not Route or not route.path.startswith("/"):
        return None
    segments: list[str | None] = []
    for segment in route.path.split("/")[1:]:
        if "{" not in segment:
            segments.append(segment)
        elif _PARAMETER.fullmatch(segment):
            segments.append(None)
        else:
            return None
    return segments


def use_route_table(app: Starlette) -> None:
    """Route ``app``'s HTTP requests through a ``RouteTable`` of its routes.

    A request that no candidate matches fully (unknown path, wrong method, trailing slash)
    goes through Starlette's own router, so those answers are exactly Starlette's.
    """
    router: Router = app.router
    fallback: ASGIApp = router.middleware_stack
    table = RouteTable(router.routes)

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal table
        if scope["type"] == "http":
            if table.size != len(router.routes):
                table = RouteTable(router.routes)
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                # As Starlette's routes see it. Were this wrong, the candidates would miss
                # and the fallback would route the request: never a wrong answer.
                path = path[len(root):]
            for candidate in table.candidates(path):
                match, child_scope = candidate.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", router)
                    scope["route"] = candidate
                    scope.update(child_scope)
                    await candidate.handle(scope, receive, send)
                    return
            # No full match (a partial one only means the method differs: Starlette too
            # takes a later full match over it): Starlette's router decides.
        await fallback(scope, receive, send)

    router.middleware_stack = route
