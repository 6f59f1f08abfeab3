"""What callers ask the exchange: the acting user, validated commands, list filters, pages.

Front doors (Kalshi's REST API, the counterparties) parse their input into these; the
exchange's use cases take them in internal units (prices in $0.0001, counts in 0.01
contracts, money in micro-dollars, instants in microseconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.queries import Cursor
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import RfqStatus

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller of a use case."""

    user_id: str
    communications_id: str


@dataclass(frozen=True, slots=True)
class CreateRfq:
    """A validated Create RFQ request; sizes in internal units."""

    market_ticker: str
    rest_remainder: bool
    contracts: int | None = None
    target_cost: int | None = None
    target_cost_excludes_fees: bool = False
    replace_existing: bool = False
    subaccount: int = 0
    obscure_creator_id: bool = False


@dataclass(frozen=True, slots=True)
class CreateQuote:
    """A validated Create Quote request; prices in $0.0001 units."""

    rfq_id: str
    yes_bid: int
    no_bid: int
    rest_remainder: bool
    post_only: bool = False
    subaccount: int = 0
    price_error: str | None = None
    """Why the bids are unusable, if they are; reported only after the RFQ checks, as Kalshi
    validates prices after the RFQ's existence and state (docs/behaviour.md)."""


@dataclass(frozen=True, slots=True)
class RfqFilters:
    """Filters of Get RFQs."""

    limit: int = 100
    after: Cursor | None = None
    market_ticker: str | None = None
    event_ticker: str | None = None
    status: RfqStatus | None = None
    creator_user_id: str | None = None
    subaccount: int | None = None
    only_mine: bool = False


@dataclass(frozen=True, slots=True)
class QuoteFilters:
    """Filters of Get Quotes."""

    limit: int = 500
    after: Cursor | None = None
    status: QuoteStatus | None = None
    rfq_id: str | None = None
    only_mine: bool = False
    only_my_rfqs: bool = False
    legacy_creator_user_id: str | None = None
    legacy_rfq_creator_user_id: str | None = None
    min_updated: Instant | None = None
    max_updated: Instant | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and where the next one starts (None on the last page)."""

    items: Sequence[T]
    next: Cursor | None = None

    @classmethod
    def of(cls, rows: Sequence[T], limit: int, key: Callable[[T], Cursor]) -> Page[T]:
        """Cut ``rows``, read with a limit one above ``limit``, into a page.

        The extra row only says that another page follows; the cursor is the key of the
        page's last row.
        """
        if len(rows) <= limit:
            return cls(rows)
        items = rows[:limit]
        return cls(items, key(items[-1]))


__all__ = ["Actor", "CreateQuote", "CreateRfq", "Page", "QuoteFilters", "RfqFilters"]
