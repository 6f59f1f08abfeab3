"""Per-user rate limits: buckets by user, tiers stored with the accounts, refill on load."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import InvalidParameters, NotFound
from kalshi_sandbox.domain.limits import READ, TIERS, WRITE
from kalshi_sandbox.exchange.ratelimits import TIERS_KEY, RateLimits
from kalshi_sandbox.settings import Settings
from tests.service.harness import Harness

pytestmark = pytest.mark.anyio


def limits_of(harness: Harness, default: str = "basic") -> RateLimits:
    return RateLimits(harness.store, harness.clock, default)


def drain(limits: RateLimits, user_id: str, write: bool = True) -> int:
    """Send requests until one is refused; return how many were allowed."""
    allowed = 0
    while limits.allow(user_id, WRITE if write else READ):
        allowed += 1
    return allowed


async def test_each_user_has_buckets_of_their_own(harness: Harness) -> None:
    limits = limits_of(harness)
    assert drain(limits, "user-a") == 10
    assert drain(limits, "user-b") == 10
    assert not limits.allow("user-a", WRITE)


async def test_buckets_refill_only_as_the_clock_moves(harness: Harness) -> None:
    limits = limits_of(harness)
    drain(limits, "user-a")
    assert not limits.allow("user-a", WRITE)
    await harness.advance(MICROS // 10)
    assert limits.allow("user-a", WRITE)
    assert not limits.allow("user-a", WRITE)
    await harness.advance(MICROS)
    assert drain(limits, "user-a") == 10


async def test_a_tier_is_stored_and_takes_effect_with_full_buckets(harness: Harness) -> None:
    limits = limits_of(harness)
    user = await harness.account("a", 0)
    drain(limits, user.user_id)
    assert await limits.set_tier(user.user_id, "premier") is TIERS["premier"]
    assert limits.tier_of(user.user_id) is TIERS["premier"]
    assert drain(limits, user.user_id) == 200
    async with harness.store.transaction() as tx:
        assert await tx.get_meta(TIERS_KEY) == '{"user-a": "premier"}'
    # Another process over the same database (a restart) finds it again.
    again = limits_of(harness)
    await again.load()
    assert again.tier_of(user.user_id) is TIERS["premier"]
    assert again.tier_of("user-unknown") is TIERS["basic"]


async def test_load_refills_every_bucket(harness: Harness) -> None:
    limits = limits_of(harness)
    drain(limits, "user-a")
    await limits.load()
    assert drain(limits, "user-a") == 10


async def test_set_tier_refuses_unknown_tiers_and_accounts(harness: Harness) -> None:
    limits = limits_of(harness)
    user = await harness.account("a", 0)
    with pytest.raises(InvalidParameters, match="unknown usage tier 'gold'"):
        await limits.set_tier(user.user_id, "gold")
    with pytest.raises(NotFound):
        await limits.set_tier("user-nobody", "prime")
    assert limits.tier_of(user.user_id) is TIERS["basic"]


async def test_default_tier_comes_from_settings(harness: Harness) -> None:
    prime = RateLimits.from_settings(harness.store, harness.clock,
                                     Settings(rate_limit="prime"))
    assert (prime.default, prime.enforced) == (TIERS["prime"], True)
    off = RateLimits.from_settings(harness.store, harness.clock, Settings(rate_limit="off"))
    assert (off.default, off.enforced) == (TIERS["basic"], False)

