"""The exchange's tunable rules: windows, high-volatility markets, fees, sizes and limits.

Kalshi's defaults (docs/behaviour.md): a maker has 30 s to confirm an accepted quote and the
trade executes 15 s after the confirm; on a high-volatility market (every combo market among
them) the windows are 3 s and 1 s. The requester pays the taker fee, the maker the maker fee.
Every setting that changes a rule is a field here, in internal units; the exchange builds one
``Rules`` from the server's settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.market import Market, on_grid
from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.quote import Side, Terms, size_for_target, trade_terms
from kalshi_sandbox.domain.rfq import Rfq

COMBO_PREFIX = "KXMVE"
"""Kalshi's combo (multivariate) markets' tickers begin with this."""


def is_high_volatility(ticker: str, mve_collection_ticker: str | None) -> bool:
    """Return True if a market is a high-volatility one by default: every combo market is."""
    return mve_collection_ticker is not None or ticker.startswith(COMBO_PREFIX)


@dataclass(frozen=True, slots=True)
class Rules:
    """The exchange's tunable rules, in internal units (microseconds, basis points)."""

    confirm_window: int = 30 * MICROS
    execution_delay: int = 15 * MICROS
    hvm_confirm_window: int = 3 * MICROS
    hvm_execution_delay: int = 1 * MICROS
    taker_fee_bps: int = 700
    maker_fee_bps: int = 175
    max_open_rfqs: int = 100
    retention: int = 7 * 86_400 * MICROS
    """How long closed RFQs and cancelled quotes stay readable after their last update."""
    accepted_side_flip: bool = False
    idempotent_confirm: bool = False
    whole_contracts: bool = False
    replace_existing_scope: str = "all"
    rfq_ttl: int = 0
    block_trade_fills: bool = True

    def windows(self, market: Market) -> tuple[int, int]:
        """Return (confirmation window, execution delay) for ``market``."""
        if market.hvm:
            return self.hvm_confirm_window, self.hvm_execution_delay
        return self.confirm_window, self.execution_delay

    def terms(self, yes_bid: int, no_bid: int, side: Side) -> Terms:
        """Return who trades what when ``side`` of a quote with these bids is accepted."""
        return trade_terms(yes_bid, no_bid, side, flip=self.accepted_side_flip)

    def side_sizes(self, rfq: Rfq, yes_bid: int, no_bid: int) -> tuple[int, int]:
        """Return the contracts accepting YES and accepting NO would trade.

        A side the maker declines (bid 0) trades nothing; a contract-sized RFQ trades its
        size; a target-cost RFQ as many contracts as the target buys at the side's price.
        """
        sizes = []
        for side in (Side.YES, Side.NO):
            terms = self.terms(yes_bid, no_bid, side)
            if terms.maker_price == 0:
                sizes.append(0)
            elif rfq.target_cost is None:
                sizes.append(rfq.contracts)
            else:
                sizes.append(size_for_target(
                    rfq.target_cost, terms.requester_price,
                    taker_fee_bps=self.taker_fee_bps,
                    excludes_fees=rfq.target_cost_excludes_fees,
                    whole_contracts=self.whole_contracts,
                ))
        return sizes[0], sizes[1]

    def retained(self, finished: bool, updated_ts: int, now: int) -> bool:
        """Return True if an object is still readable at ``now``.

        Closed RFQs and cancelled quotes (``finished``) vanish ``retention`` after their
        last update; everything else stays.
        """
        return not finished or updated_ts >= now - self.retention


def check_quote_prices(market: Market, yes_bid: int, no_bid: int) -> None:
    """Refuse bids that are both zero, off the market's price grid, or sum above $1."""
    if yes_bid == 0 and no_bid == 0:
        raise InvalidParameters("yes_bid and no_bid cannot both be zero")
    for name, price in (("yes_bid", yes_bid), ("no_bid", no_bid)):
        if price and not on_grid(price, market.price_ranges):
            raise InvalidParameters(
                f"{name} {price / 10_000:.4f} is not on the price grid of {market.ticker} "
                f"({market.price_level_structure})"
            )
    if yes_bid + no_bid > ONE_DOLLAR:
        raise InvalidParameters("yes_bid + no_bid must not exceed 1.00")


def check_market_open(market: Market | None, ticker: str) -> Market:
    """Return the market an RFQ may be created on, or raise as Kalshi does."""
    if market is None:
        raise InvalidParameters(f"market {ticker} not found")
    if not market.tradable:
        raise InvalidParameters(f"market {market.ticker} is {market.status}, not open for trading")
    return market


__all__ = [
    "COMBO_PREFIX",
    "Rules",
    "check_market_open",
    "check_quote_prices",
    "is_high_volatility",
]
