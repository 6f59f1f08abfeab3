"""Liquidity makers' configurations: parsed from the control plane's JSON, stored as JSON.

Prices are in $0.0001 units, counts in 0.01 contracts, money in micro-dollars and durations in
microseconds, as everywhere in the sandbox (domain/money.py); the wire carries decimal strings
and seconds (the power as a whole: powers/liquidity/__init__.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.money import (
    COUNT_SCALE,
    MONEY_SCALE,
    ONE_DOLLAR,
    format_count,
    format_money,
    format_price,
    parse_count,
    parse_dollars,
    parse_price,
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_DEPTH = 20
"""Price levels a maker may quote on each side of one market."""
MAX_SIZE = 1_000_000 * COUNT_SCALE
MIN_INTERVAL = MICROS // 10
"""The shortest time between requotes: a shorter one would let one clock advance requote
without bound."""
MAX_INTERVAL = 86_400 * MICROS
MAX_PATH = 1000
"""Points a fair-value path may hold."""
MAX_PATH_SPAN = 365 * 86_400 * MICROS
MAX_MARKETS = 1000

QUOTING_FIELDS = ("fair_value", "spread", "depth", "size", "step", "volatility")
"""The quoting parameters a market may set apart from its maker's."""


@dataclass(frozen=True, slots=True)
class Params:
    """How one market is quoted: ``depth`` levels of ``size`` each side, ``step`` apart, the
    best bid and ask ``spread`` apart around the fair value, which moves by a normal draw of
    standard deviation ``volatility`` at each requote."""

    spread: int
    depth: int
    size: int
    step: int
    volatility: int


@dataclass(frozen=True, slots=True)
class MarketSettings:
    """One market's own quoting parameters; None keeps the maker's."""

    fair_value: int | None = None
    spread: int | None = None
    depth: int | None = None
    size: int | None = None
    step: int | None = None
    volatility: int | None = None

    def merged(self, other: MarketSettings) -> MarketSettings:
        """Return these settings with ``other``'s given values on top."""
        changes = {name: getattr(other, name) for name in QUOTING_FIELDS
                   if getattr(other, name) is not None}
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class LiquidityConfig:
    """A liquidity maker: which markets it quotes, and how."""

    name: str
    markets: tuple[str, ...] | None = None
    """Quote these tickers; None quotes every open market."""
    fair_value: int | None = None
    """The starting fair value (YES price); None: the market's last price, else $0.50."""
    spread: int = 400
    depth: int = 3
    size: int = 10 * COUNT_SCALE
    step: int = 100
    volatility: int = 50
    """Standard deviation of the fair value's move at each requote (the random walk); 0
    keeps it still."""
    interval: int = MICROS
    """Sandbox time between requotes."""
    post_only: bool = True
    """Place post-only orders: a level that would take liquidity is left out instead."""
    balance: int = 1_000_000 * MONEY_SCALE
    seed: int | None = None
    per_market: Mapping[str, MarketSettings] = field(default_factory=dict)
    """Markets' own parameters, by ticker."""

    def params(self, ticker: str) -> Params:
        """Return the parameters ``ticker`` is quoted with."""
        own = self.per_market.get(ticker) or MarketSettings()
        return Params(
            spread=own.spread if own.spread is not None else self.spread,
            depth=own.depth if own.depth is not None else self.depth,
            size=own.size if own.size is not None else self.size,
            step=own.step if own.step is not None else self.step,
            volatility=own.volatility if own.volatility is not None else self.volatility)

    def start_value(self, ticker: str) -> int | None:
        """Return the fair value ``ticker`` starts at, if one is configured."""
        own = self.per_market.get(ticker)
        if own is not None and own.fair_value is not None:
            return own.fair_value
        return self.fair_value

    def quotes(self, ticker: str) -> bool:
        """Return True if this maker quotes ``ticker`` (when it is open)."""
        return self.markets is None or ticker in self.markets


# Parsing ---------------------------------------------------------------------------------------


def _text(value: Any, name: str) -> str:
    # Amounts are decimal strings on the wire; a plain JSON number is accepted for convenience.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameters(f"{name} must be a decimal string")
    return str(value)


def parse_fair(value: Any, name: str = "fair_value") -> int:
    """Parse a fair value: a price strictly between 0 and 1."""
    price = parse_price(_text(value, name), what=name)
    if not 0 < price < ONE_DOLLAR:
        raise InvalidParameters(f"{name} must be between 0 and 1, exclusive")
    return price


def _spread(value: Any) -> int:
    spread = parse_price(_text(value, "spread"), what="spread")
    if not 0 < spread < ONE_DOLLAR:
        raise InvalidParameters("spread must be greater than 0 and less than 1")
    return spread


def _step(value: Any) -> int:
    step = parse_price(_text(value, "step"), what="step")
    if not 0 < step < ONE_DOLLAR:
        raise InvalidParameters("step must be greater than 0 and less than 1")
    return step


def _volatility(value: Any) -> int:
    volatility = parse_price(_text(value, "volatility"), what="volatility")
    if volatility > ONE_DOLLAR // 2:
        raise InvalidParameters("volatility must be between 0 and 0.5")
    return volatility


def _size(value: Any) -> int:
    size = parse_count(_text(value, "size"), what="size")
    if not 0 < size <= MAX_SIZE:
        raise InvalidParameters(f"size must be between 0.01 and {MAX_SIZE // COUNT_SCALE}")
    return size


def _depth(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DEPTH:
        raise InvalidParameters(f"depth must be an integer between 1 and {MAX_DEPTH}")
    return value


def parse_seconds(value: Any, name: str, *, low: int = 0, high: int = MAX_INTERVAL) -> int:
    """Parse a number of seconds (number or numeric string) into microseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameters(f"{name} must be a number of seconds")
    try:
        decimal = Decimal(str(value))
    except InvalidOperation:
        raise InvalidParameters(f"{name} must be a number of seconds, got {value!r}") from None
    if not decimal.is_finite():
        raise InvalidParameters(f"{name} must be a finite number of seconds")
    micros = int((decimal * MICROS).to_integral_value(ROUND_HALF_UP))
    if not low <= micros <= high:
        raise InvalidParameters(f"{name} must be between {format_seconds(low)} and "
                                f"{format_seconds(high)} seconds")
    return micros


def format_seconds(micros: int) -> int | float:
    """Render microseconds as seconds: an int when whole."""
    whole, rest = divmod(micros, MICROS)
    return whole if rest == 0 else micros / MICROS


def _check_fields(data: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidParameters(f"unknown {what} field(s): {', '.join(unknown)}; expected "
                                f"{', '.join(sorted(allowed))}")


def _ticker(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidParameters("a market ticker must be a non-empty string")
    return value


_PARSERS = {"fair_value": parse_fair, "spread": _spread, "depth": _depth, "size": _size,
            "step": _step, "volatility": _volatility}


def parse_settings(data: Mapping[str, Any], what: str = "market") -> MarketSettings:
    """Parse a market's own quoting parameters (any of ``QUOTING_FIELDS``)."""
    values = {name: _PARSERS[name](data[name]) for name in QUOTING_FIELDS
              if data.get(name) is not None}
    return MarketSettings(**values)


def parse_path(value: Any) -> tuple[tuple[int, int], ...]:
    """Parse a fair-value path: ``[[seconds, "price"], ...]``, seconds from when it is set,
    strictly increasing."""
    if not isinstance(value, list) or not value or len(value) > MAX_PATH:
        raise InvalidParameters(f"path must be a list of 1 to {MAX_PATH} [seconds, price] "
                                "points")
    points: list[tuple[int, int]] = []
    for item in value:
        if isinstance(item, Mapping):
            _check_fields(item, ("after", "fair_value"), "path point")
            item = [item.get("after"), item.get("fair_value")]
        if not isinstance(item, list) or len(item) != 2:
            raise InvalidParameters("each path point must be [seconds, price]")
        offset = parse_seconds(item[0], "a path point's seconds", high=MAX_PATH_SPAN)
        if points and offset <= points[-1][0]:
            raise InvalidParameters("path points must be in strictly increasing time order")
        points.append((offset, parse_fair(item[1], "a path point's price")))
    return tuple(points)


CONFIG_FIELDS = ("name", "markets", *QUOTING_FIELDS, "interval", "post_only",
                 "balance_dollars", "seed")


def parse_config(data: Mapping[str, Any]) -> tuple[LiquidityConfig,
                                                   dict[str, tuple[tuple[int, int], ...]]]:
    """Parse a maker's configuration; return it and the paths its markets start on.

    ``markets`` is null (every open market) or a list of tickers, or of objects holding a
    ``ticker`` and that market's own parameters and ``path``.
    """
    if not isinstance(data, Mapping):
        raise InvalidParameters("the body must be a JSON object")
    _check_fields(data, CONFIG_FIELDS, "liquidity")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidParameters("name must be 1-64 letters, digits, '_', '.' or '-', starting "
                                "with a letter or digit")
    markets: tuple[str, ...] | None = None
    per_market: dict[str, MarketSettings] = {}
    paths: dict[str, tuple[tuple[int, int], ...]] = {}
    raw = data.get("markets")
    if raw is not None:
        if not isinstance(raw, list) or not raw or len(raw) > MAX_MARKETS:
            raise InvalidParameters(f"markets must be a list of 1 to {MAX_MARKETS} tickers "
                                    "(or market objects), or null for every open market")
        tickers: list[str] = []
        for item in raw:
            if isinstance(item, Mapping):
                _check_fields(item, ("ticker", *QUOTING_FIELDS, "path"), "market")
                ticker = _ticker(item.get("ticker"))
                own = parse_settings(item)
                if own != MarketSettings():
                    per_market[ticker] = own
                if item.get("path") is not None:
                    paths[ticker] = parse_path(item["path"])
            else:
                ticker = _ticker(item)
            if ticker not in tickers:
                tickers.append(ticker)
        markets = tuple(tickers)
    base = parse_settings(data, "liquidity")
    interval = (parse_seconds(data["interval"], "interval", low=MIN_INTERVAL)
                if data.get("interval") is not None else MICROS)
    post_only = data.get("post_only", True)
    if not isinstance(post_only, bool):
        raise InvalidParameters("post_only must be a boolean")
    balance = (parse_dollars(_text(data["balance_dollars"], "balance_dollars"),
                             what="balance_dollars")
               if data.get("balance_dollars") is not None else 1_000_000 * MONEY_SCALE)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidParameters("seed must be an integer or null")
    defaults = LiquidityConfig(name=name)
    config = LiquidityConfig(
        name=name, markets=markets, fair_value=base.fair_value,
        spread=base.spread if base.spread is not None else defaults.spread,
        depth=base.depth if base.depth is not None else defaults.depth,
        size=base.size if base.size is not None else defaults.size,
        step=base.step if base.step is not None else defaults.step,
        volatility=base.volatility if base.volatility is not None else defaults.volatility,
        interval=interval, post_only=post_only, balance=balance, seed=seed,
        per_market=per_market)
    return config, paths


def settings_json(settings: MarketSettings) -> dict[str, Any]:
    """Render a market's own parameters (only those it sets)."""
    out: dict[str, Any] = {}
    for name in QUOTING_FIELDS:
        value = getattr(settings, name)
        if value is None:
            continue
        if name == "depth":
            out[name] = value
        elif name == "size":
            out[name] = format_count(value)
        else:
            out[name] = format_price(value)
    return out


def config_json(config: LiquidityConfig) -> dict[str, Any]:
    """Render a configuration as the control plane shows it (and the database keeps it)."""
    markets: list[Any] | None = None
    if config.markets is not None:
        markets = []
        for ticker in config.markets:
            own = config.per_market.get(ticker)
            markets.append({"ticker": ticker, **settings_json(own)} if own else ticker)
    extra = {ticker: settings_json(own) for ticker, own in config.per_market.items()
             if config.markets is None or ticker not in config.markets}
    data: dict[str, Any] = {
        "name": config.name,
        "markets": markets,
        "fair_value": None if config.fair_value is None else format_price(config.fair_value),
        "spread": format_price(config.spread),
        "depth": config.depth,
        "size": format_count(config.size),
        "step": format_price(config.step),
        "volatility": format_price(config.volatility),
        "interval": format_seconds(config.interval),
        "post_only": config.post_only,
        "balance_dollars": format_money(config.balance),
        "seed": config.seed,
    }
    if extra:
        data["market_settings"] = extra
    return data


def stored_config(data: Mapping[str, Any]) -> LiquidityConfig:
    """Read a configuration back from the database."""
    fields = dict(data)
    extra = fields.pop("market_settings", None) or {}
    config, _ = parse_config(fields)
    per_market = dict(config.per_market)
    for ticker, own in extra.items():
        per_market[str(ticker)] = parse_settings(own)
    return replace(config, per_market=per_market)


__all__ = [
    "QUOTING_FIELDS",
    "LiquidityConfig",
    "MarketSettings",
    "Params",
    "config_json",
    "format_seconds",
    "parse_config",
    "parse_fair",
    "parse_path",
    "parse_seconds",
    "parse_settings",
    "settings_json",
    "stored_config",
]
