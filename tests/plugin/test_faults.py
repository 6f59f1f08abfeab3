"""The fixture's fault helpers: rules through ``sb.faults`` and the per-request header."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from kalshi_sandbox.client import (
    InsufficientBalanceError,
    QuoteCreated,
    RateLimitError,
    RfqCreated,
    SequenceGap,
    ServerError,
    Subscribed,
)
from kalshi_sandbox.testing import ControlPlaneError, Faults, KalshiSandbox


def test_error_rule_answers_the_matching_account_only_and_leaves_no_rfq(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    rule = sb.faults.error(503, "service_unavailable", "try later",
                           path="/trade-api/v2/communications/rfqs", method="POST",
                           account=sb.requester, count=1)
    assert (rule.match["account"], rule.action["status"], rule.count) == (
        sb.requester.user_id, 503, 1)
    requester = sb.client(sb.requester)
    with pytest.raises(ServerError) as failed:
        requester.create_rfq(sb.markets[0], contracts=10)
    assert (failed.value.status_code, failed.value.code) == (503, "service_unavailable")
    assert list(requester.iter_rfqs()) == []

    seen = sb.faults.get(rule)
    assert (seen.hits, seen.remaining) == (1, 0)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)  # the rule has retired
    assert [r.id for r in requester.iter_rfqs()] == [rfq_id]


def test_rate_limit_rule_answers_429_with_kalshi_body(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.faults.rate_limit(path="/trade-api/v2/portfolio/balance")
    client = sb.client(sb.maker)
    with pytest.raises(RateLimitError) as limited:
        client.get_balance()
    assert limited.value.status_code == 429
    assert limited.value.message == "too many requests"
    assert client.get_market(sb.markets[0]).ticker == sb.markets[0]


def test_header_forces_a_fault_on_every_request_of_a_client(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    assert Faults.header(error=503) == {"X-Sandbox-Fault": "error=503"}
    assert Faults.header(latency=100, error="400:insufficient_balance") == {
        "X-Sandbox-Fault": "latency=100, error=400:insufficient_balance"}
    assert Faults.header(rate_limit=True) == {"X-Sandbox-Fault": "rate_limit"}
    with pytest.raises(ValueError, match="at least one"):
        Faults.header()

    faulty = sb.client(sb.requester, headers=sb.faults.header(error="400:insufficient_balance"))
    with pytest.raises(InsufficientBalanceError) as refused:
        faulty.create_rfq(sb.markets[0], contracts=10)
    assert (refused.value.status_code, refused.value.code) == (400, "insufficient_balance")
    assert list(sb.client(sb.requester).iter_rfqs()) == []


def test_list_remove_and_clear_rules(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    first = sb.faults.latency(1, path="/trade-api/v2/markets")
    second = sb.faults.error(500, market=sb.markets[1], probability=0.5, seed=7)
    assert [r.id for r in sb.faults.list()] == [first.id, second.id]
    assert (second.probability, second.seed, second.match["market"]) == (0.5, 7, sb.markets[1])
    sb.faults.remove(first)
    assert [r.id for r in sb.faults.list()] == [second.id]
    sb.faults.clear()
    assert sb.faults.list() == []
    with pytest.raises(ControlPlaneError) as missing:
        sb.faults.remove(second.id)
    assert missing.value.status == 404


def test_invalid_rule_is_refused_with_400(kalshi_sandbox: KalshiSandbox) -> None:
    with pytest.raises(ControlPlaneError) as refused:
        kalshi_sandbox.faults.add({"type": "explode"})
    assert refused.value.status == 400


def test_ws_drop_rule_loses_a_message_the_client_sees_as_a_gap(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.faults.ws_drop(["rfq_created"], account=sb.maker, count=1)
    requester = sb.client(sb.requester)

    async def scenario() -> list[object]:
        seen: list[object] = []
        async with sb.async_client(sb.maker) as maker, maker.subscribe() as stream:
            async for event in stream:
                if isinstance(event, Subscribed):
                    break
            dropped = await asyncio.to_thread(requester.create_rfq, sb.markets[0],
                                              contracts=1)
            await asyncio.to_thread(requester.delete_rfq, dropped)
            kept = await asyncio.to_thread(requester.create_rfq, sb.markets[0], contracts=2)
            async with asyncio.timeout(10):
                async for event in stream:
                    seen.append(event)
                    if isinstance(event, RfqCreated) and event.id == kept:
                        return seen
        return seen

    seen = asyncio.run(scenario())
    created = [e for e in seen if isinstance(e, RfqCreated)]
    assert [e.contracts for e in created] == [Decimal("2")]
    assert any(isinstance(e, SequenceGap) for e in seen)
    assert not any(isinstance(e, QuoteCreated) for e in seen)
