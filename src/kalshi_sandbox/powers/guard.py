"""Who may call the control plane (``/sandbox/v1``), and how (docs/security.md).

A control-plane request is admitted only if all of these hold:

* its ``Host`` names this sandbox: ``localhost``, ``127.0.0.1``, ``[::1]``, the configured
  ``--host``, or one of ``--allowed-hosts``. A web page that rebinds its own domain name to
  127.0.0.1 sends its own name, and a forwarder listening on another address (127.0.0.2, a
  LAN address) passes on the name it was reached by: both are refused;
* it is not cross-site: an ``Origin`` must be the sandbox's own (same host and port as the
  ``Host``), and a ``Sec-Fetch-Site`` must say ``same-origin`` or ``none``. A browser sends
  ``Origin`` with every cross-origin POST, PUT, PATCH and DELETE, whatever its body;
* the caller may act: with an admin token, ``Authorization: Bearer <token>`` (from anywhere);
  without one, a socket peer on the loopback (``ipaddress``' ``is_loopback``, decided on the
  real peer: forwarding headers count only from ``--forwarded-allow-ips``, which uvicorn
  applies before the app sees the request);
* a body is declared ``application/json`` (the journal's replay also takes
  ``application/x-ndjson``): a web page can send ``text/plain``, form data or multipart
  without asking, but a JSON content type needs a CORS preflight the sandbox never grants.

``ControlPlaneGuard`` applies the check as the outermost middleware after the body cap, so a
refused request is neither read nor journaled; ``ControlGuard`` applies it again around each
handler, so an app assembled from the routes without the middleware (the replay's) is guarded
just the same.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kalshi_sandbox.api.http import error_response
from kalshi_sandbox.domain.errors import (
    Forbidden,
    SandboxError,
    Unauthorized,
    UnsupportedMediaType,
)
from kalshi_sandbox.settings import LOOPBACK_NAMES, Settings, names

CONTROL_PREFIX = "/sandbox/v1"
GUARDED = "/sandbox"
"""Every path under it is the control plane's, known or not."""
_GUARDED_DIR = GUARDED + "/"
JSON = "application/json"
NDJSON = "application/x-ndjson"
BODY_TYPES: Mapping[str, tuple[str, ...]] = {
    CONTROL_PREFIX + "/journal/replay": (JSON, NDJSON),
}
"""Media types accepted besides ``application/json``, by path."""
SAME_SITE = ("same-origin", "none")
"""``Sec-Fetch-Site`` values of a request that no other site made."""
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_WANTED = {b"host", b"origin", b"sec-fetch-site", b"authorization", b"content-type",
           b"content-length", b"transfer-encoding"}

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ControlPolicy:
    """What the guard admits: the admin token and the host names the sandbox answers to."""

    admin_token: str = ""
    hosts: frozenset[str] = field(default_factory=lambda: frozenset(LOOPBACK_NAMES))
    any_host: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ControlPolicy:
        extra = names(settings.allowed_hosts)
        hosts = {*LOOPBACK_NAMES, _host_name(settings.host),
                 *(_host_name(name) for name in extra if name != "*")}
        return cls(settings.admin_token, frozenset(hosts), "*" in extra)

    def page_refusal(self, scope: Scope) -> SandboxError | None:
        """Return why the dashboard's page may not be served to ``scope``, or None.

        The same checks as ``refusal`` but the token's: a browser cannot send a bearer token
        when it opens a page, and the page holds no data (it asks for the token and sends it
        with every control-plane request it makes). Without a token, only a loopback peer
        gets the page, as only a loopback peer gets the control plane.
        """
        refusal = self.refusal(scope, token=False)
        if refusal is None and not self.admin_token and not _loopback_peer(scope.get("client")):
            return Forbidden("the dashboard is open to loopback callers only; set an admin "
                             "token to allow remote callers")
        return refusal

    def refusal(self, scope: Scope, *, token: bool = True) -> SandboxError | None:
        """Return why the request of ``scope`` may not reach the control plane, or None."""
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED and name not in headers:
                headers[name] = value
        host = headers.get(b"host")
        authority = None if host is None else _authority(host.decode("latin-1"))
        if authority is not None and not self.any_host and authority[0] not in self.hosts:
            return Forbidden(f"the control plane answers to {', '.join(sorted(self.hosts))} "
                             "only (add a name with --allowed-hosts)")
        if host is not None and authority is None:
            return Forbidden("the Host header is malformed")
        origin = headers.get(b"origin")
        if origin is not None and not _same_origin(origin.decode("latin-1"), authority):
            return Forbidden("cross-site requests may not use the control plane")
        site = headers.get(b"sec-fetch-site")
        if site is not None and site.decode("latin-1").lower() not in SAME_SITE:
            return Forbidden("cross-site requests may not use the control plane")
        if not token:
            pass
        elif self.admin_token:
            sent = headers.get(b"authorization", b"")
            if not hmac.compare_digest(sent, b"Bearer " + self.admin_token.encode()):
                return Unauthorized("the control plane needs 'Authorization: Bearer <token>'",
                                    code="unauthorized", message="unauthorized")
        elif not _loopback_peer(scope.get("client")):
            return Forbidden("the control plane is open to loopback callers only; set an "
                             "admin token to allow remote callers")
        if _has_body(headers):
            media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
            accepted = BODY_TYPES.get(scope["path"], (JSON,))
            if media.decode("latin-1") not in accepted:
                return UnsupportedMediaType(
                    f"a control-plane body must be sent as {' or '.join(accepted)}")
        return None


class ControlGuard:
    """Wraps control-plane handlers with the policy's check."""

    def __init__(self, policy: ControlPolicy) -> None:
        self.policy = policy

    def __call__(self, handler: Handler) -> Handler:
        """Return ``handler`` behind the check."""

        async def guarded(request: Request) -> Response:
            refusal = self.policy.refusal(request.scope)
            if refusal is not None:
                raise refusal
            return await handler(request)

        return guarded


class ControlPlaneGuard:
    """ASGI middleware refusing control-plane requests the policy does not admit, unread."""

    def __init__(self, app: ASGIApp, policy: ControlPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(GUARDED) and (path == GUARDED or path.startswith(_GUARDED_DIR)):
                refusal = self.policy.refusal(scope)
                if refusal is not None:
                    await error_response(refusal)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _host_name(text: str) -> str:
    return text.strip().strip("[]").rstrip(".").lower()


def _authority(text: str) -> tuple[str, int | None] | None:
    """Split a ``Host`` value into its lower-case name and port; None if malformed."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else ""
    else:
        name, _, port_text = text.partition(":")
    port: int | None = None
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
            return None
        port = int(port_text)
    if not name:
        return None
    return _host_name(name), port


def _same_origin(origin: str, authority: tuple[str, int | None] | None) -> bool:
    """Return True if ``origin`` is the origin the request's ``Host`` names."""
    if authority is None:
        return False
    try:
        parts = urlsplit(origin.strip())
        default = _DEFAULT_PORTS.get(parts.scheme)
        port = parts.port
    except ValueError:
        return False
    if default is None or parts.hostname is None:
        return False  # "null", or no URL at all
    name, host_port = authority
    # The Host leaves out the default port of the scheme the page itself used.
    return (_host_name(parts.hostname) == name
            and (port or default) == (host_port or default))


def _loopback_peer(client: Any) -> bool:
    """Return True if the socket peer ``client`` (host, port) is on the loopback."""
    if not client:
        return False
    try:
        address = ipaddress.ip_address(str(client[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _has_body(headers: Mapping[bytes, bytes]) -> bool:
    if b"transfer-encoding" in headers:
        return True
    length = headers.get(b"content-length")
    return length is not None and length.strip() not in (b"", b"0")


__all__ = ["CONTROL_PREFIX", "ControlGuard", "ControlPlaneGuard", "ControlPolicy", "Handler"]
