"""A WebSocket subscription that reconnects, resubscribes and reports ``seq`` gaps.

The handshake is signed like a REST request over ``timestamp + "GET" + <ws path>``; after it
the client sends ``{"id": n, "cmd": "subscribe", "params": {"channels": [...]}}`` and reads
envelopes ``{"type", "sid", "seq", "msg"}``
(https://docs.kalshi.com/websockets/websocket-connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncGenerator, Iterable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from kalshi_sandbox.client.auth import KalshiAuth
from kalshi_sandbox.client.errors import (
    APIError,
    KalshiConnectionError,
    StreamError,
    error_from_parts,
)
from kalshi_sandbox.client.messages import (
    DataMessage,
    Reconnected,
    SequenceGap,
    StreamEvent,
    Subscribed,
    SubscriptionDropped,
    parse_message,
)

USER_AGENT = "kalshi-sandbox-client/0.1"


class _End:
    """Marks the end of the event queue."""


_END = _End()
_CONTROL_TYPES = {"subscribed", "unsubscribed", "ok", "error", "list_subscriptions"}


class Subscription:
    """An async iterator over one WebSocket connection's messages, kept alive across drops.

    Use it as ``async with client.subscribe("communications") as stream: async for event in
    stream: ...``; leaving the ``async with`` (or calling :meth:`close`) disconnects. The
    connection is read in a background task, so a loop may be left and resumed, or wrapped in
    ``asyncio.timeout``, without losing the connection or any message. Events are typed data
    messages (:class:`~kalshi_sandbox.client.messages.QuoteAccepted`, ...) and the stream events
    :class:`Subscribed`, :class:`SequenceGap`, :class:`SubscriptionDropped` and
    :class:`Reconnected`.

    A subscription the server drops on its own (error 25 when the connection falls too far
    behind) is reported as :class:`SubscriptionDropped` and subscribed again at once.

    The first connection must succeed (a failure raises at once); after that a dropped
    connection is re-opened with exponential backoff (``backoff`` seconds doubling up to
    ``backoff_max``), at most ``max_reconnect_attempts`` times in a row (None: forever), and
    every channel is subscribed again. An authentication failure is never retried.
    """

    def __init__(self, ws_url: str, auth: KalshiAuth | None, channels: Iterable[str],
                 params: dict[str, Any] | None = None, *, reconnect: bool = True,
                 max_reconnect_attempts: int | None = None, backoff: float = 0.5,
                 backoff_max: float = 30.0, open_timeout: float = 10.0,
                 ping_interval: float | None = 20.0) -> None:
        self.ws_url = ws_url
        self.auth = auth
        self.channels = tuple(channels)
        if not self.channels:
            raise ValueError("subscribe to at least one channel")
        self.params = dict(params or {})
        self.reconnect = reconnect
        self.max_reconnect_attempts = max_reconnect_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.sids: dict[str, int] = {}
        """The current subscription id of each channel."""
        self.reconnects = 0
        """How many times the connection was re-established."""
        self.gaps = 0
        """How many ``seq`` gaps were seen."""
        self._next_id = 1
        self._last_seq: dict[int, int] = {}
        self._connection: ClientConnection | None = None
        self._closed = False
        self._finished = False
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[StreamEvent | BaseException | _End] = asyncio.Queue()

    # Async iterator and context manager -----------------------------------------------------

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._finished:
            raise StopAsyncIteration
        if self._reader is None:
            self._reader = asyncio.create_task(self._pump())
        # Waiting on the queue, not on the socket, makes cancelling this call (a timeout
        # around the loop, say) harmless: the connection and its events carry on.
        item = await self._queue.get()
        if item is _END:
            self._finished = True
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        assert not isinstance(item, _End)
        return item

    async def _pump(self) -> None:
        events = self._run()
        try:
            async for event in events:
                self._queue.put_nowait(event)
        except Exception as exc:
            self._queue.put_nowait(exc)
        finally:
            await events.aclose()
            self._queue.put_nowait(_END)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Disconnect; a pending or later iteration step ends the loop."""
        self._closed = True
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self._queue.put_nowait(_END)

    # Connection -----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.auth is not None:
            path = urlsplit(self.ws_url).path or "/"
            headers.update(self.auth.headers("GET", path))
        return headers

    async def _open(self) -> ClientConnection:
        headers = self._headers()
        try:
            return await connect(self.ws_url, additional_headers=headers,
                                 user_agent_header=None, open_timeout=self.open_timeout,
                                 ping_interval=self.ping_interval, max_size=2**22)
        except InvalidStatus as exc:
            response = exc.response
            try:
                body: Any = json.loads(response.body) if response.body else None
            except ValueError:
                body = response.body.decode(errors="replace") if response.body else None
            raise error_from_parts(response.status_code, body, "GET", self.ws_url, headers,
                                   urlsplit(self.ws_url).path) from None
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise KalshiConnectionError(f"cannot open {self.ws_url}: {exc}") from exc

    async def _reopen(self) -> tuple[ClientConnection, int]:
        attempts = 0
        while True:
            attempts += 1
            delay = min(self.backoff_max, self.backoff * 2 ** (attempts - 1))
            # Jitter keeps a crowd of bots from reconnecting in lockstep after an outage.
            await asyncio.sleep(delay * random.uniform(0.8, 1.0))
            try:
                return await self._open(), attempts
            except APIError as exc:
                if exc.status_code < 500 and exc.status_code != 429:
                    raise
                failure: Exception = exc
            except KalshiConnectionError as exc:
                failure = exc
            limit = self.max_reconnect_attempts
            if limit is not None and attempts >= limit:
                raise KalshiConnectionError(
                    f"gave up reconnecting to {self.ws_url} after {attempts} attempts: "
                    f"{failure}") from failure

    async def _subscribe(self, connection: ClientConnection, channels: Iterable[str]) -> None:
        for channel in channels:
            command = {"id": self._next_id, "cmd": "subscribe",
                       "params": {"channels": [channel], **self.params}}
            self._next_id += 1
            await connection.send(json.dumps(command))

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        connection = await self._open()
        reconnect: Reconnected | None = None
        while not self._closed:
            self._connection = connection
            self._last_seq.clear()
            self.sids.clear()
            try:
                await self._subscribe(connection, self.channels)
                if reconnect is not None:
                    yield reconnect
                async for frame in connection:
                    for event in self._handle(frame):
                        if isinstance(event, SubscriptionDropped):
                            await self._subscribe(connection, [event.channel])
                        yield event
                reason = (f"server closed the connection ({connection.close_code} "
                          f"{connection.close_reason})".rstrip())
            except ConnectionClosed as exc:
                reason = f"connection lost: {exc}"
            finally:
                await connection.close()
                self._connection = None
            if self._closed or not self.reconnect:
                return
            connection, attempts = await self._reopen()
            self.reconnects += 1
            reconnect = Reconnected(attempts, reason)

    def _handle(self, frame: str | bytes) -> list[StreamEvent]:
        try:
            envelope = json.loads(frame)
        except ValueError:
            return []
        if not isinstance(envelope, dict):
            return []
        kind = envelope.get("type")
        msg = envelope.get("msg")
        if kind == "error":
            detail = msg if isinstance(msg, dict) else {}
            code, text = int(detail.get("code", 0)), str(detail.get("msg", msg))
            sid = envelope.get("sid")
            channel = next((c for c, s in self.sids.items() if s == sid), None)
            if channel is not None and isinstance(sid, int) and envelope.get("id") is None:
                # The server dropped one subscription (code 25: too far behind); the
                # others carry on, and this one is subscribed again.
                del self.sids[channel]
                self._last_seq.pop(sid, None)
                return [SubscriptionDropped(channel, sid, code, text)]
            raise StreamError(code, text, envelope.get("id"))
        if kind == "subscribed" and isinstance(msg, dict):
            channel, sid = str(msg.get("channel")), int(msg["sid"])
            self.sids[channel] = sid
            self._last_seq[sid] = 0
            return [Subscribed(channel, sid)]
        if kind in _CONTROL_TYPES:
            return []
        message = parse_message(envelope)
        return [*self._check_seq(message), message]

    def _check_seq(self, message: DataMessage) -> list[StreamEvent]:
        if message.sid is None or message.seq is None:
            return []
        last = self._last_seq.get(message.sid)
        self._last_seq[message.sid] = max(message.seq, last or 0)
        expected = 1 if last is None else last + 1
        if last is not None and message.seq > expected:
            self.gaps += 1
            return [SequenceGap(message.sid, expected, message.seq)]
        return []
