"""The sandbox's error hierarchy; each class carries Kalshi's wire code and HTTP status.

One handler in the API layer renders any ``SandboxError`` in the body shape Kalshi uses for
that kind of failure (docs/behaviour.md, "Wire"): nested ``{"error": {...}}`` for business and
auth errors, flat ``{"code", "message", "details"}`` for undecodable JSON, the same with
Kalshi's ``msg`` beside it for query-parameter validation, and ``{"error": "too many
requests"}`` for rate limiting.
"""

from __future__ import annotations

from enum import Enum


class ErrorShape(Enum):
    """How an error body is laid out on the wire."""

    NESTED = "nested"
    FLAT = "flat"
    BARE = "bare"
    RATE_LIMIT = "rate_limit"


class SandboxError(Exception):
    """Root of every error the sandbox reports to a caller."""

    status: int = 500
    code: str = "internal_server_error"
    default_message: str = "internal server error"
    shape: ErrorShape = ErrorShape.NESTED

    def __init__(
        self,
        details: str | None = None,
        *,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        self.details = details
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(details or self.message)


class InvalidParameters(SandboxError):
    """A request that is well-formed JSON but asks for something invalid."""

    status = 400
    code = "invalid_parameters"
    default_message = "invalid parameters"


class BadRequest(SandboxError):
    """A body that does not decode as the expected JSON (Kalshi's flat error shape)."""

    status = 400
    code = "bad_request"
    default_message = "bad request"
    shape = ErrorShape.FLAT


class QueryValidationError(SandboxError):
    """A query parameter out of range or of the wrong type.

    Kalshi answers these with a bare ``{"msg"}``; since 2026-08-06 every Kalshi error carries
    a ``code`` (https://docs.kalshi.com/changelog), so the body is the flat shape with ``msg``
    kept beside it (docs/behaviour.md, "Wire").
    """

    status = 400
    code = "bad_request"
    default_message = "bad request"
    shape = ErrorShape.BARE


class RfqClosed(SandboxError):
    """The RFQ was deleted, replaced, expired or has already traded."""

    status = 400
    code = "RFQ_CLOSED"
    default_message = "rfq is closed"


class QuoteExpired(SandboxError):
    """The quote was voided: its confirmation window lapsed or it was cancelled."""

    status = 400
    code = "quote_expired"
    default_message = "quote expired"


class InsufficientBalance(SandboxError):
    """The account cannot pay for what it asked for."""

    status = 400
    code = "insufficient_balance"
    default_message = "insufficient balance"


class NotFound(SandboxError):
    """The object does not exist or is not visible to the caller."""

    status = 404
    code = "not_found"
    default_message = "not found"


class Conflict(SandboxError):
    """The request conflicts with existing state (an open RFQ on the market, say)."""

    status = 409
    code = "conflict"
    default_message = "conflict"


class RfqAlreadyExists(Conflict):
    """The caller already has an open RFQ on this market."""

    code = "rfq_already_exists"
    default_message = "an open rfq already exists for this market"


class OpenRfqLimitExceeded(Conflict):
    """The caller already has the maximum number of open RFQs."""

    code = "open_rfq_limit_exceeded"
    default_message = "too many open rfqs"


class Unauthorized(SandboxError):
    """Authentication failed (docs/behaviour.md, "Authentication")."""

    status = 401
    code = "authentication_error"
    default_message = "authentication_error"


class SignatureMissing(Unauthorized):
    """The ``KALSHI-ACCESS-SIGNATURE`` header is absent."""

    code = "signature_is_missing_from_headers"
    default_message = "signature is missing from headers"


class TimestampExpired(Unauthorized):
    """The ``KALSHI-ACCESS-TIMESTAMP`` header is outside the accepted window."""

    code = "header_timestamp_expired"
    default_message = "header timestamp expired"


class Forbidden(SandboxError):
    """The caller may not use this endpoint (the control plane off loopback, say)."""

    status = 403
    code = "forbidden"
    default_message = "forbidden"


class MethodNotAllowed(SandboxError):
    """The path exists but not with this HTTP method."""

    status = 405
    code = "method_not_allowed"
    default_message = "method not allowed"


class PayloadTooLarge(SandboxError):
    """The request's body is larger than the server accepts (``max_body_bytes``)."""

    status = 413
    code = "payload_too_large"
    default_message = "payload too large"


class UnsupportedMediaType(SandboxError):
    """A control-plane body that is not declared ``application/json``."""

    status = 415
    code = "invalid_content_type"
    default_message = "invalid content type"


class RateLimited(SandboxError):
    """The caller's token bucket is empty."""

    status = 429
    code = "too_many_requests"
    default_message = "too many requests"
    shape = ErrorShape.RATE_LIMIT


class IllegalTransition(InvalidParameters):
    """A state-machine trigger that the current state does not allow."""

    def __init__(self, subject: str, state: str, trigger: str, details: str | None = None):
        self.subject = subject
        self.state = state
        self.trigger = trigger
        super().__init__(details or f"cannot {trigger} {subject} in state {state}")


# Order entry (https://docs.kalshi.com/api-reference/orders/create-order-v2) ----------------


class InvalidOrder(SandboxError):
    """An order Kalshi refuses as a whole (post-only cross, a triggered order group...)."""

    status = 400
    code = "invalid_order"
    default_message = "invalid order"


class InvalidPrice(SandboxError):
    """A price off the market's grid, or at $0 or $1."""

    status = 400
    code = "invalid_price"
    default_message = "invalid price"


class InvalidOrderSize(SandboxError):
    """A count that is zero, off the 0.01 grid, or larger than allowed."""

    status = 400
    code = "invalid_order_size"
    default_message = "invalid order size"


class OrderAlreadyExists(Conflict):
    """The caller already has an order with this ``client_order_id``."""

    code = "order_already_exists"
    default_message = "order already exists"


class FillOrKillInsufficientVolume(Conflict):
    """A fill-or-kill order that the resting volume cannot fill entirely."""

    code = "fill_or_kill_insufficient_resting_volume"
    default_message = "fill or kill insufficient resting volume"


class MarketClosed(Conflict):
    """The market is not open for trading."""

    code = "market_closed"
    default_message = "market closed"


class Gone(SandboxError):
    """An endpoint Kalshi has switched off (the legacy order writes)."""

    status = 410
    code = "gone"
    default_message = "gone"


class DeprecatedOrderEndpoint(Gone):
    """A legacy ``/portfolio/orders`` write, which Kalshi answers with 410 since June 2026."""

    code = "deprecated_v1_order_endpoint"
    default_message = "Please switch to the V2 endpoints"

    def __init__(self) -> None:
        super().__init__("https://docs.kalshi.com/api-reference/orders/create-order-v2")
