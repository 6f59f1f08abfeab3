"""Commands of the WebSocket API and every error code of Kalshi's that applies here.

Codes not tested, and why: 9 (authentication required) cannot arise, because an unsigned
handshake is refused with HTTP 401 before any command (see test_handshake.py); 16, 23, 24,
26 and 28 belong to channels the sandbox does not serve (those answer 10, tested); 18 and 27
need command timeouts and command rate limits, which the sandbox does not impose; 17 is the
answer to an unexpected server failure, which no request can provoke on purpose; 25 needs a
small queue limit and is tested in test_keepalive.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from kalshi_sandbox.api.ws.fanout import shard_of
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, ServerProcess
from tests.ws.client import OpenSocket, WsClient, data


def _error(client: WsClient, command_id: int) -> dict[str, Any]:
    reply = client.reply(command_id)
    assert reply["type"] == "error", reply
    assert set(reply) == {"id", "type", "msg"}
    msg: dict[str, Any] = reply["msg"]
    return msg


@pytest.fixture
def client(control: Control, sockets: OpenSocket) -> WsClient:
    return sockets(control.trader("alice"))


def _subscriptions(client: WsClient) -> list[dict[str, Any]]:
    reply = client.reply(client.command("list_subscriptions"))
    assert reply["type"] == "ok"
    result: list[dict[str, Any]] = reply["msg"]
    return result


# Successful commands ------------------------------------------------------------------------


def test_subscribe_answers_one_subscribed_per_channel_with_its_own_sid(
        client: WsClient) -> None:
    command_id = client.command("subscribe", {"channels": ["communications", "fill"]})
    first, second = client.recv(), client.recv()
    assert first == {"id": command_id, "type": "subscribed",
                     "msg": {"channel": "communications", "sid": 1}}
    assert second == {"id": command_id, "type": "subscribed",
                      "msg": {"channel": "fill", "sid": 2}}
    assert _subscriptions(client) == [{"channel": "communications", "sid": 1},
                                      {"channel": "fill", "sid": 2}]


def test_id_zero_or_absent_means_no_id_in_the_reply(client: WsClient) -> None:
    client.send({"id": 0, "cmd": "subscribe", "params": {"channels": ["communications"]}})
    assert client.recv() == {"type": "subscribed",
                             "msg": {"channel": "communications", "sid": 1}}
    client.send({"cmd": "list_subscriptions"})
    assert client.recv() == {"type": "ok", "msg": [{"channel": "communications", "sid": 1}]}
    client.send({"cmd": "frobnicate"})
    assert client.recv() == {"type": "error", "msg": {"code": 5, "msg": "Unknown command"}}


def test_unsubscribe_acknowledges_with_the_next_seq_and_stops_the_messages(
        control: Control, client: WsClient) -> None:
    requester = control.trader("requester")
    sid = client.subscribe("communications")["communications"]
    requester.create_rfq(MARKET)
    assert data(client.drain()) == [("rfq_created", sid, 1)]

    command_id = client.command("unsubscribe", {"sids": [sid]})
    assert client.recv() == {"id": command_id, "sid": sid, "seq": 2, "type": "unsubscribed"}
    requester.create_rfq(HVM_MARKET)
    assert client.drain() == []
    assert _subscriptions(client) == []
    assert client.gaps == []


def test_resubscribing_after_unsubscribe_gives_a_new_sid_whose_seq_starts_at_one(
        control: Control, client: WsClient) -> None:
    requester = control.trader("requester")
    old = client.subscribe("communications")["communications"]
    client.reply(client.command("unsubscribe", {"sids": [old]}))
    new = client.subscribe("communications")["communications"]
    assert new != old
    requester.create_rfq(MARKET)
    assert data(client.drain()) == [("rfq_created", new, 1)]


def test_update_subscription_adds_and_removes_fill_markets(client: WsClient) -> None:
    sid = client.subscribe("fill", market_tickers=[MARKET])["fill"]
    added = client.reply(client.command(
        "update_subscription", {"sids": [sid], "action": "add_markets",
                                "market_tickers": [HVM_MARKET]}))
    assert added["msg"] == {"market_tickers": sorted([MARKET, HVM_MARKET])}
    removed = client.reply(client.command(
        "update_subscription", {"sid": sid, "action": "delete_markets",
                                "market_tickers": [MARKET]}))
    assert removed["msg"] == {"market_tickers": [HVM_MARKET]}


# Error codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["nonsense", "{\"id\": 1, \"cmd\": ", "[1, 2]", "\"text\""])
def test_bad_json_is_code_1_without_id(client: WsClient, text: str) -> None:
    client.send(text)
    assert client.recv() == {"type": "error",
                             "msg": {"code": 1, "msg": "Unable to process message"}}


@pytest.mark.parametrize("params", [
    {"channels": "communications"},
    {"channels": [7]},
    {"channels": ["communications"], "shard_factor": "4"},
    {"channels": ["communications"], "shard_factor": 4, "shard_key": 1.5},
    {"channels": ["communications"], "user_filter": True},
    {"channels": ["fill"], "market_tickers": MARKET},
])
def test_wrong_parameter_types_are_code_1(client: WsClient, params: dict[str, Any]) -> None:
    assert _error(client, client.command("subscribe", params))["code"] == 1
    assert _subscriptions(client) == []


def test_json_nested_too_deeply_to_decode_is_code_1_without_a_logged_failure(
        server: ServerProcess, client: WsClient) -> None:
    logged = len(server.log_text())
    client.send("[" * 10_000 + "]" * 10_000)
    assert client.recv() == {"type": "error",
                             "msg": {"code": 1, "msg": "Unable to process message"}}
    assert _subscriptions(client) == []
    assert "Traceback" not in server.log_text()[logged:]


@pytest.mark.parametrize(("text", "echoed"), [
    ('{"id": 9223372036854775808, "cmd": "list_subscriptions"}', None),
    ('{"id": -9223372036854775809, "cmd": "list_subscriptions"}', None),
    ('{"id": 1, "cmd": "unsubscribe", "params": {"sids": [18446744073709551616]}}', 1),
    ('{"id": 1, "cmd": "subscribe", "params": {"channels": ["communications"], '
     '"shard_factor": 99999999999999999999}}', 1),
])
def test_integers_beyond_64_bits_are_code_1(client: WsClient, text: str,
                                            echoed: int | None) -> None:
    """Kalshi reads ids and parameters into 64-bit integers: a larger number does not
    decode, so the reply is code 1 (and an id that did not decode is not echoed)."""
    client.send(text)
    reply = client.recv()
    assert reply["type"] == "error", reply
    assert reply["msg"]["code"] == 1
    assert reply.get("id") == echoed
    assert _subscriptions(client) == []


def test_non_integer_id_is_code_1(client: WsClient) -> None:
    client.send({"id": "seven", "cmd": "list_subscriptions"})
    reply = client.recv()
    assert reply["type"] == "error"
    assert reply["msg"]["code"] == 1
    assert "id" not in reply


@pytest.mark.parametrize("cmd", ["subscribe", "unsubscribe", "update_subscription"])
def test_missing_params_is_code_2(client: WsClient, cmd: str) -> None:
    assert _error(client, client.command(cmd)) == {"code": 2, "msg": "Params required"}


@pytest.mark.parametrize("params", [{}, {"channels": []}])
def test_missing_channels_is_code_3(client: WsClient, params: dict[str, Any]) -> None:
    assert _error(client, client.command("subscribe", params)) == {
        "code": 3, "msg": "Channels required"}


@pytest.mark.parametrize("params", [{}, {"sids": []}])
def test_missing_sids_is_code_4(client: WsClient, params: dict[str, Any]) -> None:
    assert _error(client, client.command("unsubscribe", params)) == {
        "code": 4, "msg": "Subscription IDs required"}


@pytest.mark.parametrize("cmd", ["frobnicate", "Subscribe", ""])
def test_unknown_command_is_code_5(client: WsClient, cmd: str) -> None:
    assert _error(client, client.command(cmd)) == {"code": 5, "msg": "Unknown command"}


def test_subscribing_a_channel_twice_is_code_6_and_keeps_the_first(client: WsClient) -> None:
    client.subscribe("communications")
    command_id = client.command("subscribe", {"channels": ["communications"],
                                              "user_filter": "self"})
    assert _error(client, command_id) == {"code": 6, "msg": "Already subscribed"}
    assert _subscriptions(client) == [{"channel": "communications", "sid": 1}]


def test_unknown_sid_is_code_7_while_known_sids_in_the_same_command_unsubscribe(
        client: WsClient) -> None:
    sid = client.subscribe("communications")["communications"]
    command_id = client.command("unsubscribe", {"sids": [99, sid]})
    first, second = client.recv(), client.recv()
    assert first["type"] == "error"
    assert first["msg"]["code"] == 7
    assert first["msg"]["msg"].startswith("Unknown subscription ID")
    assert second == {"id": command_id, "sid": sid, "seq": 1, "type": "unsubscribed"}


def test_update_of_an_unknown_sid_is_code_7(client: WsClient) -> None:
    command_id = client.command("update_subscription", {"sids": [42], "action": "add_markets",
                                                        "market_tickers": [MARKET]})
    assert _error(client, command_id)["code"] == 7


def test_unknown_channel_is_code_8_and_subscribes_nothing(client: WsClient) -> None:
    command_id = client.command("subscribe", {"channels": ["communications", "rfqs"]})
    assert _error(client, command_id)["code"] == 8
    assert _subscriptions(client) == []


def test_an_error_echoing_client_input_stays_short(client: WsClient) -> None:
    command_id = client.command("subscribe", {"channels": ["x" * 20_000]})
    msg = _error(client, command_id)
    assert msg["code"] == 8
    assert len(msg["msg"]) < 200


@pytest.mark.parametrize("channel", ["cfbenchmarks_value", "pyth_value"])
def test_a_kalshi_channel_the_sandbox_does_not_serve_is_code_10(
        client: WsClient, channel: str) -> None:
    msg = _error(client, client.command("subscribe", {"channels": [channel]}))
    assert msg["code"] == 10
    assert msg["msg"].startswith("Channel error")
    assert channel in msg["msg"]


def test_an_unserved_channel_does_not_stop_the_served_ones_of_the_same_command(
        client: WsClient) -> None:
    command_id = client.command("subscribe", {"channels": ["pyth_value",
                                                           "communications"]})
    first, second = client.recv(), client.recv()
    assert (first["type"], first["msg"]["code"]) == ("error", 10)
    assert second == {"id": command_id, "type": "subscribed",
                      "msg": {"channel": "communications", "sid": 1}}


def test_an_unknown_user_filter_is_code_11(client: WsClient) -> None:
    command_id = client.command("subscribe", {"channels": ["communications"],
                                              "user_filter": "everyone"})
    assert _error(client, command_id)["code"] == 11


@pytest.mark.parametrize("params", [{"action": "add_markets"},
                                    {"sids": [1, 2], "action": "add_markets"},
                                    {"sids": "1", "action": "add_markets"}])
def test_update_without_exactly_one_sid_is_code_12(
        client: WsClient, params: dict[str, Any]) -> None:
    client.subscribe("communications", "fill")
    assert _error(client, client.command("update_subscription", params)) == {
        "code": 12, "msg": "Exactly one subscription ID is required"}


@pytest.mark.parametrize(("channel", "action"), [("fill", "explode"),
                                                 ("communications", "add_markets"),
                                                 ("fill", "get_snapshot")])
def test_an_action_that_does_not_apply_is_code_13(
        client: WsClient, channel: str, action: str) -> None:
    sid = client.subscribe(channel)[channel]
    command_id = client.command("update_subscription", {"sids": [sid], "action": action,
                                                        "market_tickers": [MARKET]})
    assert _error(client, command_id)["code"] == 13


def test_adding_markets_without_tickers_is_code_14(client: WsClient) -> None:
    sid = client.subscribe("fill", market_ticker=MARKET)["fill"]
    command_id = client.command("update_subscription", {"sids": [sid],
                                                        "action": "add_markets"})
    assert _error(client, command_id) == {"code": 14, "msg": "Market Ticker required"}


def test_update_without_action_is_code_15(client: WsClient) -> None:
    sid = client.subscribe("fill")["fill"]
    command_id = client.command("update_subscription", {"sids": [sid]})
    assert _error(client, command_id) == {"code": 15, "msg": "Action required"}


@pytest.mark.parametrize(("params", "code", "text"), [
    ({"shard_factor": 0}, 19, "shard_factor must be > 0"),
    ({"shard_factor": -3, "shard_key": 0}, 19, "shard_factor must be > 0"),
    ({"shard_key": 0}, 20, "shard_factor is required when shard_key is set"),
    ({"shard_factor": 4, "shard_key": 4}, 21, "shard_key must be >= 0 and < shard_factor"),
    ({"shard_factor": 4, "shard_key": -1}, 21, "shard_key must be >= 0 and < shard_factor"),
    ({"shard_factor": 101, "shard_key": 0}, 22, "shard_factor must be <= 100"),
])
def test_shard_parameter_errors_have_their_own_codes(
        client: WsClient, params: dict[str, Any], code: int, text: str) -> None:
    command_id = client.command("subscribe", {"channels": ["communications"], **params})
    assert _error(client, command_id) == {"code": code, "msg": text}
    assert _subscriptions(client) == []


# Filters ----------------------------------------------------------------------------------


def test_shards_split_messages_by_market_ticker_and_together_cover_all(
        control: Control, sockets: OpenSocket) -> None:
    tickers = [f"KXSHARD-26DEC31-T{n}" for n in range(12)]
    for ticker in tickers:
        control.market(ticker)
    requester = control.trader("requester")
    maker = control.trader("maker")
    shards = [sockets(maker) for _ in range(3)]
    sids = [s.subscribe("communications", shard_factor=3, shard_key=k)["communications"]
            for k, s in enumerate(shards)]
    rfqs = {requester.create_rfq(ticker): ticker for ticker in tickers}
    received = [[f["msg"]["market_ticker"] for f in s.drain()] for s in shards]
    for key, tickers_seen in enumerate(received):
        expected = [t for t in tickers if shard_of(t, 3) == key]
        assert tickers_seen == expected
    assert sorted(t for seen in received for t in seen) == sorted(rfqs.values())
    assert all(received), "12 tickers over 3 shards leave no shard empty"
    # A quote reaches only the maker connection of the RFQ's shard.
    rfq_id = next(iter(rfqs))
    maker.create_quote(rfq_id)
    key = shard_of(rfqs[rfq_id], 3)
    for k, s in enumerate(shards):
        frames = s.drain()
        assert data(frames) == ([("quote_created", sids[k], len(received[k]) + 1)]
                                if k == key else [])


def test_user_filter_self_limits_rfq_events_to_the_callers_own_rfqs(
        control: Control, sockets: OpenSocket) -> None:
    alice = control.trader("alice")
    bob = control.trader("bob")
    ws = sockets(alice)
    sid = ws.subscribe("communications", user_filter="self")["communications"]
    bobs = bob.create_rfq(MARKET)
    alices = alice.create_rfq(HVM_MARKET)
    quote_id = alice.create_quote(bobs)
    bob.create_quote(alices)
    frames = ws.drain()
    assert data(frames) == [("rfq_created", sid, 1), ("quote_created", sid, 2),
                            ("quote_created", sid, 3)]
    assert frames[0]["msg"]["id"] == alices
    assert frames[1]["msg"]["quote_id"] == quote_id
    assert frames[2]["msg"]["rfq_id"] == alices
