"""Keep-alive and slow consumers, on a server with fast pings and a small outbound queue.

The server pings every 0.3 s with Kalshi's ``heartbeat`` payload and drops a client that has
not answered 0.6 s later; each connection may have 8 messages waiting, beyond which the
overflowing subscription is dropped with error 25. These are transport timings (uvicorn's
event loop), not exchange timers, so the tests wait on the socket for them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from typing import Any

import pytest

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    RfqCreated,
    RfqDeleted,
    Subscribed,
    SubscriptionDropped,
)
from tests.client.streams import Collector
from tests.support.server import Control, ServerProcess
from tests.ws.client import WS_PATH, open_ws, signed_headers
from tests.ws.conftest import PING_INTERVAL, PING_TIMEOUT, QUEUE_LIMIT

PING, CLOSE, TEXT = 0x9, 0x8, 0x1


class RawSocket:
    """A WebSocket client on a bare socket: it answers nothing unless told to."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        request = [f"GET {WS_PATH} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                   "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                   "Sec-WebSocket-Version: 13", *(f"{k}: {v}" for k, v in headers.items()),
                   "", ""]
        self.sock.sendall("\r\n".join(request).encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._read()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._read()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def frame(self) -> tuple[int, bytes]:
        """Return the next frame from the server as (opcode, payload)."""
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return first & 0x0F, self._take(length)

    def send_text(self, text: str) -> None:
        """Send a masked text frame (clients must mask)."""
        payload = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert len(payload) < 126
        self.sock.sendall(bytes([0x80 | TEXT, 0x80 | len(payload)]) + mask + masked)

    def at_eof(self) -> bool:
        """Return True once the server has closed the connection."""
        try:
            self.buffer += self._read()
        except EOFError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


def test_server_pings_with_heartbeat_and_drops_a_client_that_does_not_answer(
        fast: Control, fast_server: ServerProcess) -> None:
    raw = RawSocket(fast_server.port, signed_headers(fast.trader("alice").account))
    try:
        assert raw.frame() == (PING, b"heartbeat")
        opcode, payload = raw.frame()
        assert opcode == CLOSE
        assert struct.unpack("!H", payload[:2])[0] == 1011
        assert raw.at_eof()
    finally:
        raw.close()


def test_server_answers_client_pings_and_keeps_a_client_that_answers(
        fast: Control, fast_server: ServerProcess) -> None:
    with open_ws(fast_server.base_url, fast.trader("alice").account) as client:
        for _ in range(4):
            assert client.connection.ping(b"are you there").wait(5)
        # Several ping intervals pass while the client library answers the server's pings.
        with pytest.raises(TimeoutError):
            client.recv(timeout=3 * (PING_INTERVAL + PING_TIMEOUT))
        assert client.reply(client.command("list_subscriptions"))["type"] == "ok"


def test_a_client_that_stops_reading_holds_up_no_one_and_is_dropped(
        fast: Control, fast_server: ServerProcess) -> None:
    fast.market("KXKEEP-26DEC31-T1")
    requester = fast.trader("requester")
    stalled = RawSocket(fast_server.port, signed_headers(fast.trader("stalled").account))
    try:
        stalled.send_text('{"id":1,"cmd":"subscribe","params":{"channels":["communications"]}}')
        with open_ws(fast_server.base_url, fast.trader("reader").account) as reader:
            sid = reader.subscribe("communications")["communications"]
            for _ in range(10):
                rfq_id = requester.create_rfq("KXKEEP-26DEC31-T1")
                assert requester.delete(f"/communications/rfqs/{rfq_id}").status_code == 204
            frames = reader.drain()
            assert [(f["type"], f["seq"]) for f in frames] == [
                (kind, n) for n in range(1, 21)
                for kind in ["rfq_created" if n % 2 else "rfq_deleted"]]
            assert {f["sid"] for f in frames} == {sid}
            # The stalled client never answers a ping, so the server closes it.
            while True:
                opcode, _ = stalled.frame()
                if opcode == CLOSE:
                    break
            assert stalled.at_eof()
            assert reader.reply(reader.command("list_subscriptions"))["msg"] == [
                {"channel": "communications", "sid": sid}]
    finally:
        stalled.close()


def test_a_burst_beyond_the_queue_drops_that_subscription_with_code_25(
        fast: Control, fast_server: ServerProcess) -> None:
    tickers = [f"KXBURST-26DEC31-T{n}" for n in range(QUEUE_LIMIT + 2)]
    for ticker in tickers:
        fast.market(ticker)
    requester = fast.trader("requester")
    with open_ws(fast_server.base_url, fast.trader("maker").account) as maker:
        sids = maker.subscribe("communications", "fill")
        for ticker in tickers[:-1]:
            requester.create_rfq(ticker)
        assert len(maker.drain()) == QUEUE_LIMIT + 1
        # One transaction closes nine RFQs and opens one: ten messages at once.
        requester.create_rfq(tickers[-1], replace_existing=True)
        frames = maker.drain()
        assert frames == [{"type": "error", "sid": sids["communications"],
                           "msg": {"code": 25, "msg": "Subscription buffer overflow"}}]
        assert maker.reply(maker.command("list_subscriptions"))["msg"] == [
            {"channel": "fill", "sid": sids["fill"]}]
        again = maker.subscribe("communications")["communications"]
        requester.create_rfq(tickers[0])
        assert [(f["type"], f["sid"], f["seq"]) for f in maker.drain()] == [
            ("rfq_created", again, 1)]



def test_the_client_subscription_subscribes_again_after_code_25_and_reports_the_loss(
        fast: Control, fast_server: ServerProcess) -> None:
    tickers = [f"KXLOSS-26DEC31-T{n}" for n in range(QUEUE_LIMIT + 2)]
    for ticker in tickers:
        fast.market(ticker)
    requester = fast.trader("requester")
    maker = fast.trader("maker").account

    async def create(ticker: str, **extra: Any) -> str:
        # In a thread: the event loop keeps answering the server's fast pings meanwhile.
        return await asyncio.to_thread(requester.create_rfq, ticker, **extra)

    async def scenario() -> None:
        async with AsyncKalshiClient(base_url=fast_server.base_url, key_id=maker.key_id,
                                     private_key=maker.private_key_pem,
                                     credentials_from_env=False) as client:
            feed = Collector(client.subscribe("communications"))
            try:
                first = await feed.expect(Subscribed)
                for ticker in tickers[:-1]:
                    await feed.expect(RfqCreated, id=await create(ticker))
                # One transaction: nine rfq_deleted and one rfq_created, beyond the queue.
                await create(tickers[-1], replace_existing=True)
                dropped = await feed.expect(SubscriptionDropped)
                assert (dropped.channel, dropped.sid, dropped.code) == (
                    "communications", first.sid, 25)
                again = await feed.expect(Subscribed)
                assert again.channel == "communications"
                assert again.sid != first.sid
                rfq_id = await create(tickers[0])
                created = await feed.expect(RfqCreated, id=rfq_id)
                assert (created.sid, created.seq) == (again.sid, 1)
                assert feed.subscription.sids == {"communications": again.sid}
                assert feed.subscription.reconnects == 0
            finally:
                await feed.close()
        assert not any(isinstance(e, RfqDeleted) for e in feed.seen)

    asyncio.run(scenario())
