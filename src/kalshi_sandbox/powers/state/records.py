"""What one piece of work drew, for the journal: ids, keys and effects, and a replay's supply.

A request, a timer firing or a seed sets the current ``Record`` for the code it runs (context
variables), and the identifier and key generators append what they draw to it. A replay sets
a ``Supply`` instead, and they hand out the recorded values in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.keys import public_pem_of

T = TypeVar("T")

KeyPair = tuple[str, str]
"""A generated key pair: (private PEM, public PEM)."""


@dataclass(slots=True, eq=False)
class Record:
    """What one request, timer firing or seed drew and did, for its journal entry.

    ``head`` holds what is known of the work when it begins (a request's method, path and
    body; a timer's kind and subject), so the journal can describe work whose changes are
    committed before its entry is written (powers/state/journal.py).
    """

    kind: str
    ids: list[str] = field(default_factory=list)
    keys: list[KeyPair] = field(default_factory=list)
    effects: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    reached: bool = False
    """Whether the request got past fault injection to the app."""
    authorized: bool = False
    """Whether the control plane's guard let the request in."""
    head: dict[str, Any] | None = None
    body: bytes | None = None
    """A request's body, journaled only if the request was authenticated."""
    instant: int | None = None
    seq: int = 0
    """The entry's ``seq``, drawn when the work first changes something (else when written)."""
    committed: bool = False
    """Some change of this work is committed."""
    uncommitted: bool = False
    """Some change of this work waits for its commit."""
    appended: bool = False
    """The work is done and its entry waits to be written."""
    written: bool = False

    @property
    def authenticated(self) -> bool:
        """Whether a signature or the control plane's guard let the request in."""
        return self.actor is not None or self.authorized

    def describe(self) -> dict[str, Any]:
        """Return the entry's fields known so far: the head, the body if the request was
        authenticated, the actor, and what the work drew."""
        result = dict(self.head) if self.head else {}
        if self.body and self.authenticated:
            result.update(body_fields(self.body))
        if self.actor is not None:
            result["actor"] = self.actor
        result.update(self.entry_fields())
        return result

    def entry_fields(self) -> dict[str, Any]:
        """Return the replay fields of the entry: ids, keys and effects, where there are any.

        A generated key pair is kept by its private key alone: the public key follows.
        """
        result: dict[str, Any] = {}
        if self.ids:
            result["ids"] = self.ids
        if self.keys:
            result["keys"] = [{"private_key_pem": private} for private, _ in self.keys]
        result.update(self.effects)
        return result


@dataclass(slots=True)
class Supply:
    """Recorded values a replay hands out again, in the order they were first drawn."""

    ids: deque[str] = field(default_factory=deque)
    keys: deque[KeyPair] = field(default_factory=deque)
    shortfall: int = 0
    """How many values were asked for beyond those recorded (new ones were made up)."""

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> Supply:
        """Return the supply recorded in a journal entry."""
        ids = entry.get("ids") or []
        keys = entry.get("keys") or []
        if not isinstance(ids, list) or not isinstance(keys, list):
            return cls()
        return cls(deque(str(i) for i in ids),
                   deque(_pair(k) for k in keys if isinstance(k, Mapping)))


def body_fields(body: bytes) -> dict[str, Any]:
    """Return a request body as journal fields: ``body`` if it is JSON, else ``body_text``."""
    try:
        return {"body": _decoder.decode(body)}
    except (msgspec.DecodeError, RecursionError):
        return {"body_text": body.decode("utf-8", "replace")}


def _pair(key: Mapping[str, Any]) -> KeyPair:
    private = str(key.get("private_key_pem", ""))
    public = key.get("public_key_pem")
    if not isinstance(public, str):
        try:
            public = public_pem_of(private)
        except Exception:  # not a key: a replay finds the account unusable, as recorded
            public = ""
    return private, public


_decoder = msgspec.json.Decoder()

_record: ContextVar[Record | None] = ContextVar("kalshi_sandbox_journal_record", default=None)
_supply: ContextVar[Supply | None] = ContextVar("kalshi_sandbox_journal_supply", default=None)


def current_record() -> Record | None:
    """Return the record of the request, timer firing or seed running in this context."""
    return _record.get()


def set_record(record: Record | None) -> Callable[[], None]:
    """Make ``record`` current in this context; return a function that undoes it."""
    token = _record.set(record)
    return lambda: _record.reset(token)


def set_supply(supply: Supply | None) -> Callable[[], None]:
    """Hand out ``supply``'s values in this context; return a function that undoes it."""
    token = _supply.set(supply)
    return lambda: _supply.reset(token)


class JournalIds(IdGenerator):
    """An ``IdGenerator`` whose every id is recorded, or taken from a replay's supply."""

    def __init__(self, inner: IdGenerator | None = None) -> None:
        super().__init__()
        self.inner = inner or IdGenerator()

    def new(self) -> str:
        return self._take(self.inner.new)

    def token(self, length: int = 8) -> str:
        return self._take(lambda: self.inner.token(length))

    def _take(self, make: Callable[[], str]) -> str:
        return _drawn(make, lambda supply: supply.ids, lambda record: record.ids)


def _drawn(make: Callable[[], T], supplied: Callable[[Supply], deque[T]],
           recorded: Callable[[Record], list[T]]) -> T:
    """Return the next value a replay's supply holds, else ``make()``; record it either way."""
    supply = _supply.get()
    if supply is not None:
        queue = supplied(supply)
        if queue:
            value = queue.popleft()
        else:
            supply.shortfall += 1
            value = make()
    else:
        value = make()
    record = _record.get()
    if record is not None:
        recorded(record).append(value)
    return value


def drawn_key_pairs(generate: Callable[[], KeyPair]) -> Callable[[], KeyPair]:
    """Wrap a key-pair generator so generated pairs are recorded or taken from a supply."""

    def generate_journaled() -> KeyPair:
        return _drawn(generate, lambda supply: supply.keys, lambda record: record.keys)

    return generate_journaled


__all__ = [
    "JournalIds",
    "KeyPair",
    "Record",
    "Supply",
    "body_fields",
    "current_record",
    "drawn_key_pairs",
    "set_record",
    "set_supply",
]
