"""The clock seam: instants, RFC 3339 rendering, the manual and the system clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_sandbox.domain import clock as clock_module
from kalshi_sandbox.domain.clock import (
    MICROS,
    ManualClock,
    SystemClock,
    format_instant,
    parse_instant,
    to_datetime,
)

# 2026-01-02T03:04:05Z
INSTANT = 1_767_323_045 * MICROS


class FakeTime:
    """Stands in for the ``time`` module inside ``domain.clock``: real time moves on command."""

    def __init__(self, ns: int) -> None:
        self.ns = ns
        self.gmtime = time.gmtime
        self.strftime = time.strftime

    def time_ns(self) -> int:
        return self.ns

    def sleep(self, seconds: float) -> None:
        self.ns += int(seconds * 1_000_000_000)


@pytest.fixture
def real_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime(INSTANT * 1000)
    monkeypatch.setattr(clock_module, "time", fake)
    return fake


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "2026-01-02T03:04:05Z"),
        (500_000, "2026-01-02T03:04:05.5Z"),
        (120_000, "2026-01-02T03:04:05.12Z"),
        (123_456, "2026-01-02T03:04:05.123456Z"),
        (1, "2026-01-02T03:04:05.000001Z"),
        (100, "2026-01-02T03:04:05.0001Z"),
    ],
)
def test_format_instant_trims_trailing_zeros_like_go_rfc3339nano(micros: int, text: str) -> None:
    assert format_instant(INSTANT + micros) == text


def test_format_instant_epoch_is_1970() -> None:
    assert format_instant(0) == "1970-01-01T00:00:00Z"


def test_format_instant_before_epoch_keeps_positive_fraction() -> None:
    assert format_instant(-500_000) == "1969-12-31T23:59:59.5Z"


@given(st.integers(min_value=-(10**15), max_value=253_402_300_799 * MICROS))
def test_format_then_parse_instant_round_trips(instant: int) -> None:
    assert parse_instant(format_instant(instant)) == instant


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-01-02T03:04:05Z", INSTANT),
        ("2026-01-02T03:04:05.5Z", INSTANT + 500_000),
        ("2026-01-02T04:04:05+01:00", INSTANT),
        ("2026-01-02T02:04:05-01:00", INSTANT),
        ("2026-01-02T03:04:05", INSTANT),
    ],
)
def test_parse_instant_accepts_z_offsets_and_naive_utc(text: str, instant: int) -> None:
    assert parse_instant(text) == instant


def test_parse_instant_nanoseconds_truncate_to_microseconds() -> None:
    assert parse_instant("2026-01-02T03:04:05.123456789Z") == INSTANT + 123_456


def test_parse_instant_garbage_raises_value_error() -> None:
    with pytest.raises(ValueError, match="isoformat"):
        parse_instant("yesterday")


def test_to_datetime_is_aware_utc_with_microseconds() -> None:
    assert to_datetime(INSTANT + 7) == datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)


def test_manual_clock_stands_still_until_set() -> None:
    clock = ManualClock(INSTANT)
    assert clock.manual is True
    assert clock.now() == INSTANT
    assert clock.now() == INSTANT
    clock.set(INSTANT + MICROS)
    assert clock.now() == INSTANT + MICROS


def test_manual_clock_set_to_same_instant_is_allowed() -> None:
    clock = ManualClock(INSTANT)
    clock.set(INSTANT)
    assert clock.now() == INSTANT


def test_manual_clock_set_backwards_raises_and_keeps_time() -> None:
    clock = ManualClock(INSTANT)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(INSTANT - 1)
    assert clock.now() == INSTANT


def test_manual_clock_without_start_begins_at_real_now(real_time: FakeTime) -> None:
    assert ManualClock().now() == INSTANT


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), max_size=30))
def test_manual_clock_never_goes_backwards(moves: list[int]) -> None:
    clock = ManualClock(INSTANT)
    for move in moves:
        before = clock.now()
        if move < 0:
            with pytest.raises(ValueError, match="backwards"):
                clock.set(before + move)
        else:
            clock.set(before + move)
        assert clock.now() >= before


def test_system_clock_at_speed_one_reads_real_time(real_time: FakeTime) -> None:
    clock = SystemClock()
    assert clock.manual is False
    real_time.sleep(2.5)
    assert clock.now() == INSTANT + 2_500_000


def test_system_clock_speed_factor_runs_faster_from_real_now(real_time: FakeTime) -> None:
    clock = SystemClock(speed=10)
    assert clock.now() == INSTANT
    real_time.sleep(1)
    assert clock.now() == INSTANT + 10 * MICROS


def test_system_clock_set_speed_changes_rate_without_a_jump(real_time: FakeTime) -> None:
    clock = SystemClock(speed=10)
    real_time.sleep(3)
    before = clock.now()
    clock.set_speed(2)
    assert clock.now() == before
    real_time.sleep(1)
    assert clock.now() == before + 2 * MICROS
    clock.set_speed(1)
    real_time.sleep(1)
    assert clock.now() == before + 3 * MICROS


def test_system_clock_real_delay_divides_by_speed(real_time: FakeTime) -> None:
    clock = SystemClock(speed=10)
    assert clock.real_delay(INSTANT + 30 * MICROS) == pytest.approx(3.0)
    assert clock.real_delay(INSTANT - MICROS) == 0.0


@pytest.mark.parametrize("speed", [0, -1.0])
def test_system_clock_non_positive_speed_raises(speed: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        SystemClock(speed)
    clock = SystemClock()
    with pytest.raises(ValueError, match="positive"):
        clock.set_speed(speed)
    assert clock.speed == 1.0
