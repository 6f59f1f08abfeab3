"""A connection's outbound queue when the transport pushes back, driven in-process.

A real client only makes uvicorn's transport push back after megabytes of unread data, too
slow for a test, so here the server's ``send`` is a coroutine that waits while a "writable"
flag is down, exactly as uvicorn's does. The fanout, the events and the sessions are real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from kalshi_sandbox.api.ws.fanout import Fanout
from kalshi_sandbox.api.ws.session import Flusher, Message, Session
from kalshi_sandbox.domain.clock import ManualClock
from kalshi_sandbox.domain.events import RfqCreated
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.exchange.commands import Actor

START = 1_800_000_000_000_000


class Transport:
    """The server side of one connection: frames written, and whether writes must wait."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()

    async def send(self, message: Message) -> None:
        await self.writable.wait()
        if self.gone:
            raise ConnectionResetError("the client is gone")
        self.frames.append(json.loads(message["text"]))

    async def receive(self) -> Message:
        return await self.inbox.get()

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.frames if f.get("type") == "rfq_created"]


def _rfq(number: int) -> Rfq:
    return Rfq(id=f"rfq-{number}", creator_user_id="requester", creator_id="c" * 64,
               creator_subaccount=0, market_ticker="KXT-1", event_ticker="KXT",
               contracts=1000, target_cost=None, target_cost_excludes_fees=False,
               rest_remainder=False, obscure_creator_id=False, status=RfqStatus.OPEN,
               created_ts=START, updated_ts=START)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _run(scenario: Callable[[Fanout, Session, Transport], Awaitable[None]],
         limit: int = 100) -> None:
    async def main() -> None:
        fanout = Fanout(ManualClock(START))
        transport = Transport()
        session = Session(transport.send, transport.receive, Actor("maker", "m" * 64), fanout,
                          Flusher(), limit)
        session.handle('{"id": 1, "cmd": "subscribe", "params": {"channels": '
                       '["communications"]}}')
        await _settle()
        assert transport.frames == [{"id": 1, "type": "subscribed",
                                     "msg": {"channel": "communications", "sid": 1}}]
        await scenario(fanout, session, transport)

    asyncio.run(main())


def test_frames_written_while_the_transport_waits_go_out_in_order_once_it_drains() -> None:
    async def scenario(fanout: Fanout, session: Session, transport: Transport) -> None:
        transport.writable.clear()
        for number in range(1, 6):
            fanout.publish([RfqCreated(_rfq(number))])
        await _settle()
        assert transport.seqs() == []
        fanout.publish([RfqCreated(_rfq(6))])
        transport.writable.set()
        await _settle()
        assert transport.seqs() == [1, 2, 3, 4, 5, 6]
        assert [f["msg"]["id"] for f in transport.frames[1:]] == [
            f"rfq-{n}" for n in range(1, 7)]
        fanout.publish([RfqCreated(_rfq(7))])
        await _settle()
        assert transport.seqs() == [1, 2, 3, 4, 5, 6, 7]

    _run(scenario)


def test_a_queue_full_behind_a_waiting_transport_drops_the_subscription_with_code_25() -> None:
    async def scenario(fanout: Fanout, session: Session, transport: Transport) -> None:
        transport.writable.clear()
        fanout.publish([RfqCreated(_rfq(1))])
        await _settle()  # frame 1 is in flight, waiting on the transport
        fanout.publish([RfqCreated(_rfq(n)) for n in range(2, 12)])
        assert fanout.subscriptions == 0
        transport.writable.set()
        await _settle()
        assert transport.frames[1:] == [
            {**transport.frames[1], "seq": 1},
            {"type": "error", "sid": 1,
             "msg": {"code": 25, "msg": "Subscription buffer overflow"}},
        ]
        fanout.publish([RfqCreated(_rfq(12))])
        await _settle()
        assert len(transport.frames) == 3

    _run(scenario, limit=4)


def test_commands_wait_while_the_queue_is_full_and_resume_when_it_drains() -> None:
    async def scenario(fanout: Fanout, session: Session, transport: Transport) -> None:
        reader = asyncio.ensure_future(session.run())
        transport.writable.clear()
        fanout.publish([RfqCreated(_rfq(1))])
        await _settle()
        fanout.publish([RfqCreated(_rfq(n)) for n in range(2, 5)])
        await _settle()
        # One frame is in flight and three are queued: the queue (limit 3) is full, so the
        # next command is not applied yet.
        await transport.inbox.put({"type": "websocket.receive", "text": json.dumps(
            {"id": 2, "cmd": "subscribe", "params": {"channels": ["fill"]}})})
        await _settle()
        assert fanout.subscriptions == 1
        transport.writable.set()
        await _settle()
        assert fanout.subscriptions == 2
        assert transport.seqs() == [1, 2, 3, 4]
        assert transport.frames[-1] == {"id": 2, "type": "subscribed",
                                        "msg": {"channel": "fill", "sid": 2}}
        await transport.inbox.put({"type": "websocket.disconnect", "code": 1000})
        await reader
        assert fanout.subscriptions == 0

    _run(scenario, limit=3)


def test_a_client_gone_mid_send_stops_the_writes_without_error() -> None:
    async def scenario(fanout: Fanout, session: Session, transport: Transport) -> None:
        transport.writable.clear()
        fanout.publish([RfqCreated(_rfq(1)), RfqCreated(_rfq(2))])
        await _settle()
        transport.gone = True
        transport.writable.set()
        await _settle()
        fanout.publish([RfqCreated(_rfq(3))])
        await _settle()
        assert transport.seqs() == []

    _run(scenario)
