"""One authenticated WebSocket connection: its commands, subscriptions and outbound queue.

Every frame the connection sends, command replies and data messages alike, goes through one
FIFO queue, so a ``subscribed`` reply always precedes the first message of its ``sid`` and
data messages keep the order the fanout gave them. The queue is bounded: when a data message
would exceed ``limit``, the subscription it belongs to is dropped, its waiting messages are
discarded and the client gets error 25 ("Subscription buffer overflow") naming the ``sid``. A
client that stops reading therefore costs a bounded amount of memory and never holds up the
publisher or other connections. Commands are read only while the queue has room, so a client
cannot grow it by sending commands either.

Sending is batched across connections: queuing a frame marks the connection on a shared
``Flusher``, which in one event-loop callback writes every marked connection's frames. A
frame is written by stepping the ASGI ``send`` coroutine directly; it completes at once
unless the transport is paused (a client that does not read), and only then does the rest
of that send, and that connection's further frames, move to a task of its own. Broadcasting
to a thousand connections thus costs a thousand socket writes, not a thousand task switches.

Injected faults (powers/faults/) use two more entries of the queue: a frame held back behind
a shut ``Gate`` until its delay has passed, with every frame queued after it waiting behind
it, so no ``sid`` sees its order change; and a close, sent once the frames ahead of it are.

Past 500 lines on purpose: a connection's commands and its queue share one state (a
subscription dropped on overflow is gone for its commands too) and are read together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any

import msgspec

from kalshi_sandbox.api.ws.fanout import (
    COMMUNICATIONS,
    KALSHI_CHANNELS,
    ORDERBOOK,
    SERVED_CHANNELS,
    UNFILTERED,
    Fanout,
    Subscription,
)
from kalshi_sandbox.exchange.commands import Actor

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]

log = logging.getLogger(__name__)

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode

MAX_SHARD_FACTOR = 100
UPDATE_ACTIONS = ("add_markets", "delete_markets", "get_snapshot")

ERROR_TEXT = {
    1: "Unable to process message",
    2: "Params required",
    3: "Channels required",
    4: "Subscription IDs required",
    5: "Unknown command",
    6: "Already subscribed",
    7: "Unknown subscription ID",
    8: "Unknown channel name",
    9: "Authentication required",
    10: "Channel error",
    11: "Invalid parameter",
    12: "Exactly one subscription ID is required",
    13: "Unsupported action",
    14: "Market Ticker required",
    15: "Action required",
    16: "Market not found",
    17: "Internal error",
    18: "Command timeout",
    19: "shard_factor must be > 0",
    20: "shard_factor is required when shard_key is set",
    21: "shard_key must be >= 0 and < shard_factor",
    22: "shard_factor must be <= 100",
    23: "Match IDs required",
    24: "Index IDs required",
    25: "Subscription buffer overflow",
    26: "Subscription market limit exceeded",
    27: "Too many requests",
    28: "Underlying tickers required",
}
"""Kalshi's WebSocket error codes and texts (https://docs.kalshi.com/websockets/websocket-connection)."""

BUFFER_OVERFLOW = 25
MAX_DETAIL = 80


class CommandError(Exception):
    """A command failed with one of Kalshi's integer error codes."""

    def __init__(self, code: int, detail: str = "") -> None:
        # Details may echo client input: keep replies small whatever the client sent.
        detail = detail if len(detail) <= MAX_DETAIL else detail[:MAX_DETAIL] + "..."
        super().__init__(detail or ERROR_TEXT[code])
        self.code = code
        self.detail = detail

    def body(self) -> dict[str, Any]:
        """Return the ``msg`` of the error reply."""
        text = ERROR_TEXT[self.code]
        return {"code": self.code, "msg": f"{text}: {self.detail}" if self.detail else text}


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def _is_int(value: Any) -> bool:
    """Return True for a JSON integer that fits the 64 bits Kalshi decodes it into."""
    return (isinstance(value, int) and not isinstance(value, bool)
            and INT64_MIN <= value <= INT64_MAX)


class Flusher:
    """Writes the queued frames of every marked connection in one event-loop callback."""

    def __init__(self) -> None:
        self._marked: list[Session] = []
        self._scheduled = False

    def mark(self, session: Session) -> None:
        """Have ``session``'s queue written soon (once, however often it is marked)."""
        self._marked.append(session)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        marked, self._marked = self._marked, []
        for session in marked:
            session.pump()


class Gate:
    """A point in a connection's queue that the frames behind it wait at."""

    __slots__ = ("close_code", "shut")

    def __init__(self, shut: bool, close_code: int | None = None) -> None:
        self.shut = shut
        """True until a delayed frame may leave."""
        self.close_code = close_code
        """If set, close the connection here with this code."""


class Session:
    """Serve one accepted WebSocket for ``actor`` until either side closes it."""

    def __init__(self, send: Send, receive: Receive, actor: Actor, fanout: Fanout,
                 flusher: Flusher, limit: int) -> None:
        self._send = send
        self._receive = receive
        self.actor = actor
        self.fanout = fanout
        self.flusher = flusher
        self.limit = limit
        self._queue: deque[tuple[int, str, Gate | None]] = deque()
        self._gates = 0
        """How many entries of the queue carry a gate (none: the plain, fast pump)."""
        self._closing = False
        self._closer: asyncio.Future[None] | None = None
        self._marked = False
        self._stalled: asyncio.Task[None] | None = None
        self._broken = False
        self._room = asyncio.Event()
        self._room.set()
        self._subs: dict[int, Subscription] = {}
        self._next_sid = 1

    # The outbound queue ---------------------------------------------------------------------

    def deliver(self, subscription: Subscription, frame: str) -> None:
        """Queue a data message of ``subscription``; on overflow drop the subscription."""
        if self._enqueue(subscription, frame, None):
            self._wake()

    def deliver_later(self, subscription: Subscription, frame: str, delay: float) -> None:
        """Queue a data message that leaves no sooner than ``delay`` seconds from now.

        Frames queued after it wait behind it, so every sid keeps its order.
        """
        gate = Gate(shut=True)
        if self._enqueue(subscription, frame, gate):
            self._gates += 1
            asyncio.get_running_loop().call_later(delay, self._open, gate)
            self._wake()

    def _enqueue(self, subscription: Subscription, frame: str, gate: Gate | None) -> bool:
        """Queue a frame; return False if it was not (closing, or the queue overflowed)."""
        if self._broken or self._closing:
            return False
        queue = self._queue
        if len(queue) >= self.limit:
            self._overflow(subscription)
            return False
        queue.append((subscription.sid, frame, gate))
        if len(queue) >= self.limit:
            self._room.clear()
        return True

    def close(self, code: int) -> None:
        """Close the connection with ``code`` once the frames queued so far are sent."""
        if self._broken or self._closing:
            return
        self._closing = True
        self._queue.append((0, "", Gate(shut=False, close_code=code)))
        self._gates += 1
        self._wake()

    def _open(self, gate: Gate) -> None:
        gate.shut = False
        self._wake()

    def _wake(self) -> None:
        if not self._marked and self._stalled is None and not self._broken:
            self._marked = True
            self.flusher.mark(self)

    def _overflow(self, subscription: Subscription) -> None:
        sid = subscription.sid
        self._drop(subscription)
        kept = [item for item in self._queue if item[0] != sid]
        self._queue.clear()
        self._queue.extend(kept)
        self._gates = sum(1 for item in kept if item[2] is not None)
        if len(self._queue) < self.limit:
            self._room.set()
        log.warning("websocket subscription %d (%s) of user %s dropped: %d messages waiting",
                    sid, subscription.channel, self.actor.user_id, self.limit)
        self._control({"type": "error", "sid": sid,
                       "msg": CommandError(BUFFER_OVERFLOW).body()})

    def _control(self, reply: dict[str, Any]) -> None:
        """Queue a reply; replies are few and bounded by the commands read."""
        self._queue.append((0, _encode(reply).decode(), None))
        if not self._marked and self._stalled is None and not self._broken:
            self._marked = True
            self.flusher.mark(self)

    def pump(self) -> None:
        """Write queued frames until the queue is empty or the transport pushes back."""
        self._marked = False
        queue = self._queue
        if self._gates:
            self._pump_gated()
        else:
            while queue and self._stalled is None and not self._broken:
                self._write(queue.popleft()[1])
        if not self._room.is_set() and len(queue) < self.limit:
            self._room.set()

    def _pump_gated(self) -> None:
        """Write queued frames up to the first shut gate; close the connection at a close."""
        queue = self._queue
        while queue and self._stalled is None and not self._broken:
            gate = queue[0][2]
            if gate is not None:
                if gate.shut:
                    return
                self._gates -= 1
                if gate.close_code is not None:
                    self._shut_down(gate.close_code)
                    return
            self._write(queue.popleft()[1])

    def _shut_down(self, code: int) -> None:
        """Close the connection from the server's side and send nothing more."""
        self._broken = True
        self._queue.clear()
        self._gates = 0
        self._room.set()
        self._closer = asyncio.ensure_future(self._send_close(code))

    async def _send_close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": code})

    def _write(self, text: str) -> None:
        sending = self._send({"type": "websocket.send", "text": text})
        if not isinstance(sending, Coroutine):
            self._stalled = asyncio.ensure_future(self._finish(sending))
            return
        try:
            waiting_on = sending.send(None)
        except StopIteration:
            return
        except Exception:
            self._break()
            return
        self._stalled = asyncio.get_running_loop().create_task(
            self._resume(sending, waiting_on))

    async def _finish(self, sending: Awaitable[None]) -> None:
        try:
            await sending
        except Exception:
            self._break()
            return
        self._stalled = None
        self.pump()

    async def _resume(self, sending: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        """Drive a send that had to wait to its end (as a task would), then go on pumping."""
        try:
            while True:
                if waiting_on is not None:
                    # Wait for what the send waits on without taking its outcome: stepping
                    # the send again hands it the result or the exception.
                    await asyncio.wait((waiting_on,))
                waiting_on = sending.send(None)
        except StopIteration:
            pass
        except Exception:
            self._break()
            return
        finally:
            sending.close()
        self._stalled = None
        self.pump()

    def _break(self) -> None:
        """Stop writing to a connection whose client is gone."""
        log.debug("websocket of user %s: sending failed, the client is gone",
                  self.actor.user_id)
        self._broken = True
        self._queue.clear()
        self._gates = 0
        self._room.set()

    # The connection ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Read commands until the client leaves; then drop every subscription."""
        try:
            while True:
                message = await self._receive()
                if message["type"] == "websocket.disconnect" or self._broken:
                    break
                text = message.get("text")
                if text is None:
                    raw = message.get("bytes") or b""
                    try:
                        text = raw.decode()
                    except UnicodeDecodeError:
                        text = ""
                await self._room.wait()
                self.handle(text)
        finally:
            for subscription in list(self._subs.values()):
                self.fanout.remove(subscription)
            self._subs.clear()
            self._broken = True
            self._queue.clear()
            self._gates = 0
            if self._closer is not None:
                await self._closer
            if self._stalled is not None:
                self._stalled.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._stalled

    # Commands ---------------------------------------------------------------------------------

    def handle(self, text: str) -> None:
        """Apply one command and queue its replies."""
        command_id: int | None = None
        try:
            try:
                data = _decode(text)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                # RecursionError: arrays or objects nested too deeply to decode.
                raise CommandError(1) from None
            if not isinstance(data, dict):
                raise CommandError(1)
            raw_id = data.get("id")
            if raw_id is not None and not _is_int(raw_id):
                raise CommandError(1, "id must be an integer")
            command_id = raw_id or None
            cmd = data.get("cmd")
            if cmd is not None and not isinstance(cmd, str):
                raise CommandError(1, "cmd must be a string")
            params = data.get("params")
            if params is not None and not isinstance(params, dict):
                raise CommandError(1, "params must be an object")
            if cmd == "subscribe":
                self._subscribe(command_id, params)
            elif cmd == "unsubscribe":
                self._unsubscribe(command_id, params)
            elif cmd == "list_subscriptions":
                self._reply(command_id, {"type": "ok", "msg": [
                    sub.describe() for sub in self._subs.values()]})
            elif cmd == "update_subscription":
                self._update(command_id, params)
            else:
                raise CommandError(5)
        except CommandError as error:
            self._error(command_id, error)
        except Exception:
            log.exception("websocket command failed: %.200s", text)
            self._error(command_id, CommandError(17))

    def _reply(self, command_id: int | None, reply: dict[str, Any]) -> None:
        self._control({"id": command_id, **reply} if command_id else reply)

    def _error(self, command_id: int | None, error: CommandError) -> None:
        self._reply(command_id, {"type": "error", "msg": error.body()})

    def _subscribe(self, command_id: int | None, params: dict[str, Any] | None) -> None:
        if params is None:
            raise CommandError(2)
        channels = params.get("channels")
        if channels is None or channels == []:
            raise CommandError(3)
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise CommandError(1, "channels must be an array of strings")
        for channel in channels:
            if channel not in KALSHI_CHANNELS:
                raise CommandError(8, channel)
        factor, key = _shard(params)
        only_own = _user_filter(params)
        markets = _markets(params)
        taken = {sub.channel for sub in self._subs.values()}
        for channel in dict.fromkeys(channels):
            if channel not in SERVED_CHANNELS:
                self._error(command_id, CommandError(
                    10, f"the sandbox does not serve the {channel} channel yet"))
                continue
            if channel in taken:
                self._error(command_id, CommandError(6))
                continue
            communications = channel == COMMUNICATIONS
            if channel == ORDERBOOK and not markets:
                self._error(command_id, CommandError(14))
                continue
            subscription = Subscription(
                sid=self._next_sid, channel=channel, user_id=self.actor.user_id,
                outbox=self, shard_factor=factor if communications else 1,
                shard_key=key if communications else 0,
                only_own_rfqs=only_own and communications,
                # Order groups belong to no market and lifecycle channels carry every
                # market: their updates are never filtered by one.
                markets=(None if communications or channel in UNFILTERED or markets is None
                         else set(markets)),
                use_yes_price=params.get("use_yes_price") is True,
            )
            self._next_sid += 1
            self._subs[subscription.sid] = subscription
            taken.add(channel)
            # Register and acknowledge without yielding: no message of this sid can be
            # queued ahead of its "subscribed".
            self.fanout.add(subscription)
            self._reply(command_id, {"type": "subscribed", "msg": subscription.describe()})
            if channel == ORDERBOOK:
                # Synchronously after the ack: no delta can slip between the two.
                for ticker in markets or ():
                    self.fanout.snapshot(subscription, ticker)

    def _sids(self, params: dict[str, Any] | None) -> list[int]:
        if params is None:
            raise CommandError(2)
        sids = params.get("sids")
        if sids is None or sids == []:
            raise CommandError(4)
        if not isinstance(sids, list) or not all(_is_int(s) for s in sids):
            raise CommandError(1, "sids must be an array of integers")
        return list(sids)

    def _drop(self, subscription: Subscription) -> None:
        self.fanout.remove(subscription)
        self._subs.pop(subscription.sid, None)

    def _unsubscribe(self, command_id: int | None, params: dict[str, Any] | None) -> None:
        for sid in dict.fromkeys(self._sids(params)):
            subscription = self._subs.get(sid)
            if subscription is None:
                self._error(command_id, CommandError(7, str(sid)))
                continue
            self._drop(subscription)
            # The acknowledgement takes the sid's next number, so a client that checks every
            # frame of a sid for gaps sees none.
            subscription.seq += 1
            self._reply(command_id, {"sid": sid, "seq": subscription.seq,
                                     "type": "unsubscribed"})

    def _update(self, command_id: int | None, params: dict[str, Any] | None) -> None:
        if params is None:
            raise CommandError(2)
        sids = params.get("sids")
        if sids is None and _is_int(params.get("sid")):
            sids = [params["sid"]]
        if not isinstance(sids, list) or len(sids) != 1 or not _is_int(sids[0]):
            raise CommandError(12)
        subscription = self._subs.get(sids[0])
        if subscription is None:
            raise CommandError(7, str(sids[0]))
        action = params.get("action")
        if action is None or action == "":
            raise CommandError(15)
        if action not in UPDATE_ACTIONS:
            raise CommandError(13, str(action))
        if subscription.channel == COMMUNICATIONS or action == "get_snapshot":
            raise CommandError(13, f"{action} does not apply to {subscription.channel}")
        markets = _markets(params)
        if not markets:
            raise CommandError(14)
        if action == "add_markets":
            if subscription.markets is not None:
                subscription.markets.update(markets)
        elif subscription.markets is None:
            raise CommandError(13, "the subscription covers every market")
        else:
            subscription.markets.difference_update(markets)
        tickers = None if subscription.markets is None else sorted(subscription.markets)
        self._reply(command_id, {"sid": subscription.sid, "type": "ok",
                                 "msg": {"market_tickers": tickers}})


def _shard(params: dict[str, Any]) -> tuple[int, int]:
    factor = params.get("shard_factor")
    key = params.get("shard_key")
    if factor is not None and not _is_int(factor):
        raise CommandError(1, "shard_factor must be an integer")
    if key is not None and not _is_int(key):
        raise CommandError(1, "shard_key must be an integer")
    if factor is None:
        if key is not None:
            raise CommandError(20)
        return 1, 0
    if factor <= 0:
        raise CommandError(19)
    if factor > MAX_SHARD_FACTOR:
        raise CommandError(22)
    key = 0 if key is None else key
    if not 0 <= key < factor:
        raise CommandError(21)
    return factor, key


def _user_filter(params: dict[str, Any]) -> bool:
    value = params.get("user_filter")
    if value is None or value == "":
        return False
    if not isinstance(value, str):
        raise CommandError(1, "user_filter must be a string")
    if value != "self":
        raise CommandError(11, "user_filter must be \"\" or \"self\"")
    return True


def _markets(params: dict[str, Any]) -> list[str] | None:
    tickers: list[str] = []
    single = params.get("market_ticker")
    many = params.get("market_tickers")
    if single is not None:
        if not isinstance(single, str):
            raise CommandError(1, "market_ticker must be a string")
        tickers.append(single)
    if many is not None:
        if not isinstance(many, list) or not all(isinstance(t, str) for t in many):
            raise CommandError(1, "market_tickers must be an array of strings")
        tickers.extend(many)
    return tickers or None
