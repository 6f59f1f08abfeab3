"""Multivariate event collections: the combos a user may build from legs of other markets.

A collection names the events whose markets may be combined
(https://docs.kalshi.com/api-reference/multivariate/get-multivariate-event-collection);
``check_legs`` applies the documented refusals of ``POST
/multivariate_event_collections/{collection_ticker}`` (docs/behaviour.md, "Combos").
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.lifecycle import Leg


@dataclass(frozen=True, slots=True)
class Collection:
    """A multivariate event collection (Kalshi's MultivariateEventCollection object)."""

    collection_ticker: str
    series_ticker: str
    title: str
    description: str
    associated_events: str
    """Comma-separated event tickers whose markets may be legs."""
    open_date: Instant
    close_date: Instant
    is_single_market_per_event: bool
    is_all_yes: bool
    size_min: int
    size_max: int
    created_ts: Instant

    @property
    def events(self) -> tuple[str, ...]:
        """Return the associated event tickers."""
        return tuple(e for e in self.associated_events.split(",") if e)


class ComboError(InvalidParameters):
    """A combo request whose legs do not fit the collection (``details`` lists the tickers)."""


def _refuse(code: str, message: str, tickers: list[str]) -> ComboError:
    return ComboError(",".join(dict.fromkeys(tickers)), message=message, code=code)


def check_legs(collection: Collection, legs: tuple[Leg, ...],
               market_events: dict[str, str]) -> None:
    """Raise ``ComboError`` unless ``legs`` make a combo of ``collection``.

    ``market_events`` maps each leg's market ticker, if it exists, to its event.
    """
    if not collection.size_min <= len(legs) <= collection.size_max:
        raise InvalidParameters(
            f"a combo of {collection.collection_ticker} needs {collection.size_min} to "
            f"{collection.size_max} legs")
    counts = Counter((leg.market_ticker, leg.side) for leg in legs)
    duplicated = [ticker for (ticker, _), count in counts.items() if count > 1]
    if duplicated:
        raise _refuse("duplicated_legs", "duplicated legs", duplicated)
    sides: dict[str, str] = {}
    conflicting = [leg.market_ticker for leg in legs
                   if sides.setdefault(leg.market_ticker, leg.side) != leg.side]
    if conflicting:
        raise _refuse("conflicting_leg_outcomes", "conflicting leg outcomes", conflicting)
    allowed = set(collection.events)
    invalid = [leg.market_ticker for leg in legs
               if market_events.get(leg.market_ticker) != leg.event_ticker
               or leg.event_ticker not in allowed
               or (collection.is_all_yes and leg.side != "yes")]
    if collection.is_single_market_per_event:
        per_event: dict[str, str] = {}
        invalid += [leg.market_ticker for leg in legs
                    if per_event.setdefault(leg.event_ticker, leg.market_ticker)
                    != leg.market_ticker]
    if invalid:
        raise _refuse("invalid_market_combination", "invalid market combination", invalid)


def combo_tickers(collection: Collection, legs: tuple[Leg, ...]) -> tuple[str, str]:
    """Return the (event ticker, market ticker) of the combo of ``legs``: the same legs
    in any order name the same market, as on Kalshi, under a ``KXMVE`` prefix."""
    key = ";".join(sorted(f"{leg.market_ticker}:{leg.side}" for leg in legs))
    digest = hashlib.sha256(f"{collection.collection_ticker}|{key}".encode()).hexdigest()
    event = f"{collection.collection_ticker}-{digest[:10].upper()}"
    return event, f"{event}-{digest[10:20].upper()}"


__all__ = ["Collection", "ComboError", "check_legs", "combo_tickers"]
