"""Rate-limit arithmetic: the tier table, token costs and continuous refill."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.limits import (
    DEFAULT_COST,
    MICRO_TOKENS,
    READ,
    TIERS,
    WRITE,
    Bucket,
    Buckets,
    Cost,
    Limit,
    TokenBucket,
    tier_named,
)
from kalshi_sandbox.settings import USAGE_TIERS

T0 = 1_767_225_600 * MICROS
MS = MICROS // 1000


def tokens(bucket: TokenBucket, at: int) -> float:
    return bucket.level_at(at) / MICRO_TOKENS


def test_tiers_have_kalshis_budgets_and_capacities() -> None:
    # (read rate, read capacity, write rate, write capacity): Basic and Advanced reads and
    # every write bucket above Basic hold two seconds of budget, the others one.
    table = {name: (t.read.refill_rate, t.read.capacity, t.write.refill_rate, t.write.capacity)
             for name, t in TIERS.items()}
    assert table == {
        "basic": (200, 400, 100, 100),
        "advanced": (300, 600, 300, 600),
        "expert": (600, 600, 600, 1_200),
        "premier": (1_000, 1_000, 1_000, 2_000),
        "paragon": (2_000, 2_000, 2_000, 4_000),
        "prime": (4_000, 4_000, 4_000, 8_000),
        "prestige": (10_000, 10_000, 8_000, 16_000),
    }


def test_settings_name_the_same_tiers_in_the_same_order() -> None:
    assert tuple(TIERS) == USAGE_TIERS


def test_a_request_costs_ten_tokens_unless_its_endpoint_says_otherwise() -> None:
    assert DEFAULT_COST == 10
    assert (READ.bucket, READ.tokens, READ.write) == (Bucket.READ, 10, False)
    assert (WRITE.bucket, WRITE.tokens, WRITE.write) == (Bucket.WRITE, 10, True)
    assert Cost(Bucket.WRITE, 2).micro_tokens == 2 * MICRO_TOKENS


def test_unknown_tier_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown usage tier 'gold'; use one of basic, "):
        tier_named("gold")
    assert tier_named("prime") is TIERS["prime"]


def test_a_bucket_starts_full_and_refuses_once_it_cannot_pay() -> None:
    bucket = TokenBucket(Limit(refill_rate=100, capacity=100), T0)
    assert [bucket.take(10 * MICRO_TOKENS, T0) for _ in range(11)] == [True] * 10 + [False]
    assert tokens(bucket, T0) == 0


def test_a_refused_take_takes_nothing() -> None:
    bucket = TokenBucket(Limit(100, 100), T0)
    for _ in range(9):
        assert bucket.take(10 * MICRO_TOKENS, T0)
    assert tokens(bucket, T0) == 10
    assert not bucket.take(11 * MICRO_TOKENS, T0)
    assert tokens(bucket, T0) == 10
    assert bucket.take(10 * MICRO_TOKENS, T0)  # exactly what it holds
    assert tokens(bucket, T0) == 0


def test_refill_is_continuous_at_the_rate_in_tokens_per_second() -> None:
    bucket = TokenBucket(Limit(100, 100), T0)
    while bucket.take(10 * MICRO_TOKENS, T0):
        pass
    # 100 tokens a second: 0.1 token per millisecond, no windows, no rounding.
    assert tokens(bucket, T0 + 1) == 0.0001
    assert tokens(bucket, T0 + 37 * MS) == pytest.approx(3.7)
    assert not bucket.take(10 * MICRO_TOKENS, T0 + 99 * MS)  # 9.9 tokens
    assert bucket.take(10 * MICRO_TOKENS, T0 + 100 * MS)  # 10 tokens
    assert tokens(bucket, T0 + 100 * MS) == 0


def test_refill_stops_at_capacity() -> None:
    bucket = TokenBucket(Limit(200, 400), T0)
    assert bucket.take(400 * MICRO_TOKENS, T0)
    assert tokens(bucket, T0 + MICROS) == 200
    assert tokens(bucket, T0 + 2 * MICROS) == 400
    assert tokens(bucket, T0 + 60 * MICROS) == 400
    # A burst of 2 s of budget, then nothing more until it refills.
    later = T0 + 60 * MICROS
    assert [bucket.take(10 * MICRO_TOKENS, later) for _ in range(41)] == [True] * 40 + [False]


def test_level_at_does_not_change_the_bucket() -> None:
    bucket = TokenBucket(Limit(100, 100), T0)
    assert bucket.take(100 * MICRO_TOKENS, T0)
    assert tokens(bucket, T0 + MICROS) == 100
    assert (bucket.level, bucket.updated) == (0, T0)


def test_a_clock_that_moved_backwards_refills_nothing() -> None:
    bucket = TokenBucket(Limit(100, 100), T0)
    assert bucket.take(100 * MICRO_TOKENS, T0)
    assert not bucket.take(10 * MICRO_TOKENS, T0 - MICROS)
    assert tokens(bucket, T0 - MICROS) == 0
    # Refill counts from where the clock now stands.
    assert tokens(bucket, T0 - MICROS + 100 * MS) == 10


def test_reads_and_writes_pay_from_separate_buckets() -> None:
    buckets = Buckets(TIERS["basic"], T0)
    assert all(buckets.take(WRITE, T0) for _ in range(10))
    assert not buckets.take(WRITE, T0)
    assert all(buckets.take(READ, T0) for _ in range(40))
    assert not buckets.take(READ, T0)
    assert buckets.take(Cost(Bucket.WRITE, 2), T0 + 20 * MS)  # 2 write tokens refilled
    assert tokens(buckets.bucket(Bucket.READ), T0 + 20 * MS) == 4


def test_cheap_requests_go_five_times_as_far() -> None:
    buckets = Buckets(TIERS["basic"], T0)
    quote_write = Cost(Bucket.WRITE, 2)
    assert sum(buckets.take(quote_write, T0) for _ in range(60)) == 50
