"""Exceptions raised by the client, mapped from Kalshi's error bodies and HTTP statuses.

Kalshi answers errors in four shapes (docs/behaviour.md, "Wire"): nested ``{"error": {"code",
"message", "details"}}``, flat ``{"code", "message", "details"}``, bare ``{"msg": ...}`` for
query validation, and ``{"error": "too many requests"}`` for rate limiting. Each is read into
the same three attributes, ``code``, ``message`` and ``details``. The class follows the HTTP
status, refined by the code where Kalshi's code says more (``RFQ_CLOSED``,
``insufficient_balance``...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from kalshi_sandbox.client.auth import KEY_HEADER, TIMESTAMP_HEADER


class KalshiError(Exception):
    """Root of every error this client raises."""


class KalshiConnectionError(KalshiError):
    """The server could not be reached, or the connection failed mid-request."""


class UnexpectedResponseError(KalshiError):
    """A success response whose body is not what the endpoint documents."""


class APIError(KalshiError):
    """Kalshi answered with an error status.

    ``code`` is Kalshi's machine-readable code (match on it, by prefix: some codes embed ids),
    ``message`` the human text, ``details`` any extra text, ``body`` the decoded body.
    """

    status_code: int = 0

    def __init__(self, status_code: int, code: str, message: str, details: str | None = None,
                 *, service: str | None = None, body: Any = None, method: str = "",
                 url: str = "", hint: str | None = None) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.service = service
        self.body = body
        self.method = method
        self.url = url
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.url} -> " if self.method else ""
        text = f"{where}{self.status_code} {self.code}: {self.message}"
        if self.details and self.details != self.message:
            text += f" ({self.details})"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class BadRequestError(APIError):
    """400: the request was malformed or asked for something invalid."""

    status_code = 400


class InvalidParametersError(BadRequestError):
    """400 ``invalid_parameters``: well-formed, but not allowed (off-grid price, bad state)."""


class RfqClosedError(BadRequestError):
    """400 ``RFQ_CLOSED``: the RFQ was deleted, replaced, expired or already traded."""


class QuoteExpiredError(BadRequestError):
    """400 ``quote_expired``: the confirmation window lapsed, so the quote was voided."""


class InsufficientBalanceError(BadRequestError):
    """400 ``insufficient_balance``: the account cannot pay for the trade."""


class AuthenticationError(APIError):
    """401: the request's signature, key id or timestamp was not accepted."""

    status_code = 401


class PermissionDeniedError(APIError):
    """403: the key may not use this endpoint."""

    status_code = 403


class NotFoundError(APIError):
    """404: no such object, or not one the caller may see."""

    status_code = 404


class ConflictError(APIError):
    """409: conflicts with existing state (an open RFQ on the same market, say)."""

    status_code = 409


class RateLimitError(APIError):
    """429: the token bucket is empty; Kalshi sends no Retry-After, so back off and retry."""

    status_code = 429


class ServerError(APIError):
    """5xx: the server failed."""

    status_code = 500


class StreamError(KalshiError):
    """The WebSocket server answered a command with an error (https://docs.kalshi.com/websockets/websocket-connection)."""

    def __init__(self, code: int, message: str, command_id: int | None = None) -> None:
        self.code = code
        self.message = message
        self.command_id = command_id
        super().__init__(f"WebSocket error {code}: {message}")


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

_BY_CODE: dict[str, type[APIError]] = {
    "invalid_parameters": InvalidParametersError,
    "rfq_closed": RfqClosedError,
    "quote_expired": QuoteExpiredError,
    "expired": QuoteExpiredError,
    "insufficient_balance": InsufficientBalanceError,
}


def parse_error_body(status_code: int, body: Any) -> tuple[str, str, str | None, str | None]:
    """Return ``(code, message, details, service)`` from any of Kalshi's four error shapes."""
    fallback = httpx.codes.get_reason_phrase(status_code).lower().replace(" ", "_") or "error"
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, str):  # rate limit: {"error": "too many requests"}
            return inner.replace(" ", "_"), inner, None, None
        fields: Mapping[str, Any] = inner if isinstance(inner, Mapping) else body
        if "msg" in fields:  # query validation: bare, or with the code beside it
            text = str(fields["msg"])
            return _text(fields.get("code")) or fallback, text, text, None
        code = _text(fields.get("code")) or fallback
        message = _text(fields.get("message")) or code
        return code, message, _text(fields.get("details")), _text(fields.get("service"))
    if isinstance(body, str) and body.strip():
        return fallback, body.strip(), None, None
    return fallback, httpx.codes.get_reason_phrase(status_code) or "error", None, None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def error_class(status_code: int, code: str) -> type[APIError]:
    """Return the exception class for a status and a Kalshi code."""
    base = _BY_STATUS.get(status_code)
    if base is None:
        base = ServerError if status_code >= 500 else APIError
    specific = _BY_CODE.get(code.lower().split(":", 1)[0])
    if specific is not None and issubclass(specific, base):
        return specific
    return base


def error_from_response(response: httpx.Response) -> APIError:
    """Build the exception for an error response, with a hint for authentication failures."""
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = response.text
    request = response.request
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    return error_from_parts(response.status_code, body, request.method, str(request.url),
                            request.headers, path)


def error_from_parts(status_code: int, body: Any, method: str, url: str,
                     sent_headers: Mapping[str, str], signed_path: str) -> APIError:
    """Build the exception for an error status and its decoded body."""
    code, message, details, service = parse_error_body(status_code, body)
    hint = None
    if status_code == 401:
        hint = auth_hint(code, details, httpx.Headers(dict(sent_headers)), method, signed_path)
    cls = error_class(status_code, code)
    return cls(status_code, code, message, details, service=service, body=body,
               method=method, url=url, hint=hint)


def auth_hint(code: str, details: str | None, headers: httpx.Headers, method: str,
              path: str) -> str:
    """Explain the likeliest signing mistake behind a 401."""
    key_id = headers.get(KEY_HEADER)
    detail = (details or "").upper()
    if not key_id:
        return ("the request was not signed: pass key_id and private_key, or set "
                "KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH")
    if code == "header_timestamp_expired":
        return (f"the timestamp {headers.get(TIMESTAMP_HEADER)} (milliseconds since the epoch) "
                "is outside the server's window: check this machine's clock")
    if code == "signature_is_missing_from_headers":
        return "the KALSHI-ACCESS-SIGNATURE header was dropped on the way (a proxy?)"
    if detail.startswith("NOT_FOUND"):
        return (f"key id {key_id} is unknown to this server: sandbox, demo and production keys "
                "are separate, so check that the environment (--env / base URL) matches the key")
    return (f"the signature did not verify. The client signed timestamp + {method!r} + "
            f"{path!r} with RSA-PSS/SHA-256 (salt 32); the likeliest causes are a private key "
            f"that does not belong to key id {key_id}, or a key id this server does not know "
            "(sandbox, demo and production keys are separate; a sandbox started with "
            "--verbose-auth says which). If a proxy rewrites the path, the server sees a "
            "different path from the one signed.")
