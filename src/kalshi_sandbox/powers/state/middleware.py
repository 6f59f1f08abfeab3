"""The journal's front door: requests recorded as they are answered, and replayed in process.

``JournalMiddleware`` wraps the app outside fault injection, so a request a fault answered is
journaled with the status it got; ``MarkReached`` sits inside fault injection and notes that the
request got through to the app. ``JournalAuthenticator`` records who a request acted as, and
lets a replay act as the recorded actor without a signature. ``AuthorizedGuard`` notes that the
control plane's guard let a request in: of a request neither signed nor let in, only the
metadata is journaled. ``InProcess`` sends a recorded request through an app in the same
process, the way the replay needs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kalshi_sandbox.api.auth import Authenticator, key_id_of
from kalshi_sandbox.domain.clock import Clock
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.powers.state.journal import Journal, Record, current_record, set_record

TRADE_PREFIX = "/trade-api/"
CONTROL_PREFIX = "/sandbox/"
UNJOURNALED = ("/sandbox/v1/health",)
"""Paths left out of the journal: health checks (a liveness probe would flood it)."""
UNRECORDED_BODIES = ("/sandbox/v1/journal/replay",)
"""Paths whose bodies the journal leaves out: a replay's body is a journal itself."""

_replay_actor: ContextVar[Actor | None] = ContextVar("kalshi_sandbox_replay_actor",
                                                     default=None)


class JournalAuthenticator(Authenticator):
    """An ``Authenticator`` that notes the actor in the journal's record of the request.

    During a replay (in process only: a context variable no network request can set), the
    recorded actor stands in for a verified signature.
    """

    async def authenticate(self, headers: Mapping[str, str], method: str, raw_path: str,
                           query: str = "") -> Actor:
        actor = _replay_actor.get()
        if actor is None:
            actor = await super().authenticate(headers, method, raw_path, query)
        record = current_record()
        if record is not None:
            record.actor = actor.user_id
        return actor


class JournalMiddleware:
    """Journal every Kalshi API and control-plane request once it has been answered.

    The record of a request is set up before the app runs, with what the journal needs to
    describe it should its changes be committed before its line is written
    (powers/state/journal.py). Its body is kept only if the request was authenticated.
    """

    def __init__(self, app: ASGIApp, journal: Journal, clock: Clock,
                 authenticator: Authenticator) -> None:
        self.app = app
        self.journal = journal
        self.clock = clock
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.journal.enabled:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(TRADE_PREFIX):
            api = "trade"
        elif path.startswith(CONTROL_PREFIX) and path not in UNJOURNALED:
            api = "control"
        else:
            await self.app(scope, receive, send)
            return
        instant = self.clock.now()
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before sending its body; nothing ran.
                await self.app(scope, _replaying([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        status = 500
        head: dict[str, Any] = {"method": scope["method"], "path": path}
        query = scope["query_string"]
        if query:
            head["query"] = query.decode("latin-1")
        record = Record("request", head=head, instant=instant,
                        body=None if path in UNRECORDED_BODIES else body)
        undo = set_record(record)

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, _replaying([{"type": "http.request", "body": body}],
                                             receive), send_noting_status)
        finally:
            undo()
            entry = record.describe()
            entry["status"] = status
            if self.clock.manual:
                answered = self.clock.now()
                if answered != instant:
                    # The request moved the clock (an advance): a replay goes where it ended.
                    entry["answered"] = self.journal.instant_text(answered)
            if api == "trade" and record.actor is None:
                key_id = key_id_of(scope)
                if key_id:
                    entry["key_id"] = key_id[:64]
                if not record.reached:
                    entry["faulted"] = True
                    if key_id:
                        with contextlib.suppress(Exception):
                            credential = await self.authenticator.credential(key_id)
                            if credential is not None:
                                entry["actor"] = credential.actor.user_id
            elif api == "trade" and not record.reached:
                entry["faulted"] = True
            self.journal.append("request", entry, instant, record)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """Return a ``receive`` that hands out ``messages`` first, then defers to ``receive``."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed


Handler = Callable[[Request], Awaitable[Response]]


class AuthorizedGuard:
    """Wraps the control plane's guard: a request the guard lets through to its handler is
    noted as authorized, so the journal keeps its body (and keeps none of the others')."""

    def __init__(self, guard: Callable[[Handler], Handler]) -> None:
        self.guard = guard

    def __call__(self, handler: Handler) -> Handler:
        async def authorized(request: Request) -> Response:
            record = current_record()
            if record is not None:
                record.authorized = True
            return await handler(request)

        return self.guard(authorized)


class MarkReached:
    """Note in the journal's record that a request got past fault injection to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            record = current_record()
            if record is not None:
                record.reached = True
        await self.app(scope, receive, send)


class InProcess:
    """Send recorded requests through ``app`` in this process, as their recorded actor."""

    def __init__(self, app: ASGIApp, admin_token: str = "") -> None:
        self.app = app
        self.admin_token = admin_token

    async def __call__(self, method: str, path: str, query: str, body: bytes,
                       actor: Actor | None) -> int:
        """Run one request; return its status (500 if the app failed)."""
        status, _ = await self.call(method, path, query, body, actor)
        return status

    async def call(self, method: str, path: str, query: str, body: bytes,
                   actor: Actor | None) -> tuple[int, bytes]:
        """Run one request; return its status (500 if the app failed) and body."""
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()),
                   (b"user-agent", b"kalshi-sandbox-replay")]
        if self.admin_token and path.startswith(CONTROL_PREFIX):
            headers.append((b"authorization", f"Bearer {self.admin_token}".encode()))
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": method, "scheme": "http", "path": path,
            "raw_path": path.encode(), "query_string": query.encode("latin-1"),
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0), "state": {},
        }
        status = 500
        answer: list[bytes] = []
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                answer.append(message.get("body", b""))

        # The request runs in this task, where nothing else has set the record: the journal
        # middleware of ``app`` gives it its own.
        undo_record = set_record(None)
        token = _replay_actor.set(actor)
        try:
            await self.app(scope, receive, send)
        except Exception:
            # The app has answered 500 already and logged the failure.
            status = 500
        finally:
            _replay_actor.reset(token)
            undo_record()
        return status, b"".join(answer)


__all__ = ["AuthorizedGuard", "InProcess", "JournalAuthenticator", "JournalMiddleware",
           "MarkReached"]
