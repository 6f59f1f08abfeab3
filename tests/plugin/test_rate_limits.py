"""Rate limits through the pytest fixture: off by default, on when a test asks."""

from __future__ import annotations

import uuid

import pytest

from kalshi_sandbox.client import NotFoundError, RateLimitError
from kalshi_sandbox.testing import KalshiSandbox


def writes_until_refused(sb: KalshiSandbox, limit: int = 500) -> int:
    """Delete unknown RFQs (10 Write tokens each) until one is refused; return how many."""
    client = sb.client(sb.requester)
    try:
        for count in range(limit):
            try:
                client.delete_rfq(str(uuid.uuid4()))
            except NotFoundError:
                continue
            except RateLimitError:
                return count
        return limit
    finally:
        client.close()


def test_the_fixture_limits_nothing_by_default(kalshi_sandbox: KalshiSandbox) -> None:
    assert writes_until_refused(kalshi_sandbox, limit=200) == 200
    limits = kalshi_sandbox.limits(kalshi_sandbox.requester)
    assert (limits["enforced"], limits["usage_tier"]) == (False, "basic")


@pytest.mark.kalshi_sandbox(rate_limit="basic")
def test_the_marker_turns_rate_limits_on(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    assert writes_until_refused(sb) == 10
    sb.clock.advance(1)  # the manual clock refills the buckets, and nothing else does
    assert writes_until_refused(sb) == 10
    assert sb.set_usage_tier(sb.requester, "advanced")["write"]["tokens"] == 600
    assert writes_until_refused(sb) == 60


@pytest.mark.kalshi_sandbox(rate_limit="basic")
def test_accounts_can_be_created_at_a_tier(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    bot = sb.account("bot", usage_tier="prestige")
    limits = sb.limits(bot)
    assert (limits["usage_tier"], limits["enforced"]) == ("prestige", True)
    assert (limits["read"]["bucket_capacity"], limits["write"]["bucket_capacity"]) == (
        10_000, 16_000)
