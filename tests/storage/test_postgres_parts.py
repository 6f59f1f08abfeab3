"""The PostgreSQL backend's parts that need no server: placeholders, lock keys, URLs, the
event batch codec."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain import events as ev
from kalshi_sandbox.domain.lifecycle import MarketEvent
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.storage.eventcodec import EVENT_TYPES, decode_batch, encode_batch
from kalshi_sandbox.storage.postgres import (
    STARTUP_LOCK,
    TRANSACTION_LOCK,
    _numbered,
    lock_key,
    redact,
)
from tests.storage import entities as e


def test_portable_placeholders_become_numbered_ones_in_order() -> None:
    assert _numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == \
        "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
    assert _numbered("SELECT 1") == "SELECT 1"


def test_lock_keys_differ_by_kind_and_by_schema_and_stay_positive_bigints() -> None:
    keys = {lock_key(kind, schema) for kind in (TRANSACTION_LOCK, STARTUP_LOCK)
            for schema in (0, 1, -1, 2**31 - 1, -(2**31))}
    assert len(keys) == 10
    assert all(0 < key < 2**63 for key in keys)


def test_redact_hides_the_password_only() -> None:
    assert redact("postgresql://bob:s3cret@db:5432/x") == "postgresql://bob:***@db:5432/x"
    assert redact("postgresql://bob@db/x") == "postgresql://bob@db/x"


def test_every_event_type_survives_a_batch_round_trip() -> None:
    batch: list[ev.Event] = [
        ev.RfqCreated(e.rfq()), ev.RfqDeleted(e.rfq(), 5), ev.QuoteCreated(e.quote()),
        ev.QuoteAccepted(e.quote()), ev.QuoteConfirmed(e.quote()), ev.QuoteCancelled(e.quote()),
        ev.QuoteExecuted(e.quote(), e.order(), e.order()), ev.OrderUpdated(e.order(), True),
        ev.FillCreated(e.fill(), 300), ev.LevelChanged("T", Side.NO, 4_500, -2, "u", 1, "c", 9),
        ev.PositionChanged(e.position()), ev.MarketUpdated(e.market()),
        ev.OrderGroupChanged(e.order_group(), "triggered", 7),
        ev.MarketLifecycle(e.market(), "settled", 8),
        ev.EventLifecycle(MarketEvent("KXA-26DEC31", "KXA", "A", "", False, 1, 2, None, 3), 9),
    ]
    assert {type(event).__name__ for event in batch} == set(EVENT_TYPES)
    assert decode_batch(encode_batch(batch)) == batch


def test_a_batch_naming_an_unknown_type_is_refused() -> None:
    import msgspec

    with pytest.raises(ValueError, match="not an event batch"):
        decode_batch(msgspec.msgpack.encode([["Exploit", {}]]))
    with pytest.raises(ValueError, match="not an event batch"):
        decode_batch(b"\xff\x00")
