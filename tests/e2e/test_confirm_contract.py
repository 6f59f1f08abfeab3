"""Confirm Quote against a real server: every row of the emulator contract.

Each case runs on both paths, the deprecated ``/communications/quotes/{quote_id}/confirm`` and
the RFQ-scoped ``/communications/rfqs/{rfq_id}/quotes/{quote_id}/confirm``. Every error case
also checks that the failed request changed nothing: quote, RFQ, balances, orders, fills, the
clock and the pending timers read the same before and after.

Past 500 lines on purpose: one contract, one table of cases.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kalshi_sandbox.client.auth import KalshiAuth, now_ms
from kalshi_sandbox.domain.clock import MICROS, Instant, format_instant, parse_instant
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import API, Control, Trader

FORMS = ("deprecated", "scoped")
"""The two paths of Confirm Quote."""

WINDOWS = {MARKET: (30, 15), HVM_MARKET: (3, 1)}
"""(confirmation window, execution delay) in seconds per market class."""


def confirm_path(form: str, rfq_id: str, quote_id: str) -> str:
    """Return the confirm path of ``form`` for a quote."""
    if form == "deprecated":
        return f"/communications/quotes/{quote_id}/confirm"
    return f"/communications/rfqs/{rfq_id}/quotes/{quote_id}/confirm"


@dataclass
class Deal:
    """A requester, a maker and one quote on the requester's RFQ."""

    control: Control
    requester: Trader
    maker: Trader
    rfq_id: str
    quote_id: str
    accepted_at: Instant | None = None

    def confirm(self, form: str, trader: Trader | None = None, **kwargs: Any) -> httpx.Response:
        """Send Confirm Quote for this deal's quote on ``form`` (by the maker by default)."""
        return (trader or self.maker).put(confirm_path(form, self.rfq_id, self.quote_id),
                                          **kwargs)


def now(control: Control) -> Instant:
    """Return the sandbox clock's current instant."""
    state: dict[str, Any] = control.call("GET", "/clock")
    return parse_instant(state["now"])


def advance_to(control: Control, instant: Instant) -> dict[str, Any]:
    """Move the manual clock to ``instant`` exactly (microsecond precision)."""
    state: dict[str, Any] = control.call("POST", "/clock/advance",
                                         {"to": format_instant(instant)})
    assert parse_instant(state["now"]) == instant
    return state


def open_deal(control: Control, market: str = MARKET) -> Deal:
    """Create an RFQ and an open quote on it."""
    requester = control.trader("requester", "1000")
    maker = control.trader("maker", "1000")
    rfq_id = requester.create_rfq(market, "10")
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    return Deal(control, requester, maker, rfq_id, quote_id)


def accepted_deal(control: Control, market: str = MARKET) -> Deal:
    """Create an RFQ and a quote on it that the requester has accepted (side yes)."""
    deal = open_deal(control, market)
    deal.accepted_at = now(control)
    deal.requester.accept(deal.rfq_id, deal.quote_id, "yes")
    return deal


def snapshot(deal: Deal) -> dict[str, Any]:
    """Return everything a confirm could change, as both parties and the operator see it."""
    parties = (deal.requester, deal.maker)
    return {
        "quote": [t.quote(deal.quote_id) for t in parties],
        "rfq": deal.requester.rfq(deal.rfq_id),
        "balance": [t.balance() for t in parties],
        "orders": [t.get("/portfolio/orders").json() for t in parties],
        "fills": [t.get("/portfolio/fills").json() for t in parties],
        "positions": [t.get("/portfolio/positions").json() for t in parties],
        "clock": deal.control.call("GET", "/clock"),
    }


def assert_error(response: httpx.Response, status: int, code: str, *, message: str | None = None,
                 details: str | None = None, details_prefix: str | None = None) -> None:
    """Assert Kalshi's nested error body ``{"error": {"code", "message", "details"?}}``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}, error
    assert all(isinstance(value, str) and value for value in error.values()), error
    assert error["code"] == code, error
    if message is not None:
        assert error["message"] == message, error
    if details is not None:
        assert error.get("details") == details, error
    if details_prefix is not None:
        assert error.get("details", "").startswith(details_prefix), error


def assert_unchanged(deal: Deal, before: dict[str, Any]) -> None:
    """Assert that nothing a confirm could touch has changed since ``before``."""
    after = snapshot(deal)
    for key, value in before.items():
        assert after[key] == value, key


def assert_never_executes(deal: Deal) -> None:
    """Advance well past any execution timer and check no order or fill ever appears."""
    deal.control.advance(120)
    for trader in (deal.requester, deal.maker):
        assert trader.get("/portfolio/orders").json()["orders"] == []
        assert trader.get("/portfolio/fills").json()["fills"] == []
        assert trader.balance()["balance_dollars"] == "1000.0000"
    assert deal.maker.quote(deal.quote_id)["status"] == "cancelled"


# 204 ----------------------------------------------------------------------------------------

BODIES: dict[str, dict[str, Any]] = {
    "no body": {},
    "empty object": {"json": {}},
    "arbitrary object": {"json": {"accepted_side": "no", "note": ["ignored", {"n": 1.5}],
                                  "extra": None}},
    "empty body with json content type": {
        "content": b"", "headers": {"Content-Type": "application/json"}},
    "json null": {"content": b"null", "headers": {"Content-Type": "application/json"}},
}


@pytest.mark.parametrize("body", list(BODIES))
@pytest.mark.parametrize("form", FORMS)
def test_confirm_by_maker_inside_window_answers_204_empty_and_starts_execution_timer(
        control: Control, form: str, body: str) -> None:
    deal = accepted_deal(control)
    confirmed_at = now(control)

    response = deal.confirm(form, **BODIES[body])

    assert response.status_code == 204, response.text
    assert response.content == b""
    quote = deal.maker.quote(deal.quote_id)
    assert quote["status"] == "confirmed"
    assert parse_instant(quote["confirmed_ts"]) == confirmed_at
    assert parse_instant(quote["updated_ts"]) == confirmed_at
    assert deal.requester.quote(deal.quote_id)["status"] == "confirmed"
    clock = control.call("GET", "/clock")
    assert parse_instant(clock["next_timer"]) == confirmed_at + 15 * MICROS
    assert clock["pending_timers"] == 1


# 400 invalid ids ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "4f3c2a1b-0000-0000-0000-00000000000g"])
@pytest.mark.parametrize("form", FORMS)
def test_confirm_with_malformed_quote_id_answers_400_invalid_quote_id(
        control: Control, form: str, bad_id: str) -> None:
    deal = accepted_deal(control)
    before = snapshot(deal)

    response = deal.maker.put(confirm_path(form, deal.rfq_id, bad_id))

    assert_error(response, 400, "invalid_parameters", message="invalid quote id")
    assert_unchanged(deal, before)


def test_confirm_with_malformed_rfq_id_answers_400_invalid_rfq_id(control: Control) -> None:
    deal = accepted_deal(control)
    before = snapshot(deal)

    response = deal.maker.put(confirm_path("scoped", "rfq-1", deal.quote_id))

    assert_error(response, 400, "invalid_parameters", message="invalid rfq id")
    assert_unchanged(deal, before)


# 401 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
def test_confirm_without_auth_headers_answers_401_and_changes_nothing(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    before = snapshot(deal)

    response = httpx.put(control.base_url + API + confirm_path(form, deal.rfq_id, deal.quote_id))

    assert_error(response, 401, "authentication_error", message="authentication_error",
                 details_prefix="KALSHI-ACCESS-KEY header is missing")
    assert_unchanged(deal, before)


@pytest.mark.parametrize("form", FORMS)
def test_confirm_signed_with_wrong_key_answers_401_and_changes_nothing(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    impostor = control.account("impostor")
    before = snapshot(deal)

    # The maker's key id with someone else's private key.
    auth = KalshiAuth(deal.maker.account.key_id, impostor.private_key_pem)
    response = httpx.put(control.base_url + API + confirm_path(form, deal.rfq_id, deal.quote_id),
                         auth=auth)

    assert_error(response, 401, "authentication_error", message="authentication_error",
                 details_prefix="INCORRECT_API_KEY_SIGNATURE")
    assert_unchanged(deal, before)


@pytest.mark.parametrize("form", FORMS)
def test_confirm_with_stale_timestamp_answers_401_expired_and_changes_nothing(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    before = snapshot(deal)

    auth = KalshiAuth(deal.maker.account.key_id, deal.maker.account.private_key_pem,
                      clock=lambda: now_ms() - 60_000)
    response = httpx.put(control.base_url + API + confirm_path(form, deal.rfq_id, deal.quote_id),
                         auth=auth)

    assert_error(response, 401, "header_timestamp_expired", message="header timestamp expired")
    assert_unchanged(deal, before)


@pytest.mark.parametrize("target", ["malformed quote id", "unknown quote"])
@pytest.mark.parametrize("form", FORMS)
def test_unsigned_confirm_answers_401_before_checking_the_quote(
        control: Control, form: str, target: str) -> None:
    quote_id = "not-a-uuid" if target == "malformed quote id" else str(uuid.uuid4())

    response = httpx.put(control.base_url + API + confirm_path(form, str(uuid.uuid4()),
                                                               quote_id))

    assert_error(response, 401, "authentication_error")


# 404 ----------------------------------------------------------------------------------------

NOT_FOUND = {"code": "not_found", "message": "quote not found"}


def assert_quote_not_found(response: httpx.Response) -> None:
    """Assert the 404 that reveals nothing about whether the quote exists."""
    assert_error(response, 404, NOT_FOUND["code"], message=NOT_FOUND["message"])


@pytest.mark.parametrize("form", FORMS)
def test_confirm_of_unknown_quote_answers_404_not_found(control: Control, form: str) -> None:
    deal = accepted_deal(control)
    before = snapshot(deal)

    response = deal.maker.put(confirm_path(form, deal.rfq_id, str(uuid.uuid4())))

    assert_quote_not_found(response)
    assert_unchanged(deal, before)


@pytest.mark.parametrize("form", FORMS)
def test_confirm_by_third_party_answers_same_404_as_unknown_quote(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    stranger = control.trader("stranger")
    before = snapshot(deal)

    response = deal.confirm(form, stranger)
    unknown = stranger.put(confirm_path(form, deal.rfq_id, str(uuid.uuid4())))

    assert_quote_not_found(response)
    assert response.json() == unknown.json()
    assert_unchanged(deal, before)


@pytest.mark.parametrize("form", FORMS)
def test_confirm_by_rfq_creator_answers_404_not_found(control: Control, form: str) -> None:
    deal = accepted_deal(control)
    before = snapshot(deal)

    response = deal.confirm(form, deal.requester)

    assert_quote_not_found(response)
    assert_unchanged(deal, before)


@pytest.mark.parametrize("other_rfq", ["unknown rfq", "another open rfq"])
def test_scoped_confirm_naming_another_rfq_answers_404_not_found(
        control: Control, other_rfq: str) -> None:
    deal = accepted_deal(control)
    if other_rfq == "unknown rfq":
        rfq_id = str(uuid.uuid4())
    else:
        rfq_id = deal.requester.create_rfq(HVM_MARKET, "10")
        deal.maker.create_quote(rfq_id)
    before = snapshot(deal)

    response = deal.maker.put(confirm_path("scoped", rfq_id, deal.quote_id))

    assert_quote_not_found(response)
    assert_unchanged(deal, before)


# 400 wrong state ----------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
def test_confirm_of_open_quote_answers_400_quote_is_not_accepted(
        control: Control, form: str) -> None:
    deal = open_deal(control)
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "invalid_parameters", details="quote is not accepted")
    assert_unchanged(deal, before)
    assert deal.maker.quote(deal.quote_id)["status"] == "open"


@pytest.mark.parametrize("market", [MARKET, HVM_MARKET])
@pytest.mark.parametrize("form", FORMS)
def test_confirm_after_window_lapsed_answers_400_quote_expired_and_never_executes(
        control: Control, form: str, market: str) -> None:
    window, _ = WINDOWS[market]
    deal = accepted_deal(control, market)
    assert deal.accepted_at is not None

    state = control.advance(window)

    assert state["fired_timers"] == 1
    quote = deal.maker.quote(deal.quote_id)
    assert quote["status"] == "cancelled"
    assert quote["cancellation_reason"] == "confirmation_timeout"
    assert parse_instant(quote["cancelled_ts"]) == deal.accepted_at + window * MICROS
    assert "confirmed_ts" not in quote
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "quote_expired")
    assert_unchanged(deal, before)
    assert_never_executes(deal)
    assert deal.requester.rfq(deal.rfq_id)["status"] == "open"


@pytest.mark.parametrize("form", FORMS)
def test_confirm_of_quote_the_maker_deleted_answers_400_quote_expired(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    deleted = deal.maker.delete(f"/communications/rfqs/{deal.rfq_id}/quotes/{deal.quote_id}")
    assert deleted.status_code == 204, deleted.text
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "quote_expired")
    assert_unchanged(deal, before)
    assert_never_executes(deal)


@pytest.mark.parametrize("form", FORMS)
def test_second_confirm_answers_400_already_confirmed_and_keeps_execution_timer(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    assert deal.confirm(form).status_code == 204
    confirmed_at = now(control)
    control.advance(5)
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "invalid_parameters", details_prefix="quote already confirmed")
    assert_unchanged(deal, before)
    assert parse_instant(before["clock"]["next_timer"]) == confirmed_at + 15 * MICROS


@pytest.mark.parametrize("form", FORMS)
def test_confirm_of_executed_quote_answers_400_already_confirmed(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    assert deal.confirm(form).status_code == 204
    control.advance(15)
    assert deal.maker.quote(deal.quote_id)["status"] == "executed"
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "invalid_parameters", details_prefix="quote already confirmed")
    assert_unchanged(deal, before)
    assert len(before["fills"][0]["fills"]) == len(before["fills"][1]["fills"]) == 1


@pytest.mark.parametrize("form", FORMS)
def test_confirm_after_requester_deleted_rfq_answers_400_rfq_closed(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    deleted = deal.requester.delete(f"/communications/rfqs/{deal.rfq_id}")
    assert deleted.status_code == 204, deleted.text
    quote = deal.maker.quote(deal.quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled", "rfq_closed")
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "RFQ_CLOSED")
    assert_unchanged(deal, before)
    assert_never_executes(deal)


@pytest.mark.parametrize("form", FORMS)
def test_confirm_with_maker_balance_too_low_answers_400_insufficient_balance(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    # Accepting yes makes the maker buy 10 NO at $0.55: $5.50 plus a fee.
    control.call("PUT", f"/accounts/{deal.maker.account.user_id}/balance",
                 {"balance_dollars": "5.50"})
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "insufficient_balance", message="insufficient balance")
    assert_unchanged(deal, before)
    assert before["quote"][1]["status"] == "accepted"

    # The refusal left the quote confirmable once the maker can pay.
    control.call("PUT", f"/accounts/{deal.maker.account.user_id}/balance",
                 {"balance_dollars": "6"})
    assert deal.confirm(form).status_code == 204


@pytest.mark.parametrize("form", FORMS)
def test_simultaneous_confirms_succeed_once_and_start_one_execution_timer(
        control: Control, form: str) -> None:
    deal = accepted_deal(control)
    url = control.base_url + API + confirm_path(form, deal.rfq_id, deal.quote_id)
    account = deal.maker.account

    def confirm_once(_: int) -> httpx.Response:
        return httpx.put(url, auth=KalshiAuth(account.key_id, account.private_key_pem))

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(confirm_once, range(8)))

    assert sorted(r.status_code for r in responses) == [204] + [400] * 7
    for response in responses:
        if response.status_code == 400:
            assert_error(response, 400, "invalid_parameters",
                         details_prefix="quote already confirmed")
    assert control.call("GET", "/clock")["pending_timers"] == 1
    assert control.advance(15)["fired_timers"] == 1
    for trader in (deal.requester, deal.maker):
        assert len(trader.get("/portfolio/fills").json()["fills"]) == 1


# Timing boundaries --------------------------------------------------------------------------

@pytest.mark.parametrize("market", [MARKET, HVM_MARKET])
@pytest.mark.parametrize("form", FORMS)
def test_confirm_at_last_microsecond_of_window_succeeds(
        control: Control, form: str, market: str) -> None:
    window, delay = WINDOWS[market]
    deal = accepted_deal(control, market)
    assert deal.accepted_at is not None
    last = deal.accepted_at + window * MICROS - 1
    assert advance_to(control, last)["fired_timers"] == 0

    response = deal.confirm(form)

    assert response.status_code == 204, response.text
    quote = deal.maker.quote(deal.quote_id)
    assert quote["status"] == "confirmed"
    assert parse_instant(quote["confirmed_ts"]) == last
    assert parse_instant(control.call("GET", "/clock")["next_timer"]) == last + delay * MICROS


@pytest.mark.parametrize("market", [MARKET, HVM_MARKET])
@pytest.mark.parametrize("form", FORMS)
def test_confirm_at_window_deadline_answers_400_quote_expired(
        control: Control, form: str, market: str) -> None:
    window, _ = WINDOWS[market]
    deal = accepted_deal(control, market)
    assert deal.accepted_at is not None
    deadline = deal.accepted_at + window * MICROS
    assert advance_to(control, deadline)["fired_timers"] == 1
    before = snapshot(deal)

    response = deal.confirm(form)

    assert_error(response, 400, "quote_expired")
    assert_unchanged(deal, before)
    quote = deal.maker.quote(deal.quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled",
                                                               "confirmation_timeout")
    assert parse_instant(quote["cancelled_ts"]) == deadline


@pytest.mark.parametrize("market", [MARKET, HVM_MARKET])
@pytest.mark.parametrize("form", FORMS)
def test_execution_timer_fires_exactly_at_confirm_plus_delay_not_before(
        control: Control, form: str, market: str) -> None:
    _, delay = WINDOWS[market]
    deal = accepted_deal(control, market)
    confirmed_at = now(control)
    assert deal.confirm(form).status_code == 204
    due = confirmed_at + delay * MICROS

    assert advance_to(control, due - 1)["fired_timers"] == 0
    assert deal.maker.quote(deal.quote_id)["status"] == "confirmed"
    assert deal.maker.get("/portfolio/orders").json()["orders"] == []

    assert advance_to(control, due)["fired_timers"] == 1
    quote = deal.maker.quote(deal.quote_id)
    assert quote["status"] == "executed"
    assert parse_instant(quote["executed_ts"]) == due
    orders = [t.get("/portfolio/orders").json()["orders"] for t in (deal.requester, deal.maker)]
    assert [len(o) for o in orders] == [1, 1]
    assert deal.requester.rfq(deal.rfq_id)["status"] == "closed"
