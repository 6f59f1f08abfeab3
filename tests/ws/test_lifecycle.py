"""The communications channel over whole RFQ lifecycles: a requester and two makers, each on
its own connection, get exactly the messages they are entitled to, in commit order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import HVM_MARKET, MARKET
from tests.support import postgres
from tests.support.server import Control, ServerProcess
from tests.ws.client import OpenSocket, WsClient, data, open_ws
from tests.ws.conftest import RFQ_TTL

OBSCURED = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ENVELOPE = {"type", "sid", "seq", "sending_ts_ms", "msg"}


def _text(frames: list[dict[str, Any]]) -> str:
    return json.dumps(frames)


def _check_envelopes(client: WsClient, frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        assert set(frame) == ENVELOPE, frame
        assert isinstance(frame["sending_ts_ms"], int)
    assert client.gaps == []



@pytest.fixture(scope="module", params=postgres.BACKENDS)
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """These lifecycles run on each database: on PostgreSQL every event reaches the
    WebSocket through the database's event table."""
    yield from postgres.serving(request.param, tmp_path_factory.mktemp(request.param),
                                "--clock", "manual", "--no-seed")


def test_full_lifecycle_reaches_each_party_in_order_and_nothing_of_the_rival_quote(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker1 = control.trader("maker1")
    maker2 = control.trader("maker2")
    ws_r, ws_1, ws_2 = sockets(requester), sockets(maker1), sockets(maker2)
    r = ws_r.subscribe("communications", "fill", "user_orders")
    m1 = ws_1.subscribe("communications", "fill", "user_orders")
    m2 = ws_2.subscribe("communications", "fill", "user_orders")

    rfq_id = requester.create_rfq(MARKET, "10")
    q1 = maker1.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    q2 = maker2.create_quote(rfq_id, yes_bid="0.38", no_bid="0.57")
    requester.accept(rfq_id, q1, "yes")
    maker1.confirm(rfq_id, q1)
    control.advance(15)

    got_r, got_1, got_2 = ws_r.drain(), ws_1.drain(), ws_2.drain()
    c, f, o = r["communications"], r["fill"], r["user_orders"]
    assert data(got_r) == [("rfq_created", c, 1), ("quote_created", c, 2),
                           ("quote_created", c, 3), ("quote_accepted", c, 4),
                           ("user_order", o, 1), ("fill", f, 1),
                           ("quote_executed", c, 5), ("rfq_deleted", c, 6)]
    c, f, o = m1["communications"], m1["fill"], m1["user_orders"]
    # The maker's order rests on the book first, then the requester's order fills it.
    assert data(got_1) == [("rfq_created", c, 1), ("quote_created", c, 2),
                           ("quote_accepted", c, 3), ("user_order", o, 1),
                           ("user_order", o, 2), ("fill", f, 1),
                           ("quote_executed", c, 4), ("rfq_deleted", c, 5)]
    c = m2["communications"]
    assert data(got_2) == [("rfq_created", c, 1), ("quote_created", c, 2),
                           ("rfq_deleted", c, 3)]
    for client, frames in ((ws_r, got_r), (ws_1, got_1), (ws_2, got_2)):
        _check_envelopes(client, frames)
    assert q2 not in _text(got_1)
    assert q1 not in _text(got_2)
    assert [g["msg"]["quote_id"] for g in got_r[1:3]] == [q1, q2]
    assert got_1[1]["msg"]["quote_id"] == q1
    assert got_2[1]["msg"]["quote_id"] == q2

    # Each party's quote_executed carries its own order, the one its fill belongs to.
    quote_for_requester = requester.quote(q1)
    quote_for_maker = maker1.quote(q1)
    executed_r, executed_1 = got_r[6]["msg"], got_1[6]["msg"]
    assert executed_r["order_id"] == quote_for_requester["rfq_creator_order_id"]
    assert executed_1["order_id"] == quote_for_maker["creator_order_id"]
    assert executed_r["client_order_id"].startswith("rfq:")
    assert executed_1["client_order_id"].startswith("quote:")
    assert executed_1["client_order_id"].endswith(f":{q1}")
    assert executed_r["executed_ts"] == quote_for_requester["executed_ts"]
    assert got_r[5]["msg"]["order_id"] == executed_r["order_id"]
    assert got_1[5]["msg"]["order_id"] == executed_1["order_id"]
    assert got_r[4]["msg"]["order_id"] == executed_r["order_id"]
    assert got_1[3]["msg"]["order_id"] == executed_1["order_id"]
    assert (got_1[3]["msg"]["status"], got_1[4]["msg"]["status"]) == ("resting", "executed")
    for message in (got_r[0], got_1[0], got_2[0], got_r[7], got_1[7], got_2[2]):
        assert message["msg"]["id"] == rfq_id
        assert message["msg"]["creator_id"] == requester.account.communications_id


def test_quote_accepted_payload_matches_kalshi_field_names(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws_m = sockets(maker)
    sid = ws_m.subscribe("communications")["communications"]
    rfq_id = requester.create_rfq(MARKET, "25")
    quote_id = maker.create_quote(rfq_id, yes_bid="0.42", no_bid="0.55")
    requester.accept(rfq_id, quote_id, "no")

    created, quote_created, accepted = ws_m.drain()
    rfq = requester.rfq(rfq_id)
    event = requester.get(f"/markets/{MARKET}").json()["market"]["event_ticker"]
    assert created == {
        "type": "rfq_created", "sid": sid, "seq": 1,
        "sending_ts_ms": created["sending_ts_ms"],
        "msg": {"id": rfq_id, "creator_id": requester.account.communications_id,
                "market_ticker": MARKET, "event_ticker": event,
                "contracts_fp": "25.00", "created_ts": rfq["created_ts"]},
    }
    quote = maker.quote(quote_id)
    assert quote_created["msg"] == {
        "quote_id": quote_id, "rfq_id": rfq_id,
        "quote_creator_id": maker.account.communications_id,
        "rfq_creator_id": requester.account.communications_id,
        "market_ticker": MARKET, "event_ticker": event,
        "yes_bid_dollars": "0.4200", "no_bid_dollars": "0.5500",
        "yes_contracts_offered_fp": "25.00", "no_contracts_offered_fp": "25.00",
        "created_ts": quote["created_ts"],
    }
    assert accepted["msg"] == {
        "quote_id": quote_id, "rfq_id": rfq_id,
        "quote_creator_id": maker.account.communications_id,
        "rfq_creator_id": requester.account.communications_id,
        "market_ticker": MARKET, "event_ticker": event,
        "yes_bid_dollars": "0.4200", "no_bid_dollars": "0.5500",
        "accepted_side": "no", "contracts_accepted_fp": "25.00",
        "yes_contracts_offered_fp": "25.00", "no_contracts_offered_fp": "25.00",
    }


def test_lapsed_window_sends_no_message_and_the_later_delete_reaches_everyone(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker1 = control.trader("maker1")
    maker2 = control.trader("maker2")
    ws_r, ws_1, ws_2 = sockets(requester), sockets(maker1), sockets(maker2)
    r = ws_r.subscribe("communications", "fill", "user_orders")["communications"]
    m1 = ws_1.subscribe("communications", "fill", "user_orders")["communications"]
    m2 = ws_2.subscribe("communications", "fill", "user_orders")["communications"]

    rfq_id = requester.create_rfq(MARKET, "10")
    q1 = maker1.create_quote(rfq_id)
    q2 = maker2.create_quote(rfq_id)
    requester.accept(rfq_id, q2, "yes")
    control.advance(30)
    late = maker2.put(f"/communications/rfqs/{rfq_id}/quotes/{q2}/confirm")
    assert late.status_code == 400, late.text
    assert maker2.quote(q2)["status"] == "cancelled"
    lapsed_r, lapsed_1, lapsed_2 = ws_r.drain(), ws_1.drain(), ws_2.drain()
    assert data(lapsed_r) == [("rfq_created", r, 1), ("quote_created", r, 2),
                              ("quote_created", r, 3), ("quote_accepted", r, 4)]
    assert data(lapsed_1) == [("rfq_created", m1, 1), ("quote_created", m1, 2)]
    assert data(lapsed_2) == [("rfq_created", m2, 1), ("quote_created", m2, 2),
                              ("quote_accepted", m2, 3)]

    assert requester.delete(f"/communications/rfqs/{rfq_id}").status_code == 204
    deleted = [ws_r.drain(), ws_1.drain(), ws_2.drain()]
    assert [data(frames) for frames in deleted] == [
        [("rfq_deleted", r, 5)], [("rfq_deleted", m1, 3)], [("rfq_deleted", m2, 4)]]
    assert all(frames[0]["msg"]["id"] == rfq_id for frames in deleted)
    for client in (ws_r, ws_1, ws_2):
        assert client.gaps == []
    assert q2 not in _text(lapsed_1 + deleted[1])
    assert q1 not in _text(lapsed_2 + deleted[2])


def test_obscured_creator_is_revealed_to_the_creator_and_the_executed_maker_only(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker1 = control.trader("maker1")
    maker2 = control.trader("maker2")
    ws_r, ws_1, ws_2 = sockets(requester), sockets(maker1), sockets(maker2)
    for client in (ws_r, ws_1, ws_2):
        client.subscribe("communications")
    real = requester.account.communications_id

    rfq_id = requester.create_rfq(MARKET, "10", obscure_creator_id=True)
    q1 = maker1.create_quote(rfq_id)
    maker2.create_quote(rfq_id)
    requester.accept(rfq_id, q1, "yes")
    maker1.confirm(rfq_id, q1)
    control.advance(15)

    got_r, got_1, got_2 = ws_r.drain(), ws_1.drain(), ws_2.drain()
    assert [f["msg"].get("creator_id", f["msg"].get("rfq_creator_id")) for f in got_r] == [
        real] * len(got_r)
    assert [(f["type"], f["msg"].get("creator_id", f["msg"].get("rfq_creator_id")))
            for f in got_1] == [("rfq_created", OBSCURED), ("quote_created", OBSCURED),
                                ("quote_accepted", OBSCURED), ("quote_executed", real),
                                ("rfq_deleted", real)]
    assert [(f["type"], f["msg"].get("creator_id", f["msg"].get("rfq_creator_id")))
            for f in got_2] == [("rfq_created", OBSCURED), ("quote_created", OBSCURED),
                                ("rfq_deleted", OBSCURED)]


# Every way an RFQ closes sends rfq_deleted -------------------------------------------------


def test_replacing_an_rfq_sends_rfq_deleted_before_the_new_rfq_created(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    ws = sockets(control.trader("maker"))
    sid = ws.subscribe("communications")["communications"]
    old = requester.create_rfq(MARKET)
    new = requester.create_rfq(HVM_MARKET, replace_existing=True)
    frames = ws.drain()
    assert [(f["type"], f["seq"], f["msg"]["id"]) for f in frames] == [
        ("rfq_created", 1, old), ("rfq_deleted", 2, old), ("rfq_created", 3, new)]
    assert {f["sid"] for f in frames} == {sid}


def test_a_market_leaving_active_sends_rfq_deleted(control: Control,
                                                   sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    ws = sockets(control.trader("maker"))
    ws.subscribe("communications")
    rfq_id = requester.create_rfq(MARKET)
    control.call("PATCH", f"/markets/{MARKET}", {"status": "closed"})
    assert [(f["type"], f["msg"]["id"]) for f in ws.drain()] == [
        ("rfq_created", rfq_id), ("rfq_deleted", rfq_id)]


def test_a_failed_execution_sends_rfq_deleted_and_no_quote_executed_or_fill(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws_r, ws_m = sockets(requester), sockets(maker)
    for client in (ws_r, ws_m):
        client.subscribe("communications", "fill", "user_orders")
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id, "yes")
    maker.confirm(rfq_id, quote_id)
    ws_r.drain()
    ws_m.drain()
    control.call("PATCH", f"/markets/{MARKET}", {"status": "closed"})
    control.advance(15)
    assert maker.quote(quote_id)["cancellation_reason"] == "execution_failed"
    assert [f["type"] for f in ws_r.drain()] == ["rfq_deleted"]
    assert [f["type"] for f in ws_m.drain()] == ["rfq_deleted"]


def test_an_expiring_rfq_sends_rfq_deleted(fast: Control,
                                           fast_server: ServerProcess) -> None:
    fast.market(MARKET)
    requester = fast.trader("requester")
    with open_ws(fast_server.base_url, fast.trader("maker").account) as ws:
        ws.subscribe("communications")
        rfq_id = requester.create_rfq(MARKET)
        fast.advance(RFQ_TTL - 1)
        assert [f["type"] for f in ws.drain()] == ["rfq_created"]
        fast.advance(1)
        frames = ws.drain()
        assert [(f["type"], f["msg"]["id"]) for f in frames] == [("rfq_deleted", rfq_id)]
        assert requester.rfq(rfq_id)["cancellation_reason"] == "expired"


def test_refused_requests_send_nothing(control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker", balance="0")
    ws_r, ws_m = sockets(requester), sockets(maker)
    for client in (ws_r, ws_m):
        client.subscribe("communications", "fill", "user_orders")
    rfq_id = requester.create_rfq(MARKET)
    ws_r.drain()
    ws_m.drain()
    refusals = [
        requester.post("/communications/rfqs", json={
            "market_ticker": MARKET, "contracts_fp": "10", "rest_remainder": False}),
        maker.post("/communications/quotes", json={
            "rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55", "rest_remainder": False}),
        maker.delete(f"/communications/rfqs/{rfq_id}"),
    ]
    assert [r.status_code for r in refusals] == [409, 400, 404]
    assert ws_r.drain() == []
    assert ws_m.drain() == []
