"""Bounds on what a control-plane body may hold: how deep, how long its strings and lists.

Every power reads its JSON bodies through ``read_control_json``, which decodes them as the
Kalshi API does (api/http.py) and then refuses, with a 400 ``invalid_parameters`` naming the
field, a body nested deeper than ``MAX_DEPTH``, a list longer than ``MAX_ITEMS`` or a string
longer than its field allows (``MAX_STRING``, or ``LONG_STRINGS`` for the fields that carry
keys and messages). The request body as a whole is capped before it is read
(``max_body_bytes``, api/bodylimit.py); these bounds keep what one body may store or echo small.
Numbers are range-checked by each endpoint, where their meaning is known.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from kalshi_sandbox.api.http import read_json
from kalshi_sandbox.domain.errors import InvalidParameters

MAX_DEPTH = 16
"""Objects and lists nested in a control-plane body; the deepest body any power takes has 4."""
MAX_ITEMS = 1000
"""Items in one list or members in one object."""
MAX_STRING = 256
"""Characters in a string (a ticker, a name, a status) or an object key."""
LONG_STRINGS = {
    "public_key_pem": 16_384,
    "title": 1024,
    "subtitle": 1024,
    "message": 1024,
    "details": 4096,
}
"""Fields allowed more than ``MAX_STRING`` characters: a PEM public key (an RSA-8192 key is
about 1,500), a market's titles, the message and details of an injected error."""


def check_bounds(data: Any, where: str = "body", depth: int = 1,
                 limit: int = MAX_STRING) -> None:
    """Raise ``InvalidParameters`` if ``data`` is nested, long or wide beyond the bounds."""
    if isinstance(data, str):
        if len(data) > limit:
            raise InvalidParameters(f"{where} is longer than {limit} characters")
        return
    if not isinstance(data, dict | list):
        return
    if depth > MAX_DEPTH:
        raise InvalidParameters(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if len(data) > MAX_ITEMS:
        raise InvalidParameters(f"{where} has more than {MAX_ITEMS} items")
    if isinstance(data, list):
        for index, item in enumerate(data):
            check_bounds(item, f"{where}[{index}]", depth + 1, limit)
        return
    for key, value in data.items():
        if len(key) > MAX_STRING:
            raise InvalidParameters(f"{where} has a key longer than {MAX_STRING} characters")
        check_bounds(value, key if where == "body" else f"{where}.{key}", depth + 1,
                     LONG_STRINGS.get(key, MAX_STRING))


async def read_control_json(request: Request, struct: str, *, allow_empty: bool = False
                            ) -> dict[str, Any]:
    """Read a control-plane body: a JSON object within the bounds of this module."""
    data = await read_json(request, struct, allow_empty=allow_empty)
    check_bounds(data)
    return data


__all__ = ["LONG_STRINGS", "MAX_DEPTH", "MAX_ITEMS", "MAX_STRING", "check_bounds",
           "read_control_json"]
