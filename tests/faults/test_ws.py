"""Fault rules on Kalshi's WebSocket: lost messages leave a seq gap, held-back messages keep
their order, a closed connection says so, and a faulted handshake is refused over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import HVM_MARKET, MARKET
from tests.faults.conftest import Faults
from tests.faults.support import RATE_LIMITED, nested
from tests.support.server import Control, ServerProcess
from tests.ws.client import WS_PATH, OpenSocket, WsClient, open_ws, signed_headers


def _kinds(frames: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(f["type"], f["sid"], f["seq"]) for f in frames]


def test_dropped_message_spends_its_seq_so_the_client_sees_a_gap(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws_r, ws_m = sockets(requester), sockets(maker)
    r = ws_r.subscribe("communications")["communications"]
    m = ws_m.subscribe("communications")["communications"]
    rule = faults.add({"type": "ws_drop", "message_types": ["quote_created"]},
                      match={"account": "maker"})

    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id, "yes")

    assert _kinds(ws_m.drain()) == [("rfq_created", m, 1), ("quote_accepted", m, 3)]
    assert ws_m.gaps == [(m, 2, 3)]
    assert _kinds(ws_r.drain()) == [("rfq_created", r, 1), ("quote_created", r, 2),
                                    ("quote_accepted", r, 3)]
    assert ws_r.gaps == []
    assert faults.get(rule["id"])["hits"] == 1
    # Losing a message changes no state.
    assert maker.quote(quote_id)["status"] == "accepted"


def test_drop_by_market_loses_only_that_markets_messages(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    ws = sockets(control.trader("watcher"))
    sid = ws.subscribe("communications")["communications"]
    faults.add({"type": "ws_drop"}, match={"market": HVM_MARKET})

    requester.create_rfq(HVM_MARKET)
    requester.create_rfq(MARKET)

    frames = ws.drain()
    assert _kinds(frames) == [("rfq_created", sid, 2)]
    assert frames[0]["msg"]["market_ticker"] == MARKET
    assert ws.gaps == [(sid, 1, 2)]


def test_drop_with_a_count_loses_that_many_messages_then_none(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    ws = sockets(requester)
    sid = ws.subscribe("communications")["communications"]
    rule = faults.add({"type": "ws_drop"}, count=1)

    first = requester.create_rfq(MARKET)
    requester.delete(f"/communications/rfqs/{first}")
    requester.create_rfq(MARKET)

    assert _kinds(ws.drain()) == [("rfq_deleted", sid, 2), ("rfq_created", sid, 3)]
    assert faults.get(rule["id"])["remaining"] == 0


def test_drop_of_private_channels_matches_fill_and_user_order_types(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws = sockets(maker)
    sids = ws.subscribe("communications", "fill", "user_orders")
    faults.add({"type": "ws_drop", "message_types": ["fill"]}, match={"account": "maker"})

    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id, "yes")
    maker.confirm(rfq_id, quote_id)
    control.advance(15)

    kinds = _kinds(ws.drain())
    assert ("user_order", sids["user_orders"], 1) in kinds
    assert [k for k in kinds if k[0] == "fill"] == []
    assert ws.gaps == []
    # The fill exists; only its message was lost.
    assert len(maker.get("/portfolio/fills").json()["fills"]) == 1


def test_delayed_message_arrives_no_sooner_than_the_delay_and_keeps_its_order(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws = sockets(requester)
    sid = ws.subscribe("communications")["communications"]
    rule = faults.add({"type": "ws_delay", "ms": 400, "message_types": ["quote_accepted"]},
                      match={"account": "requester"})
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    assert _kinds(ws.drain()) == [("rfq_created", sid, 1), ("quote_created", sid, 2)]

    started = time.monotonic()
    requester.accept(rfq_id, quote_id, "yes")
    requester.delete(f"/communications/rfqs/{rfq_id}")
    accepted = ws.recv()
    took = time.monotonic() - started

    assert (accepted["type"], accepted["seq"]) == ("quote_accepted", 3)
    assert took >= 0.4
    # What was queued behind the held message follows it, in order.
    assert _kinds(ws.drain()) == [("rfq_deleted", sid, 4)]
    assert ws.gaps == []
    rendered = faults.get(rule["id"])
    assert rendered["hits"] == 1
    assert rendered["action"] == {"type": "ws_delay", "ms": 400,
                                  "message_types": ["quote_accepted"]}


def test_delay_holds_later_frames_of_the_connection_behind_the_delayed_one(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    ws = sockets(requester)
    sid = ws.subscribe("communications")["communications"]
    faults.add({"type": "ws_delay", "ms": 300}, count=1)

    started = time.monotonic()
    requester.create_rfq(MARKET)
    requester.create_rfq(HVM_MARKET)
    reply_id = ws.command("list_subscriptions")
    frames = [ws.recv(), ws.recv()]
    took = time.monotonic() - started
    reply = ws.recv()

    assert _kinds(frames) == [("rfq_created", sid, 1), ("rfq_created", sid, 2)]
    assert [f["msg"]["market_ticker"] for f in frames] == [MARKET, HVM_MARKET]
    assert took >= 0.3
    assert reply["id"] == reply_id
    assert ws.gaps == []


def _close_code(client: WsClient) -> int | None:
    """Read frames until the server closes the connection; return the close code it sent."""
    while True:
        try:
            client.recv()
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code


def test_close_closes_the_recipients_connection_instead_of_sending_the_message(
        control: Control, faults: Faults, sockets: OpenSocket, server: ServerProcess) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws_r, ws_m = sockets(requester), sockets(maker)
    r = ws_r.subscribe("communications")["communications"]
    ws_m.subscribe("communications")
    rule = faults.add({"type": "ws_close", "message_types": ["rfq_created"]},
                      match={"account": "maker"}, count=1)

    rfq_id = requester.create_rfq(MARKET)

    assert _close_code(ws_m) == 1001
    assert _kinds(ws_r.drain()) == [("rfq_created", r, 1)]
    assert faults.get(rule["id"])["hits"] == 1
    # A reconnecting bot subscribes again and hears what follows; the RFQ is untouched.
    with open_ws(server.base_url, maker.account) as again:
        sid = again.subscribe("communications")["communications"]
        requester.delete(f"/communications/rfqs/{rfq_id}")
        assert _kinds(again.drain()) == [("rfq_deleted", sid, 1)]
    assert requester.rfq(rfq_id)["status"] == "closed"


def test_close_sends_the_code_the_rule_gives(control: Control, faults: Faults,
                                             sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    ws = sockets(requester)
    ws.subscribe("communications")
    faults.add({"type": "ws_close", "code": 4000})

    requester.create_rfq(MARKET)

    assert _close_code(ws) == 4000


def _refused(server: ServerProcess, headers: dict[str, str]) -> tuple[int, Any]:
    with pytest.raises(InvalidStatus) as refused, open_ws(server.base_url, None, headers):
        pass
    response = refused.value.response
    assert "Upgrade" not in response.headers
    return response.status_code, json.loads(bytes(response.body or b""))


def test_error_rule_on_the_websocket_path_refuses_the_handshake(
        control: Control, faults: Faults, server: ServerProcess) -> None:
    trader = control.trader("alice")
    faults.add({"type": "error", "status": 503}, match={"path": WS_PATH}, count=1)

    assert _refused(server, signed_headers(trader.account)) == (
        503, nested(503, "service_unavailable", "service unavailable"))
    with open_ws(server.base_url, trader.account) as client:
        assert client.reply(client.command("list_subscriptions"))["msg"] == []


def test_rate_limit_rule_refuses_the_handshake_with_429(
        control: Control, faults: Faults, server: ServerProcess) -> None:
    trader = control.trader("alice")
    faults.add({"type": "rate_limit"}, match={"path": WS_PATH, "account": "alice"})

    assert _refused(server, signed_headers(trader.account)) == (429, RATE_LIMITED)


def test_header_fault_refuses_the_handshake(control: Control, server: ServerProcess) -> None:
    trader = control.trader("alice")
    headers = {**signed_headers(trader.account), "X-Sandbox-Fault": "error=500"}
    assert _refused(server, headers) == (
        500, nested(500, "internal_server_error", "internal server error"))


def test_latency_rule_delays_the_handshake(control: Control, faults: Faults,
                                           server: ServerProcess) -> None:
    trader = control.trader("alice")
    faults.add({"type": "latency", "ms": 250}, match={"path": WS_PATH})

    started = time.monotonic()
    with open_ws(server.base_url, trader.account) as client:
        took = time.monotonic() - started
        assert client.reply(client.command("list_subscriptions"))["msg"] == []
    assert took >= 0.25
