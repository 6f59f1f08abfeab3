"""The cap on request bodies: the outermost middleware, before anything buffers or journals.

A request that declares a ``Content-Length`` over the cap is answered 413 without a byte of
its body read; one within the cap passes untouched, since the HTTP server hands the app no
more than the declared length. A body sent in chunks (``Transfer-Encoding: chunked``) is
counted as it arrives: the chunk that crosses the cap raises ``PayloadTooLarge`` inside
whoever is reading, which the app's handlers render as 413 when a route was reading, and this
middleware renders when a middleware was (the journal buffers a body before the routes run).
So no more than the cap is ever held, and a refused request has changed nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kalshi_sandbox.api.http import error_response
from kalshi_sandbox.domain.errors import BadRequest, PayloadTooLarge


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (``larger`` maps paths to their own caps)."""

    def __init__(self, app: ASGIApp, limit: int,
                 larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.limit) if self.larger else self.limit
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value.strip()
                if not declared.isdigit() or len(declared) > 18 or int(declared) > limit:
                    await self._refuse(scope, receive, send, limit, declared)
                    return
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked:
            # The server hands the app no more than the declared length (none without one):
            # nothing to count, and the usual request pays for no wrapper.
            await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        async def noting(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, noting)
        except PayloadTooLarge as error:
            if started:
                raise
            await error_response(error)(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int,
                      declared: bytes) -> None:
        # A Content-Length that is no number is malformed rather than large (uvicorn refuses
        # most of those before the app sees them).
        error = (_too_large(limit) if declared.isdigit()
                 else BadRequest("Content-Length must be a number of bytes"))
        await error_response(error)(scope, receive, send)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit} bytes")


__all__ = ["BodyLimit"]
