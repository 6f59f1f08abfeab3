"""Identifier generation: UUIDv7 ordered by the clock, UUIDv4 without one."""

from __future__ import annotations

import re
import uuid

from kalshi_sandbox.domain.clock import MICROS, ManualClock
from kalshi_sandbox.exchange.ids import IdGenerator

START = 1_800_000_000 * MICROS


def test_ids_with_a_clock_are_uuid7_carrying_the_clock_millisecond() -> None:
    clock = ManualClock(START + 123_456)
    value = uuid.UUID(IdGenerator(clock=clock).new())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == (START + 123_456) // 1000


def test_ids_increase_while_a_manual_clock_stands_still_even_past_the_sequence() -> None:
    clock = ManualClock(START)
    ids = IdGenerator(clock=clock)
    values = [ids.new() for _ in range(10_000)]
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    # Past 4,096 ids in one millisecond the millisecond field runs ahead of the clock...
    assert uuid.UUID(values[-1]).int >> 80 == START // 1000 + 2
    # ...and later ids stay above it until the clock catches up.
    clock.set(START + 1000)
    later = ids.new()
    assert later > values[-1]
    clock.set(START + 10_000)
    assert uuid.UUID(ids.new()).int >> 80 == (START + 10_000) // 1000


def test_ids_follow_the_clock_forward() -> None:
    clock = ManualClock(START)
    ids = IdGenerator(clock=clock)
    first = ids.new()
    clock.set(START + 5 * MICROS)
    second = ids.new()
    assert second > first
    assert (uuid.UUID(second).int >> 80) - (uuid.UUID(first).int >> 80) == 5000


def test_ids_without_a_clock_are_uuid4() -> None:
    values = {IdGenerator().new() for _ in range(200)}
    assert len(values) == 200
    assert all(uuid.UUID(v).version == 4 and uuid.UUID(v).variant == uuid.RFC_4122
               for v in values)


def test_a_seed_repeats_the_sequence() -> None:
    clock = ManualClock(START)
    assert ([IdGenerator(seed=3).new() for _ in range(3)]
            == [IdGenerator(seed=3).new() for _ in range(3)])
    first, second = IdGenerator(seed=3, clock=clock), IdGenerator(seed=3, clock=clock)
    assert [first.new() for _ in range(5)] == [second.new() for _ in range(5)]


def test_tokens_are_random_hex_of_the_length_asked() -> None:
    ids = IdGenerator(clock=ManualClock(START))
    tokens = {ids.token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"[0-9a-f]{8}", t) for t in tokens)
    assert re.fullmatch(r"[0-9a-f]{32}", ids.token(32))
