"""The subscription's protocol handling against a scripted WebSocket server.

The sandbox never skips a ``seq`` and never drops a connection on purpose, so these cases use a
small server that speaks Kalshi's WebSocket protocol and misbehaves on cue: it skips ``seq`` 3,
then cuts the connection without a close frame, then expects the client to come back and
subscribe again. The handshake signature is checked as strictly as Kalshi does.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    AuthenticationError,
    KalshiConnectionError,
    Reconnected,
    RfqCreated,
    SequenceGap,
    StreamError,
    Subscribed,
)
from tests.client.streams import Collector

KEY_ID = "11111111-2222-4333-8444-555555555555"
PSS_32 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def rfq(seq: int, sid: int, ident: str) -> str:
    return json.dumps({"type": "rfq_created", "sid": sid, "seq": seq, "msg": {
        "id": ident, "creator_id": "comm_abc123", "market_ticker": "KXEXAMPLE-26SEP01-T50",
        "created_ts": "2026-09-01T00:00:00Z", "contracts_fp": "10.00"}})


@dataclass
class ScriptedServer:
    """Counts connections and the subscribe commands each one sent."""

    key: rsa.RSAPublicKey
    subscribes: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    refuse_subscribe: bool = False
    hold: bool = False

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        headers = request.headers
        timestamp = headers.get("KALSHI-ACCESS-TIMESTAMP", "")
        message = f"{timestamp}GET{request.path}".encode()
        try:
            signature = base64.b64decode(headers.get("KALSHI-ACCESS-SIGNATURE", ""))
            self.key.verify(signature, message, PSS_32, hashes.SHA256())
        except Exception:
            body = json.dumps({"error": {"code": "authentication_error",
                                         "message": "authentication_error",
                                         "details": "INCORRECT_API_KEY_SIGNATURE"}})
            return Response(401, "Unauthorized", Headers([("Content-Type", "application/json")]),
                            body.encode())
        assert headers["KALSHI-ACCESS-KEY"] == KEY_ID
        assert request.path == "/trade-api/ws/v2"
        return None

    async def handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        sid = self.connections * 10
        command = json.loads(await ws.recv())
        self.subscribes.append(command)
        if self.refuse_subscribe:
            await ws.send(json.dumps({"id": command["id"], "type": "error",
                                      "msg": {"code": 8, "msg": "Unknown channel name"}}))
            await ws.wait_closed()
            return
        await ws.send(json.dumps({"id": command["id"], "type": "subscribed",
                                  "msg": {"channel": "communications", "sid": sid}}))
        if self.hold:
            await ws.wait_closed()
            return
        if self.connections == 1:
            for seq in (1, 2, 4):  # seq 3 is lost
                await ws.send(rfq(seq, sid, f"first-{seq}"))
            await asyncio.sleep(0.05)
            ws.transport.abort()  # no close frame: the network "fails"
            return
        await ws.send(rfq(1, sid, "second-1"))
        await ws.wait_closed()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@asynccontextmanager
async def scripted(key: rsa.RSAPrivateKey, **options: Any
                   ) -> AsyncIterator[tuple[ScriptedServer, str]]:
    script = ScriptedServer(key.public_key(), **options)
    async with serve(script.handle, "127.0.0.1", 0, process_request=script.check) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield script, f"http://127.0.0.1:{port}"


def _client(base_url: str, key: rsa.RSAPrivateKey) -> AsyncKalshiClient:
    return AsyncKalshiClient(base_url=base_url, key_id=KEY_ID, private_key=key,
                             credentials_from_env=False)


def test_gap_is_reported_then_a_dropped_connection_is_reopened_and_resubscribed(
        key: rsa.RSAPrivateKey) -> None:
    async def scenario() -> None:
        async with scripted(key) as (script, url), _client(url, key) as client:
            feed = Collector(client.subscribe("communications", backoff=0.01))
            try:
                assert await feed.expect(Subscribed) == Subscribed("communications", 10)
                assert (await feed.expect(RfqCreated)).seq == 1
                assert (await feed.expect(RfqCreated)).seq == 2
                gap = await feed.expect(SequenceGap)
                assert (gap.sid, gap.expected, gap.received, gap.missed) == (10, 3, 4, 1)
                assert (await feed.expect(RfqCreated)).id == "first-4"
                reconnected = await feed.expect(Reconnected)
                assert "connection lost" in reconnected.reason
                assert await feed.expect(Subscribed) == Subscribed("communications", 20)
                # A new sid starts its own sequence at 1: no gap is reported for it.
                assert (await feed.expect(RfqCreated)).id == "second-1"
                assert feed.subscription.gaps == 1
                assert feed.subscription.sids == {"communications": 20}
            finally:
                await feed.close()
        kinds = [type(e).__name__ for e in feed.seen]
        assert kinds == ["Subscribed", "RfqCreated", "RfqCreated", "SequenceGap", "RfqCreated",
                         "Reconnected", "Subscribed", "RfqCreated"]
        assert [c["cmd"] for c in script.subscribes] == ["subscribe", "subscribe"]
        assert script.subscribes[0]["params"] == {"channels": ["communications"]}
        assert script.subscribes[0]["id"] != script.subscribes[1]["id"]

    asyncio.run(scenario())


def test_handshake_with_the_wrong_key_raises_authentication_error_without_retrying(
        key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    async def scenario() -> None:
        async with scripted(key) as (script, url), _client(url, other) as client:
            with pytest.raises(AuthenticationError) as raised:
                async for _ in client.subscribe():
                    pass
            assert raised.value.details == "INCORRECT_API_KEY_SIGNATURE"
            assert raised.value.hint is not None
            assert "'/trade-api/ws/v2'" in raised.value.hint
            assert script.connections == 0

    asyncio.run(scenario())


def test_error_reply_to_subscribe_raises_stream_error(key: rsa.RSAPrivateKey) -> None:
    async def scenario() -> None:
        async with scripted(key, refuse_subscribe=True) as (_, url), _client(url, key) as client:
            with pytest.raises(StreamError) as raised:
                async for _ in client.subscribe("communications"):
                    pass
            assert (raised.value.code, raised.value.message) == (8, "Unknown channel name")

    asyncio.run(scenario())


def test_reconnecting_gives_up_after_the_attempt_limit_when_the_server_is_gone(
        key: rsa.RSAPrivateKey) -> None:
    async def scenario() -> None:
        server = scripted(key, hold=True)
        _, url = await server.__aenter__()
        async with _client(url, key) as client:
            subscription = client.subscribe(backoff=0.01, max_reconnect_attempts=2)
            assert isinstance(await subscription.__anext__(), Subscribed)
            await server.__aexit__(None, None, None)  # closes the connection and the port
            with pytest.raises(KalshiConnectionError, match="after 2 attempts"):
                async for _ in subscription:
                    pass

    asyncio.run(scenario())


def test_closing_a_subscription_from_another_task_ends_the_iteration(
        key: rsa.RSAPrivateKey) -> None:
    async def scenario() -> None:
        async with scripted(key, hold=True) as (_, url), _client(url, key) as client:
            subscription = client.subscribe()
            seen: list[object] = []
            first = asyncio.Event()

            async def read() -> None:
                async for event in subscription:
                    seen.append(event)
                    first.set()

            reader = asyncio.create_task(read())
            await asyncio.wait_for(first.wait(), 5)
            await subscription.close()
            await asyncio.wait_for(reader, 5)
            assert seen == [Subscribed("communications", 10)]
            assert subscription.reconnects == 0

    asyncio.run(scenario())
