"""Counterparty configurations: what an auto-maker and an auto-requester do, parsed from the
control plane's JSON and stored as JSON (the power as a whole: powers/counterparties/__init__.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import (
    InvalidParameters,
)
from kalshi_sandbox.domain.money import (
    ONE_DOLLAR,
    format_count,
    format_money,
    format_price,
    parse_count,
    parse_dollars,
    parse_price,
)

MAX_DELAY = 365 * 86_400 * MICROS
MIN_INTERVAL = MICROS // 10
"""The shortest interval between an auto-requester's RFQs: a shorter one would let one clock
advance create an unbounded number of RFQs."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

MAKER = "maker"
REQUESTER = "requester"


class ConfirmPolicy(StrEnum):
    """What an auto-maker does when one of its quotes is accepted."""

    ALWAYS = "always"
    """Confirm after ``delay``."""
    NEVER = "never"
    """Never confirm: the window lapses and the quote is voided."""
    PROBABILITY = "probability"
    """Confirm after ``delay`` with probability ``probability`` (a seeded draw), else never."""
    LATE = "late"
    """Confirm ``late_by`` after the window has closed, and so receive ``quote_expired``."""


class AcceptSide(StrEnum):
    """Which side an auto-requester accepts."""

    BEST = "best"
    """The side and quote that cost the requester least per contract."""
    YES = "yes"
    NO = "no"


@dataclass(frozen=True, slots=True)
class Confirm:
    """An auto-maker's confirm policy; durations in microseconds."""

    policy: ConfirmPolicy = ConfirmPolicy.ALWAYS
    delay: int = MICROS
    probability: float = 1.0
    late_by: int = MICROS


@dataclass(frozen=True, slots=True)
class MakerConfig:
    """An auto-maker: prices in $0.0001 units, balance in micro-dollars, delays in micros."""

    name: str
    markets: tuple[str, ...] | None = None
    """Quote RFQs on these tickers only; None quotes every RFQ."""
    quote_delay: int = MICROS
    fair_price: int | None = None
    """The YES price the maker believes; None: the market's last price, else $0.50."""
    spread: int = 400
    """``yes_bid + no_bid`` is at most ``1 - spread``: half the spread on each side."""
    confirm: Confirm = field(default_factory=Confirm)
    balance: int = 100_000 * 1_000_000
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class RequesterConfig:
    """An auto-requester: counts in 0.01 contract, balance in micro-dollars, delays in micros."""

    name: str
    markets: tuple[str, ...] | None = None
    """Create RFQs on these tickers, in turn; None: on every tradable market."""
    contracts: int = 1000
    interval: int | None = None
    """Create an RFQ this often; None: only on demand."""
    accept_delay: int = MICROS
    accept_side: AcceptSide = AcceptSide.BEST
    delete_probability: float = 0.0
    balance: int = 100_000 * 1_000_000
    seed: int | None = None


Config = MakerConfig | RequesterConfig


# Reading and writing configurations -----------------------------------------------------------


def _seconds(value: Any, name: str, *, minimum: int = 0) -> int:
    """Parse a non-negative number of seconds (number or numeric string) into microseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameters(f"{name} must be a number of seconds")
    try:
        decimal = Decimal(str(value))
    except InvalidOperation:
        raise InvalidParameters(f"{name} must be a number of seconds, got {value!r}") from None
    if not decimal.is_finite():
        raise InvalidParameters(f"{name} must be a finite number of seconds")
    # Compared before it becomes an int: "1e999999999" is a Decimal in a few bytes and an
    # int of a billion digits.
    in_bounds = decimal.copy_abs() <= MAX_DELAY // MICROS
    micros = int((decimal * MICROS).to_integral_value(ROUND_HALF_UP)) if in_bounds else -1
    if micros < minimum or micros > MAX_DELAY:
        low = format_seconds(minimum)
        raise InvalidParameters(f"{name} must be between {low} and {MAX_DELAY // MICROS} "
                                "seconds")
    return micros


def format_seconds(micros: int) -> int | float:
    """Render microseconds as seconds: an int when whole."""
    whole, rest = divmod(micros, MICROS)
    return whole if rest == 0 else micros / MICROS


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameters(f"{name} must be a number between 0 and 1")
    try:
        number = float(value)
    except ValueError:
        raise InvalidParameters(f"{name} must be a number between 0 and 1") from None
    if not 0.0 <= number <= 1.0:
        raise InvalidParameters(f"{name} must be between 0 and 1")
    return number


def _text(value: Any, name: str) -> str:
    # Amounts are decimal strings on the wire; a plain JSON number is accepted for convenience.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameters(f"{name} must be a decimal string")
    return str(value)


def _price(value: Any, name: str) -> int:
    return parse_price(_text(value, name), what=name)


def _dollars(value: Any, name: str) -> int:
    return parse_dollars(_text(value, name), what=name)


def _markets(value: Any, name: str = "markets") -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise InvalidParameters(f"{name} must be a list of market tickers, or null for all")
    if not value:
        raise InvalidParameters(f"{name} must not be empty; give null for every market")
    return tuple(dict.fromkeys(value))


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameters("seed must be an integer or null")
    if not -(2**63) <= value < 2**63:
        raise InvalidParameters("seed must fit in 64 bits")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise InvalidParameters("name must be 1-64 letters, digits, '_', '.' or '-', starting "
                                "with a letter or digit")
    return value


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameters(f"{name} must be an object")
    return value


def _check_fields(data: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidParameters(f"unknown {what} field(s): {', '.join(unknown)}; expected "
                                f"{', '.join(sorted(allowed))}")


MAKER_FIELDS = ("name", "markets", "quote_delay", "fair_price", "spread", "confirm",
                "balance_dollars", "seed")
CONFIRM_FIELDS = ("policy", "delay", "probability", "late_by")
REQUESTER_FIELDS = ("name", "markets", "contracts", "interval", "accept", "delete_probability",
                    "balance_dollars", "seed")
ACCEPT_FIELDS = ("delay", "side")


def parse_maker(data: Mapping[str, Any]) -> MakerConfig:
    """Validate a maker's JSON configuration; absent fields take their defaults."""
    _check_fields(data, MAKER_FIELDS, "maker")
    default = MakerConfig(name="")
    fair = data.get("fair_price")
    fair_price = None if fair is None else _price(fair, "fair_price")
    if fair_price is not None and not 0 < fair_price < ONE_DOLLAR:
        raise InvalidParameters("fair_price must be between 0 and 1, exclusive")
    spread = default.spread if data.get("spread") is None else _price(data["spread"], "spread")
    if spread >= ONE_DOLLAR:
        raise InvalidParameters("spread must be less than 1")
    return MakerConfig(
        name=_name(data.get("name")),
        markets=_markets(data.get("markets")),
        quote_delay=_optional_seconds(data, "quote_delay", default.quote_delay),
        fair_price=fair_price,
        spread=spread,
        confirm=_confirm(_object(data.get("confirm"), "confirm")),
        balance=_balance(data, default.balance),
        seed=_seed(data.get("seed")),
    )


def _confirm(data: Mapping[str, Any]) -> Confirm:
    _check_fields(data, CONFIRM_FIELDS, "confirm")
    default = Confirm()
    raw = data.get("policy", default.policy.value)
    try:
        policy = ConfirmPolicy(raw)
    except ValueError:
        known = ", ".join(p.value for p in ConfirmPolicy)
        raise InvalidParameters(f"confirm.policy must be one of {known}") from None
    probability = default.probability
    if data.get("probability") is not None:
        probability = _probability(data["probability"], "confirm.probability")
    elif policy is ConfirmPolicy.PROBABILITY:
        raise InvalidParameters("confirm.probability is required with the probability policy")
    return Confirm(
        policy=policy,
        delay=_optional_seconds(data, "delay", default.delay, "confirm.delay"),
        probability=probability,
        late_by=_optional_seconds(data, "late_by", default.late_by, "confirm.late_by"),
    )


def parse_requester(data: Mapping[str, Any]) -> RequesterConfig:
    """Validate a requester's JSON configuration; absent fields take their defaults."""
    _check_fields(data, REQUESTER_FIELDS, "requester")
    default = RequesterConfig(name="")
    accept = _object(data.get("accept"), "accept")
    _check_fields(accept, ACCEPT_FIELDS, "accept")
    try:
        side = AcceptSide(accept.get("side") or default.accept_side.value)
    except ValueError:
        raise InvalidParameters("accept.side must be best, yes or no") from None
    contracts = default.contracts
    if data.get("contracts") is not None:
        contracts = parse_count(_text(data["contracts"], "contracts"), what="contracts")
        if contracts <= 0:
            raise InvalidParameters("contracts must be positive")
    interval = data.get("interval")
    delete = data.get("delete_probability")
    return RequesterConfig(
        name=_name(data.get("name")),
        markets=_markets(data.get("markets")),
        contracts=contracts,
        interval=None if interval is None else _seconds(interval, "interval",
                                                        minimum=MIN_INTERVAL),
        accept_delay=_optional_seconds(accept, "delay", default.accept_delay, "accept.delay"),
        accept_side=side,
        delete_probability=(default.delete_probability if delete is None
                            else _probability(delete, "delete_probability")),
        balance=_balance(data, default.balance),
        seed=_seed(data.get("seed")),
    )


def _optional_seconds(data: Mapping[str, Any], key: str, default: int,
                      name: str | None = None) -> int:
    value = data.get(key)
    return default if value is None else _seconds(value, name or key)


def _balance(data: Mapping[str, Any], default: int) -> int:
    value = data.get("balance_dollars")
    return default if value is None else _dollars(value, "balance_dollars")


def config_json(config: Config) -> dict[str, Any]:
    """Render a configuration as the control plane's JSON (the input shape, fully filled)."""
    markets = None if config.markets is None else list(config.markets)
    if isinstance(config, MakerConfig):
        return {
            "name": config.name,
            "markets": markets,
            "quote_delay": format_seconds(config.quote_delay),
            "fair_price": None if config.fair_price is None else format_price(config.fair_price),
            "spread": format_price(config.spread),
            "confirm": {
                "policy": config.confirm.policy.value,
                "delay": format_seconds(config.confirm.delay),
                "probability": config.confirm.probability,
                "late_by": format_seconds(config.confirm.late_by),
            },
            "balance_dollars": format_money(config.balance),
            "seed": config.seed,
        }
    return {
        "name": config.name,
        "markets": markets,
        "contracts": format_count(config.contracts),
        "interval": None if config.interval is None else format_seconds(config.interval),
        "accept": {"delay": format_seconds(config.accept_delay),
                   "side": config.accept_side.value},
        "delete_probability": config.delete_probability,
        "balance_dollars": format_money(config.balance),
        "seed": config.seed,
    }


def parse_config(kind: str, data: Mapping[str, Any]) -> Config:
    """Validate the JSON configuration of a counterparty of ``kind``."""
    return parse_maker(data) if kind == MAKER else parse_requester(data)


# Prices ---------------------------------------------------------------------------------------


__all__ = [
    "MAKER",
    "REQUESTER",
    "AcceptSide",
    "Config",
    "Confirm",
    "ConfirmPolicy",
    "MakerConfig",
    "RequesterConfig",
    "config_json",
    "format_seconds",
    "parse_config",
    "parse_maker",
    "parse_requester",
]
