"""GET /communications/rfqs and /communications/quotes: filters, limits, cursors."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.api.conftest import NewTrader
from tests.api.support import (
    QUOTES,
    RFQS,
    bare_error,
    nested_error,
    post_rfq,
    server_now_seconds,
)
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader


def pages(trader: Trader, path: str, key: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Follow cursors from the first page to the last; return every page."""
    result: list[list[dict[str, Any]]] = []
    cursor = ""
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = trader.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert isinstance(body["cursor"], str)
        result.append(body[key])
        cursor = body["cursor"]
        if not cursor:
            return result
        assert len(result) < 100, "cursor never ended"


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def make_markets(control: Control, count: int) -> list[str]:
    tickers = [f"KXLIST-26DEC31-M{i:02d}" for i in range(count)]
    for ticker in tickers:
        control.market(ticker)
    return tickers


# RFQ lists ---------------------------------------------------------------------------------


def test_list_rfqs_shows_everyones_rfqs_newest_first(control: Control,
                                                      new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    bob = new_trader("bob")
    first = alice.create_rfq(MARKET, "1")
    control.advance(1)
    second = bob.create_rfq(MARKET, "2")
    control.advance(1)
    third = alice.create_rfq(HVM_MARKET, "3")
    for viewer in (alice, bob, new_trader("carol")):
        body = viewer.get(RFQS).json()
        assert ids(body["rfqs"]) == [third, second, first]
        assert body["cursor"] == ""


def test_list_rfqs_filters_by_status_market_event_and_creator(
        control: Control, new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    bob = new_trader("bob")
    control.market("KXOTHER-27JAN01-X", event_ticker="KXOTHER-27JAN01")
    closed = alice.create_rfq(MARKET, "1")
    assert alice.delete(f"{RFQS}/{closed}").status_code == 204
    alice_open = alice.create_rfq(MARKET, "1")
    alice_hvm = alice.create_rfq(HVM_MARKET, "1")
    bob_other = bob.create_rfq("KXOTHER-27JAN01-X", "1")

    def listed(trader: Trader, **params: Any) -> set[str]:
        response = trader.get(RFQS, params=params)
        assert response.status_code == 200, response.text
        return set(ids(response.json()["rfqs"]))

    assert listed(bob) == {closed, alice_open, alice_hvm, bob_other}
    assert listed(bob, status="open") == {alice_open, alice_hvm, bob_other}
    assert listed(bob, status="closed") == {closed}
    assert listed(bob, market_ticker=MARKET) == {closed, alice_open}
    assert listed(bob, market_ticker=MARKET, status="open") == {alice_open}
    assert listed(bob, market_ticker="KXNOPE") == set()
    assert listed(bob, event_ticker="KXOTHER-27JAN01") == {bob_other}
    assert listed(alice, user_filter="self") == {closed, alice_open, alice_hvm}
    assert listed(bob, user_filter="self") == {bob_other}
    assert listed(bob, user_filter="self", status="closed") == set()
    # Legacy creator filter: RFQs are public, so any creator's user id filters.
    assert listed(bob, creator_user_id=alice.account.user_id) == {closed, alice_open,
                                                                  alice_hvm}
    assert listed(bob, creator_user_id=str(uuid.uuid4())) == set()
    # Empty values mean "no filter".
    assert listed(bob, user_filter="", status="", market_ticker="") == listed(bob)


def test_list_rfqs_filters_by_subaccount(control: Control, new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    primary = alice.create_rfq(MARKET, "1")
    response = post_rfq(alice, {"market_ticker": HVM_MARKET, "contracts_fp": "1",
                                "rest_remainder": False, "subaccount": 2})
    secondary = response.json()["id"]
    assert ids(alice.get(RFQS, params={"subaccount": 0}).json()["rfqs"]) == [primary]
    assert ids(alice.get(RFQS, params={"subaccount": 2}).json()["rfqs"]) == [secondary]
    bare_error(alice.get(RFQS, params={"subaccount": 64}))


def test_list_rfqs_subaccount_filter_selects_the_callers_own_rfqs_only(
        control: Control, new_trader: NewTrader) -> None:
    # A creator's subaccount is private: the filter names one of the caller's own
    # subaccounts and never sorts other members' RFQs by theirs.
    alice, bob = new_trader("alice"), new_trader("bob")
    alice_primary = alice.create_rfq(MARKET, "1")
    bob_secondary = post_rfq(bob, {"market_ticker": HVM_MARKET, "contracts_fp": "1",
                                   "rest_remainder": False, "subaccount": 3}).json()["id"]
    assert set(ids(bob.get(RFQS).json()["rfqs"])) == {bob_secondary, alice_primary}
    assert ids(bob.get(RFQS, params={"subaccount": 0}).json()["rfqs"]) == []
    assert ids(alice.get(RFQS, params={"subaccount": 0}).json()["rfqs"]) == [alice_primary]
    assert ids(alice.get(RFQS, params={"subaccount": 3}).json()["rfqs"]) == []
    assert ids(bob.get(RFQS, params={"subaccount": 3}).json()["rfqs"]) == [bob_secondary]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "Limit"),
        ({"limit": 101}, "Limit"),
        ({"limit": -1}, "Limit"),
        ({"limit": "ten"}, "Limit"),
        ({"limit": "1.5"}, "Limit"),
        ({"status": "cancelled"}, "Status"),
        ({"user_filter": "me"}, "UserFilter"),
        ({"subaccount": "x"}, "Subaccount"),
    ],
)
def test_list_rfqs_with_a_bad_query_parameter_is_a_bare_400(
        control: Control, new_trader: NewTrader, params: dict[str, Any], field: str) -> None:
    message = bare_error(new_trader("someone").get(RFQS, params=params))
    assert "GetRFQs" in message
    assert field in message


def test_list_rfqs_with_a_malformed_legacy_creator_id_is_a_400(
        control: Control, new_trader: NewTrader) -> None:
    response = new_trader("someone").get(RFQS, params={"creator_user_id": "bob"})
    nested_error(response, 400, "invalid_parameters")


def test_list_rfqs_limit_defaults_to_100_and_allows_1_to_100(
        control: Control, new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    created = []
    # replace_existing closes the previous RFQ each time; closed RFQs stay listed.
    for _ in range(101):
        response = post_rfq(alice, {"market_ticker": MARKET, "contracts_fp": "1",
                                    "rest_remainder": False, "replace_existing": True})
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    default = alice.get(RFQS).json()
    assert len(default["rfqs"]) == 100
    assert default["cursor"] != ""
    assert alice.get(RFQS, params={"limit": 100}).json() == default
    one = alice.get(RFQS, params={"limit": 1}).json()
    assert len(one["rfqs"]) == 1
    rest = alice.get(RFQS, params={"cursor": default["cursor"]}).json()
    assert len(rest["rfqs"]) == 1
    assert rest["cursor"] == ""
    assert set(ids(default["rfqs"] + rest["rfqs"])) == set(created)
    assert len(alice.get(RFQS, params={"status": "open"}).json()["rfqs"]) == 1


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_list_rfqs_cursor_pages_cover_every_rfq_once_in_order(
        control: Control, new_trader: NewTrader, limit: int) -> None:
    traders = [new_trader(f"t{i}") for i in range(2)]
    tickers = make_markets(control, 4)
    created: list[str] = []
    for i, ticker in enumerate(tickers):
        for trader in traders:
            created.append(trader.create_rfq(ticker, "1"))
        if i % 2:
            # Half of the RFQs share a creation instant; the id breaks the tie.
            control.advance(1)
    everything = ids(traders[0].get(RFQS).json()["rfqs"])
    assert sorted(everything) == sorted(created)
    got = pages(traders[0], RFQS, "rfqs", limit=limit)
    assert all(len(page) == limit for page in got[:-1])
    assert 1 <= len(got[-1]) <= limit
    flat = [rfq_id for page in got for rfq_id in ids(page)]
    assert flat == everything
    assert len(got) == -(-len(created) // limit)


def test_list_rfqs_cursor_keeps_the_filters(control: Control, new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    bob = new_trader("bob")
    tickers = make_markets(control, 3)
    mine = [alice.create_rfq(t, "1") for t in tickers]
    for t in tickers:
        bob.create_rfq(t, "1")
    got = pages(alice, RFQS, "rfqs", limit=2, user_filter="self")
    assert sorted(i for page in got for i in ids(page)) == sorted(mine)
    assert [len(page) for page in got] == [2, 1]


def test_list_rfqs_cursor_survives_new_rfqs_between_pages(
        control: Control, new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    tickers = make_markets(control, 5)
    old = []
    for ticker in tickers[:4]:
        old.append(alice.create_rfq(ticker, "1"))
        control.advance(1)
    first = alice.get(RFQS, params={"limit": 2}).json()
    alice.create_rfq(tickers[4], "1")
    second = alice.get(RFQS, params={"limit": 2, "cursor": first["cursor"]}).json()
    assert ids(first["rfqs"]) + ids(second["rfqs"]) == old[::-1]
    assert second["cursor"] == ""


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "abc", "not base64 at all", base64.urlsafe_b64encode(b"no-colon").decode(),
     base64.urlsafe_b64encode(b"x:abc").decode(),
     base64.urlsafe_b64encode(b"99999999999999999999999:abc").decode(),
     base64.urlsafe_b64encode(b"\xff\xfe:abc").decode()],
)
@pytest.mark.parametrize("path", [RFQS, QUOTES])
def test_lists_with_a_malformed_cursor_are_a_bare_400(
        control: Control, new_trader: NewTrader, cursor: str, path: str) -> None:
    message = bare_error(new_trader("someone").get(path, params={"cursor": cursor}))
    assert "cursor" in message


# Quote lists --------------------------------------------------------------------------------


@pytest.fixture
def web(control: Control, new_trader: NewTrader) -> dict[str, Any]:
    """Alice and Bob each have an RFQ; each quotes the other's; Carol quotes both."""
    alice = new_trader("alice")
    bob = new_trader("bob")
    carol = new_trader("carol")
    alice_rfq = alice.create_rfq(MARKET, "1")
    bob_rfq = bob.create_rfq(HVM_MARKET, "1")
    quotes = {
        "bob_on_alice": bob.create_quote(alice_rfq),
        "carol_on_alice": carol.create_quote(alice_rfq),
        "alice_on_bob": alice.create_quote(bob_rfq),
        "carol_on_bob": carol.create_quote(bob_rfq),
    }
    return {"alice": alice, "bob": bob, "carol": carol, "alice_rfq": alice_rfq,
            "bob_rfq": bob_rfq, **quotes}


def listed_quotes(trader: Trader, **params: Any) -> set[str]:
    response = trader.get(QUOTES, params=params)
    assert response.status_code == 200, response.text
    return set(ids(response.json()["quotes"]))


def test_list_quotes_without_filters_shows_own_quotes_and_quotes_on_own_rfqs(
        web: dict[str, Any]) -> None:
    assert listed_quotes(web["alice"]) == {web["bob_on_alice"], web["carol_on_alice"],
                                           web["alice_on_bob"]}
    assert listed_quotes(web["bob"]) == {web["alice_on_bob"], web["carol_on_bob"],
                                         web["bob_on_alice"]}
    assert listed_quotes(web["carol"]) == {web["carol_on_alice"], web["carol_on_bob"]}


def test_list_quotes_user_filters_split_own_quotes_from_quotes_on_own_rfqs(
        web: dict[str, Any]) -> None:
    alice = web["alice"]
    assert listed_quotes(alice, user_filter="self") == {web["alice_on_bob"]}
    assert listed_quotes(alice, rfq_user_filter="self") == {web["bob_on_alice"],
                                                            web["carol_on_alice"]}
    assert listed_quotes(alice, user_filter="self", rfq_user_filter="self") == set()
    assert listed_quotes(web["carol"], rfq_user_filter="self") == set()


def test_list_quotes_legacy_creator_filters_match_only_the_callers_own_user_id(
        web: dict[str, Any]) -> None:
    alice, bob = web["alice"], web["bob"]
    me = alice.account.user_id
    assert listed_quotes(alice, quote_creator_user_id=me) == {web["alice_on_bob"]}
    assert listed_quotes(alice, rfq_creator_user_id=me) == {web["bob_on_alice"],
                                                            web["carol_on_alice"]}
    # Someone else's id yields nothing (never a 403, never their quotes).
    assert listed_quotes(alice, quote_creator_user_id=bob.account.user_id) == set()
    assert listed_quotes(alice, rfq_creator_user_id=bob.account.user_id) == set()
    assert listed_quotes(alice, quote_creator_user_id="whoever") == set()


def test_list_quotes_filters_by_rfq_id_and_status(web: dict[str, Any]) -> None:
    alice, carol = web["alice"], web["carol"]
    assert listed_quotes(carol, rfq_id=web["alice_rfq"]) == {web["carol_on_alice"]}
    assert listed_quotes(alice, rfq_id=web["alice_rfq"]) == {web["bob_on_alice"],
                                                             web["carol_on_alice"]}
    assert listed_quotes(alice, rfq_id=str(uuid.uuid4())) == set()
    alice.accept(web["alice_rfq"], web["bob_on_alice"])
    assert listed_quotes(alice, status="accepted") == {web["bob_on_alice"]}
    assert listed_quotes(alice, status="open") == {web["carol_on_alice"], web["alice_on_bob"]}
    assert listed_quotes(carol, status="accepted") == set()
    assert carol.delete(f"{QUOTES}/{web['carol_on_bob']}").status_code == 204
    assert listed_quotes(carol, status="cancelled") == {web["carol_on_bob"]}
    assert listed_quotes(carol, status="executed") == set()


def test_list_quotes_with_a_malformed_rfq_id_is_a_400(web: dict[str, Any]) -> None:
    nested_error(web["alice"].get(QUOTES, params={"rfq_id": "abc"}), 400,
                 "invalid_parameters")


def test_list_quotes_ignores_the_removed_market_and_event_filters(web: dict[str, Any]) -> None:
    alice = web["alice"]
    everything = listed_quotes(alice)
    assert listed_quotes(alice, market_ticker="KXNOPE-1") == everything
    assert listed_quotes(alice, event_ticker="KXNOPE") == everything
    assert listed_quotes(alice, market_ticker=MARKET, event_ticker="X") == everything


def test_list_quotes_min_and_max_ts_filter_on_the_last_update(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    makers = [new_trader(f"maker{i}") for i in range(3)]
    rfq_id = requester.create_rfq(MARKET, "1")
    control.advance(10)
    t0 = server_now_seconds(control)
    early = makers[0].create_quote(rfq_id)
    control.advance(10)
    middle = makers[1].create_quote(rfq_id)
    control.advance(10)
    late = makers[2].create_quote(rfq_id)

    assert listed_quotes(requester, min_ts=t0 + 5) == {middle, late}
    assert listed_quotes(requester, max_ts=t0 + 5) == {early}
    assert listed_quotes(requester, min_ts=t0 + 5, max_ts=t0 + 15) == {middle}
    assert listed_quotes(requester, min_ts=t0 + 100) == set()
    assert listed_quotes(requester, min_ts=t0 - 1) == {early, middle, late}
    # An update moves a quote into the later window.
    control.advance(10)
    assert makers[0].delete(f"{QUOTES}/{early}").status_code == 204
    assert listed_quotes(requester, min_ts=t0 + 25) == {early}
    assert listed_quotes(requester, max_ts=t0 + 5) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "Limit"),
        ({"limit": 501}, "Limit"),
        ({"limit": "x"}, "Limit"),
        ({"status": "closed"}, "Status"),
        ({"user_filter": "all"}, "UserFilter"),
        ({"rfq_user_filter": "others"}, "RfqUserFilter"),
        ({"min_ts": "yesterday"}, "MinTs"),
        ({"max_ts": "-5"}, "MaxTs"),
    ],
)
def test_list_quotes_with_a_bad_query_parameter_is_a_bare_400(
        control: Control, new_trader: NewTrader, params: dict[str, Any], field: str) -> None:
    message = bare_error(new_trader("someone").get(QUOTES, params=params))
    assert "GetQuotes" in message
    assert field in message


def test_list_quotes_limit_defaults_to_500_and_allows_1_to_500(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "1")
    # Each new quote replaces the maker's previous one; cancelled quotes stay listed.
    created = [maker.create_quote(rfq_id) for _ in range(501)]
    default = maker.get(QUOTES).json()
    assert len(default["quotes"]) == 500
    assert default["cursor"] != ""
    assert maker.get(QUOTES, params={"limit": 500}).json() == default
    rest = maker.get(QUOTES, params={"cursor": default["cursor"]}).json()
    assert (len(rest["quotes"]), rest["cursor"]) == (1, "")
    assert set(ids(default["quotes"] + rest["quotes"])) == set(created)
    assert ids(maker.get(QUOTES, params={"status": "open"}).json()["quotes"]) == [created[-1]]


@pytest.mark.parametrize("limit", [1, 2, 4, 6])
def test_list_quotes_cursor_pages_cover_every_quote_once_in_creation_order(
        control: Control, new_trader: NewTrader, limit: int) -> None:
    requester = new_trader("requester")
    makers = [new_trader(f"maker{i}") for i in range(5)]
    rfq_id = requester.create_rfq(MARKET, "1")
    created = []
    for i, maker in enumerate(makers):
        created.append(maker.create_quote(rfq_id))
        if i % 2:
            control.advance(1)
    everything = ids(requester.get(QUOTES).json()["quotes"])
    assert sorted(everything) == sorted(created)
    got = pages(requester, QUOTES, "quotes", limit=limit)
    assert [i for page in got for i in ids(page)] == everything
    assert all(len(page) == limit for page in got[:-1])
    assert len(got) == -(-len(created) // limit)


def test_list_quotes_cursor_is_stable_while_quotes_change_state(
        control: Control, new_trader: NewTrader) -> None:
    # Lists are sorted by creation time, so an update between pages moves nothing.
    requester = new_trader("requester")
    makers = [new_trader(f"maker{i}") for i in range(4)]
    rfq_id = requester.create_rfq(MARKET, "1")
    created = []
    for maker in makers:
        created.append(maker.create_quote(rfq_id))
        control.advance(1)
    first = requester.get(QUOTES, params={"limit": 2}).json()
    assert ids(first["quotes"]) == created[:1:-1]
    control.advance(1)
    assert makers[0].delete(f"{QUOTES}/{created[0]}").status_code == 204
    requester.accept(rfq_id, created[1])
    second = requester.get(QUOTES, params={"limit": 2, "cursor": first["cursor"]}).json()
    assert ids(second["quotes"]) == created[1::-1]
    assert second["cursor"] == ""


def test_list_quotes_of_a_caller_with_none_is_empty_with_an_empty_cursor(
        control: Control, new_trader: NewTrader) -> None:
    assert new_trader("nobody").get(QUOTES).json() == {"quotes": [], "cursor": ""}
    assert new_trader("nobody2").get(RFQS).json() == {"rfqs": [], "cursor": ""}


def test_closed_rfqs_and_cancelled_quotes_are_readable_for_seven_days(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    rival = new_trader("rival")
    closed = requester.create_rfq(MARKET, "1")
    cancelled = maker.create_quote(closed)
    assert requester.delete(f"{RFQS}/{closed}").status_code == 204
    traded = requester.create_rfq(MARKET, "1")
    executed = maker.create_quote(traded)
    lost = rival.create_quote(traded)
    requester.accept(traded, executed)
    maker.confirm(traded, executed)
    control.advance(15)  # the trade executes; the rival's quote is cancelled now
    still_open = requester.create_rfq(HVM_MARKET, "1")

    # Seven days after the deletion, to the microsecond, everything is still readable.
    control.advance(7 * 86_400 - 15)
    assert requester.rfq(closed)["status"] == "closed"
    assert listed_quotes(requester) == {cancelled, executed, lost}

    control.advance(1)
    nested_error(requester.get(f"{RFQS}/{closed}"), 404, "not_found")
    nested_error(requester.get(f"{QUOTES}/{cancelled}"), 404, "not_found")
    assert ids(requester.get(RFQS).json()["rfqs"]) == [still_open, traded]
    assert listed_quotes(requester) == {executed, lost}

    control.advance(15)
    nested_error(rival.get(f"{QUOTES}/{lost}"), 404, "not_found")
    assert ids(requester.get(RFQS).json()["rfqs"]) == [still_open]
    # Executed quotes are durable.
    assert listed_quotes(requester) == {executed}
    assert requester.get(f"{QUOTES}/{executed}").json()["quote"]["status"] == "executed"
