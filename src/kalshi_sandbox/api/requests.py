"""Kalshi's requests, both API generations, parsed into the exchange's commands.

Query parameters fail with Kalshi's validation message (``Parameter validation failed for
GetRFQs: ...``); bodies with its JSON decoding messages (``json: cannot unmarshal ...``) or
``invalid_parameters``. Lists page with opaque cursors. See docs/behaviour.md for the choices
made where Kalshi's documentation is silent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from kalshi_sandbox.domain.account import MAX_SUBACCOUNT
from kalshi_sandbox.domain.clock import MICROS, Instant
from kalshi_sandbox.domain.errors import BadRequest, InvalidParameters, QueryValidationError
from kalshi_sandbox.domain.money import (
    COUNT_SCALE,
    MAX_WHOLE_DIGITS,
    ONE_DOLLAR,
    MoneyFormatError,
    parse_count,
    parse_dollars,
    parse_price,
)
from kalshi_sandbox.domain.quote import QuoteStatus, Side
from kalshi_sandbox.domain.rfq import RfqStatus
from kalshi_sandbox.exchange.commands import CreateQuote, CreateRfq, Page

_INT64 = range(-(2**63), 2**63)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# Identifiers and query parameters -----------------------------------------------------------


def check_uuid(value: str, what: str) -> str:
    """Return ``value`` if it is a UUID, else raise 400 ``invalid_parameters``."""
    if not _UUID.match(value):
        raise InvalidParameters(f"{what} must be a UUID, got {value!r}",
                                message=f"invalid {what.replace('_', ' ')}")
    return value


def query_int(params: Mapping[str, str], name: str, operation: str, *, default: int,
              low: int, high: int) -> int:
    """Parse an integer query parameter within [low, high], Kalshi-style errors."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _param_error(operation, name, "numeric") from None
    if value < low:
        raise _param_error(operation, name, "gte")
    if value > high:
        raise _param_error(operation, name, "lte")
    return value


def query_optional_int(params: Mapping[str, str], name: str, operation: str, *,
                       low: int, high: int) -> int | None:
    """Parse an optional integer query parameter."""
    if params.get(name) in (None, ""):
        return None
    return query_int(params, name, operation, default=0, low=low, high=high)


def query_choice(params: Mapping[str, str], name: str, operation: str,
                 choices: tuple[str, ...]) -> str | None:
    """Parse an optional enumerated query parameter."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise _param_error(operation, name, "oneof")
    return raw


def _param_error(operation: str, name: str, tag: str) -> QueryValidationError:
    field = "".join(part.capitalize() for part in name.split("_"))
    return QueryValidationError(
        f"Parameter validation failed for {operation}: Key: '{operation}Params.{field}' "
        f"Error:Field validation for '{field}' failed on the '{tag}' tag"
    )


def encode_cursor(ts: Instant, key: str) -> str:
    """Return an opaque cursor for keyset pagination."""
    return base64.urlsafe_b64encode(f"{ts}:{key}".encode()).decode().rstrip("=")


def decode_cursor(params: Mapping[str, str], operation: str) -> tuple[Instant, str] | None:
    """Parse the ``cursor`` query parameter; a malformed cursor is a 400."""
    raw = params.get("cursor")
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        ts, key = text.split(":", 1)
        if int(ts) not in _INT64:
            raise ValueError(ts)
        return int(ts), key
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise QueryValidationError(
            f"Parameter validation failed for {operation}: invalid cursor"
        ) from None


def next_cursor(page: Page[Any]) -> str:
    """Return the cursor of the page after ``page`` (``""`` on the last page)."""
    return "" if page.next is None else encode_cursor(*page.next)


def unix_seconds(params: Mapping[str, str], name: str, operation: str) -> Instant | None:
    """Parse a Unix-seconds query timestamp into an instant."""
    seconds = query_optional_int(params, name, operation, low=0, high=2**40)
    return None if seconds is None else seconds * MICROS


# Request bodies -----------------------------------------------------------------------------


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


class Body:
    """Typed access to a decoded JSON object, with Kalshi's errors for wrong types."""

    def __init__(self, data: Mapping[str, Any], struct: str) -> None:
        self.data = data
        self.struct = struct

    def _typed(self, name: str, kinds: tuple[type, ...], go: str) -> Any:
        value = self.data.get(name)
        if value is None:
            return None
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            raise BadRequest(
                f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                f"{self.struct}.{name} of type {go}"
            )
        return value

    def string(self, name: str) -> str | None:
        result: str | None = self._typed(name, (str,), "string")
        return result

    def boolean(self, name: str) -> bool | None:
        result: bool | None = self._typed(name, (bool,), "bool")
        return result

    def integer(self, name: str) -> int | None:
        value = self._typed(name, (int, float), "int64")
        if value is None:
            return None
        if isinstance(value, float):
            if not value.is_integer():
                raise BadRequest(
                    f"json: cannot unmarshal number {value} into Go struct field "
                    f"{self.struct}.{name} of type int64"
                )
            value = int(value)
        if value not in _INT64:
            raise BadRequest(
                f"json: cannot unmarshal number {value} into Go struct field "
                f"{self.struct}.{name} of type int64"
            )
        return int(value)

    def required_string(self, name: str) -> str:
        value = self.string(name)
        if value is None or value == "":
            raise InvalidParameters(f"{name} is required")
        return value

    def required_bool(self, name: str) -> bool:
        value = self.boolean(name)
        if value is None:
            raise InvalidParameters(f"{name} is required")
        return value


def _subaccount(body: Body) -> int:
    value = body.integer("subaccount")
    if value is None:
        return 0
    if not 0 <= value <= MAX_SUBACCOUNT:
        raise InvalidParameters(f"subaccount must be between 0 and {MAX_SUBACCOUNT}")
    return value


def check_subaccount_value(value: int | None) -> int:
    """Return a body's ``subaccount`` (0 when absent), refusing one out of range."""
    if value is None:
        return 0
    if not 0 <= value <= MAX_SUBACCOUNT:
        raise InvalidParameters(f"subaccount must be between 0 and {MAX_SUBACCOUNT}")
    return value


def parse_create_rfq(data: Mapping[str, Any], *, whole_contracts: bool) -> CreateRfq:
    """Validate a Create RFQ body in either API generation's vocabulary (docs/behaviour.md)."""
    body = Body(data, "CreateRFQRequest")
    ticker = body.required_string("market_ticker")
    rest_remainder = body.required_bool("rest_remainder")
    contracts_int = body.integer("contracts")
    contracts_fp = body.string("contracts_fp")
    cost_centi = body.integer("target_cost_centi_cents")
    cost_dollars = body.string("target_cost_dollars")
    excludes_fees = body.boolean("target_cost_excludes_fees")
    body.string("subtrader_id")  # FCM members only: type-checked, otherwise ignored
    contracts: int | None = None
    if contracts_fp is not None:
        contracts = parse_count(contracts_fp, what="contracts_fp")
    if contracts_int is not None:
        if contracts_int <= 0:
            raise InvalidParameters("contracts must be positive")
        if contracts_int >= 10**MAX_WHOLE_DIGITS:
            raise InvalidParameters(f"contracts is too large, got {contracts_int}")
        if contracts is not None and contracts != contracts_int * COUNT_SCALE:
            raise InvalidParameters("contracts and contracts_fp disagree")
        contracts = contracts_int * COUNT_SCALE
    target: int | None = None
    if cost_dollars is not None:
        target = parse_dollars(cost_dollars, what="target_cost_dollars")
    if cost_centi is not None:
        if cost_centi <= 0:
            raise InvalidParameters("target_cost_centi_cents must be positive")
        if cost_centi >= 10**(MAX_WHOLE_DIGITS + 4):
            raise InvalidParameters(f"target_cost_centi_cents is too large, got {cost_centi}")
        if target is not None and target != cost_centi * 100:
            raise InvalidParameters("target_cost_centi_cents and target_cost_dollars disagree")
        target = cost_centi * 100
    if (contracts is None) == (target is None):
        raise InvalidParameters(
            "give exactly one size: contracts/contracts_fp or "
            "target_cost_dollars/target_cost_centi_cents"
        )
    if contracts is not None:
        if contracts <= 0:
            raise InvalidParameters("contracts_fp must be positive")
        if whole_contracts and contracts % COUNT_SCALE:
            raise InvalidParameters("only whole contracts are allowed")
    if target is not None and target <= 0:
        raise InvalidParameters("target cost must be positive")
    if excludes_fees is not None and target is None:
        raise InvalidParameters("target_cost_excludes_fees is only valid with a target cost")
    return CreateRfq(
        market_ticker=ticker,
        rest_remainder=rest_remainder,
        contracts=contracts,
        target_cost=target,
        target_cost_excludes_fees=bool(excludes_fees),
        replace_existing=bool(body.boolean("replace_existing")),
        subaccount=_subaccount(body),
        obscure_creator_id=bool(body.boolean("obscure_creator_id")),
    )


def parse_create_quote(data: Mapping[str, Any]) -> CreateQuote:
    """Validate a Create Quote body's shape; its prices are checked later (docs/behaviour.md)."""
    body = Body(data, "CreateQuoteRequest")
    rfq_id = check_uuid(body.required_string("rfq_id"), "rfq_id")
    yes_text = body.string("yes_bid")
    no_text = body.string("no_bid")
    if yes_text is None or no_text is None:
        raise InvalidParameters("yes_bid and no_bid are required (use \"0\" to decline a side)")
    # Unusable prices are reported by the exchange after the RFQ checks, as Kalshi orders them.
    yes_bid = no_bid = 0
    price_error: str | None = None
    try:
        yes_bid = parse_price(yes_text, what="yes_bid")
        no_bid = parse_price(no_text, what="no_bid")
    except MoneyFormatError as exc:
        price_error = str(exc)
    else:
        if yes_bid >= ONE_DOLLAR or no_bid >= ONE_DOLLAR:
            price_error = "bids must be below 1.00"
    return CreateQuote(
        rfq_id=rfq_id,
        yes_bid=yes_bid,
        no_bid=no_bid,
        rest_remainder=body.required_bool("rest_remainder"),
        post_only=bool(body.boolean("post_only")),
        subaccount=_subaccount(body),
        price_error=price_error,
    )


_SIDES = {"yes": Side.YES, "no": Side.NO, "true": Side.YES, "false": Side.NO}


def parse_accepted_side(data: Mapping[str, Any]) -> Side:
    """Read ``accepted_side``; ``"true"``/``"false"`` are accepted for kalshi-python 3.2.0."""
    value = data.get("accepted_side")
    if isinstance(value, bool):
        return Side.YES if value else Side.NO
    body = Body(data, "AcceptQuoteRequest")
    text = body.required_string("accepted_side")
    side = _SIDES.get(text)
    if side is None:
        raise InvalidParameters(f"accepted_side must be 'yes' or 'no', got {text!r}")
    return side


RFQ_STATUSES = tuple(s.value for s in RfqStatus)
QUOTE_STATUSES = tuple(s.value for s in QuoteStatus)
