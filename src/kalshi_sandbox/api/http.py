"""HTTP plumbing shared by Kalshi's API and the control plane: JSON in, JSON out, errors."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.domain.errors import (
    BadRequest,
    ErrorShape,
    MethodNotAllowed,
    NotFound,
    SandboxError,
)

log = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

NO_CONTENT = 204


def json_response(data: Any, status: int = 200) -> Response:
    """Return ``data`` encoded as a JSON response."""
    return Response(_encoder.encode(data), status_code=status, media_type="application/json")


def empty_response(status: int = NO_CONTENT) -> Response:
    """Return a response without a body."""
    return Response(status_code=status)


def error_body(error: SandboxError) -> dict[str, Any]:
    """Lay out ``error`` in the shape Kalshi uses for its kind (reference §8.2)."""
    if error.shape is ErrorShape.RATE_LIMIT:
        return {"error": "too many requests"}
    if error.shape is ErrorShape.BARE:
        return {"msg": error.details or error.message}
    inner: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        inner["details"] = error.details
    if error.shape is ErrorShape.FLAT:
        return inner
    return {"error": inner}


def error_response(error: SandboxError) -> Response:
    """Render a sandbox error."""
    return json_response(error_body(error), error.status)


async def sandbox_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette handler for every ``SandboxError``."""
    assert isinstance(exc, SandboxError)
    return error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Render Starlette's routing errors (unknown path, wrong method) as Kalshi errors."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(MethodNotAllowed(f"{request.method} is not allowed on this path"))
    if exc.status_code == 404:
        return error_response(NotFound(f"no endpoint at {request.url.path}"))
    return json_response({"error": {"code": "http_error", "message": str(exc.detail)}},
                         exc.status_code)


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    """Log an unexpected failure and answer 500 in Kalshi's shape."""
    log.exception("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=exc)
    return error_response(SandboxError("an unexpected error occurred; see the server log"))


def decode_json(raw: bytes, struct: str, *, allow_empty: bool = False) -> dict[str, Any]:
    """Decode a JSON object body, raising Kalshi's flat ``bad_request`` when it is not one."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("unexpected end of JSON input")
    try:
        data = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"invalid JSON: {exc}") from None
    if data is None:
        # Go's json.Unmarshal of null into a struct leaves it empty without an error.
        return {}
    if not isinstance(data, dict):
        kind = {list: "array", str: "string", bool: "bool", int: "number",
                float: "number"}.get(type(data), "value")
        raise BadRequest(f"json: cannot unmarshal {kind} into Go value of type {struct}")
    return data


async def read_json(request: Request, struct: str, *, allow_empty: bool = False
                    ) -> dict[str, Any]:
    """Read and decode a request's JSON object body."""
    return decode_json(await request.body(), struct, allow_empty=allow_empty)
