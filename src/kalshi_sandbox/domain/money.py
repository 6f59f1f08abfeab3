"""Fixed-point money and contract counts, as exact integers.

Kalshi's wire carries decimal strings: prices with up to 4 decimals, counts with up to 2,
fees with 6. Internally every amount is an integer in the smallest unit that keeps all
arithmetic exact:

* a price is in units of $0.0001 (``PRICE_SCALE``), so $1 == 10_000;
* a count is in units of 0.01 contract (``COUNT_SCALE``), so 1 contract == 100;
* money (balances, costs, fees) is in micro-dollars (``MONEY_SCALE``); price x count is
  exactly micro-dollars, because 1e-4 x 1e-2 == 1e-6.
"""

from __future__ import annotations

import re

from kalshi_sandbox.domain.errors import InvalidParameters

PRICE_SCALE = 10_000
COUNT_SCALE = 100
MONEY_SCALE = 1_000_000
ONE_DOLLAR = PRICE_SCALE

# ASCII digits only, matched in full: ``\d`` would admit other scripts' digits and ``$`` a
# trailing newline.
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]*))?")
MAX_WHOLE_DIGITS = 12
"""The most whole digits a parsed amount may have, which keeps every product of amounts
inside a signed 64-bit database column."""


class MoneyFormatError(InvalidParameters, ValueError):
    """A decimal string that is not a valid fixed-point amount.

    It is Kalshi's ``invalid_parameters`` error wherever it reaches a caller, so no layer
    translates it; it is a ``ValueError`` too, for code that parses settings.
    """


def parse_fixed(text: str, decimals: int, *, what: str = "value") -> int:
    """Parse a non-negative decimal string into integer units of ``10**-decimals``.

    Accept ``"10"``, ``"10.5"`` and ``"10.50"``; reject signs, exponents, NaN, blanks and more
    fractional digits than ``decimals`` (unless the extra digits are zeros).
    """
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise MoneyFormatError(f"{what} must be a non-negative decimal string, got {text!r}")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise MoneyFormatError(f"{what} is too large, got {text[:40]!r}")
    significant = fraction.rstrip("0")
    if len(significant) > decimals:
        raise MoneyFormatError(
            f"{what} allows at most {decimals} decimal places, got {text!r}"
        )
    padded = (fraction + "0" * decimals)[:decimals]
    scale: int = 10**decimals
    return int(whole) * scale + (int(padded) if padded else 0)


def parse_price(text: str, *, what: str = "price") -> int:
    """Parse a dollar price (0-4 decimals) into units of $0.0001."""
    return parse_fixed(text, 4, what=what)


def parse_count(text: str, *, what: str = "count") -> int:
    """Parse a contract count (0-2 decimals) into units of 0.01 contract."""
    return parse_fixed(text, 2, what=what)


def parse_dollars(text: str, *, what: str = "amount") -> int:
    """Parse a dollar amount (0-4 decimals) into micro-dollars."""
    return parse_fixed(text, 4, what=what) * (MONEY_SCALE // PRICE_SCALE)


def format_fixed(units: int, decimals: int) -> str:
    """Render integer units of ``10**-decimals`` with exactly ``decimals`` places."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**decimals)
    if decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{decimals}d}"


def format_price(units: int) -> str:
    """Render a price as Kalshi does: dollars with 4 decimals (``"0.4500"``)."""
    return format_fixed(units, 4)


def format_count(units: int) -> str:
    """Render a count as Kalshi does: contracts with 2 decimals (``"10.00"``)."""
    return format_fixed(units, 2)


def format_money(micros: int, decimals: int = 4) -> str:
    """Render micro-dollars with ``decimals`` places, truncating toward zero."""
    step = 10 ** (6 - decimals)
    truncated = abs(micros) // step
    return format_fixed(truncated if micros >= 0 else -truncated, decimals)


def _truncate(units: int, step: int) -> int:
    """Divide, rounding toward zero, in exact integer arithmetic."""
    return -(-units // step) if units < 0 else units // step


def money_to_cents(micros: int) -> int:
    """Truncate micro-dollars to whole cents (Kalshi's legacy integer fields)."""
    return _truncate(micros, 10_000)


def price_to_cents(units: int) -> int:
    """Truncate a price to whole cents (legacy ``yes_bid``/``no_bid``)."""
    return units // 100


def count_to_whole(units: int) -> int:
    """Truncate a count to whole contracts (legacy ``contracts``, ``position``)."""
    return _truncate(units, COUNT_SCALE)


def cost(price: int, count: int) -> int:
    """Return the micro-dollar cost of ``count`` contracts at ``price``."""
    return price * count


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer ceiling division for non-negative operands."""
    return -(-numerator // denominator)


def trading_fee(count: int, price: int, multiplier_bps: int) -> int:
    """Return Kalshi's quadratic trading fee in micro-dollars, rounded up to $0.0001.

    fee = multiplier x contracts x P x (1 - P), with ``multiplier_bps`` in basis points
    (700 = 0.07, the standard taker multiplier).
    """
    if multiplier_bps <= 0 or count <= 0:
        return 0
    # count/100 * price/1e4 * (1e4-price)/1e4 * bps/1e4 dollars, in micro-dollars:
    numerator = count * price * (PRICE_SCALE - price) * multiplier_bps
    denominator = COUNT_SCALE * PRICE_SCALE * PRICE_SCALE * 10_000 // MONEY_SCALE
    # Round up to $0.0001 == 100 micro-dollars.
    return ceil_div(numerator, denominator * 100) * 100
