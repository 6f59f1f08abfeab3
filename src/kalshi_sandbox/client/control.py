"""A client of the sandbox's own control plane (``/sandbox/v1``): plain JSON, no signatures.

One client for every caller: the ``kalshi-sandbox`` sub-commands, the pytest plugin and the
test suite. Guarded by loopback or an admin token, sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

CONTROL_PREFIX = "/sandbox/v1"


class ControlPlaneError(Exception):
    """The sandbox's control plane refused a request (or the sandbox could not be reached)."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        detail = json.dumps(body) if not isinstance(body, str) else body
        super().__init__(f"{method} {CONTROL_PREFIX}{path} answered {status}: {detail}")

    @property
    def code(self) -> str | None:
        """Return the Kalshi error code of the answer, if it has one."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            return code if isinstance(code, str) else None
        return None

    @property
    def error(self) -> Any:
        """Return the error object of the answer (its ``error`` member, if it has one)."""
        if isinstance(self.body, dict):
            return self.body.get("error", self.body)
        return self.body


def refused(method: str, path: str, response: httpx.Response) -> None:
    """Raise ``ControlPlaneError`` if ``response`` refuses the request (status 400 or above)."""
    if response.status_code >= 400:
        try:
            error: Any = response.json()
        except ValueError:
            error = response.text
        raise ControlPlaneError(method, path, response.status_code, error)


class ControlPlane:
    """JSON calls to a running sandbox's ``/sandbox/v1``."""

    def __init__(self, base_url: str, admin_token: str = "", timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.http = httpx.Client(base_url=self.base_url + CONTROL_PREFIX, headers=headers,
                                 timeout=timeout)

    def send(self, method: str, path: str, body: Any = None, *,
             params: Mapping[str, Any] | None = None, content: str | bytes | None = None,
             content_type: str | None = None) -> httpx.Response:
        """Send one request and return the response, whatever its status.

        Raise ``ControlPlaneError`` (status 0) if the sandbox cannot be reached. A raw
        ``content`` is sent as ``application/json`` unless ``content_type`` says otherwise:
        the control plane refuses a body of any other type.
        """
        if content is not None and content_type is None:
            content_type = "application/json"
        headers = {"Content-Type": content_type} if content_type else None
        try:
            return self.http.request(method, path, json=body, params=params, content=content,
                                     headers=headers)
        except httpx.TransportError as exc:
            raise ControlPlaneError(
                method, path, 0,
                f"cannot reach the sandbox at {self.base_url}: {type(exc).__name__}: {exc}",
            ) from exc

    def call(self, method: str, path: str, body: Any = None, *,
             params: Mapping[str, Any] | None = None, content: str | bytes | None = None,
             content_type: str | None = None) -> Any:
        """Send one request; return the decoded JSON (text for other bodies, None if empty).

        Raise ``ControlPlaneError`` if it is refused (status 400 or above) or cannot be sent.
        """
        response = self.send(method, path, body, params=params, content=content,
                             content_type=content_type)
        refused(method, path, response)
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> ControlPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CONTROL_PREFIX", "ControlPlane", "ControlPlaneError", "refused"]
