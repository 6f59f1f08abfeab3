"""Where the API lives: presets for the sandbox, Kalshi's demo and Kalshi's production.

The client takes the REST base URL (ending in ``/trade-api/v2``) and the WebSocket URL (ending
in ``/trade-api/ws/v2``) from an :class:`Environment`; nothing else differs between them, so
code that works against the sandbox runs unchanged against Kalshi.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

REST_PREFIX = "/trade-api/v2"
WS_PATH = "/trade-api/ws/v2"


@dataclass(frozen=True, slots=True)
class Environment:
    """A named pair of REST and WebSocket endpoints."""

    name: str
    rest_url: str
    ws_url: str

    @classmethod
    def from_base_url(cls, base_url: str, ws_url: str | None = None,
                      name: str = "custom") -> Environment:
        """Build an environment from a server root or a REST URL.

        ``http://127.0.0.1:8000`` and ``http://127.0.0.1:8000/trade-api/v2`` both give the REST
        URL ``http://127.0.0.1:8000/trade-api/v2`` and the WebSocket URL
        ``ws://127.0.0.1:8000/trade-api/ws/v2`` (``https`` maps to ``wss``).
        """
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be an http(s) URL, got {base_url!r}")
        path = parts.path.rstrip("/")
        root = path[: -len(REST_PREFIX)] if path.endswith(REST_PREFIX) else path
        rest = urlunsplit((parts.scheme, parts.netloc, root + REST_PREFIX, "", ""))
        if ws_url is None:
            scheme = "wss" if parts.scheme == "https" else "ws"
            ws_url = urlunsplit((scheme, parts.netloc, root + WS_PATH, "", ""))
        return cls(name, rest, ws_url)

    @property
    def ws_path(self) -> str:
        """Return the path the WebSocket handshake signs."""
        return urlsplit(self.ws_url).path or WS_PATH


SANDBOX = Environment("sandbox", "http://127.0.0.1:8000/trade-api/v2",
                      "ws://127.0.0.1:8000/trade-api/ws/v2")
"""A sandbox started with ``kalshi-sandbox serve`` on its default address."""

DEMO = Environment("demo", "https://external-api.demo.kalshi.co/trade-api/v2",
                   "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2")
"""Kalshi's demo exchange (paper money; keys made on demo.kalshi.co)."""

PRODUCTION = Environment("prod", "https://external-api.kalshi.com/trade-api/v2",
                         "wss://external-api-ws.kalshi.com/trade-api/ws/v2")
"""Kalshi's production exchange (real money)."""

ENVIRONMENTS: dict[str, Environment] = {
    "sandbox": SANDBOX,
    "demo": DEMO,
    "prod": PRODUCTION,
    "production": PRODUCTION,
}


def resolve_environment(env: str | Environment = "sandbox", base_url: str | None = None,
                        ws_url: str | None = None) -> Environment:
    """Return the environment named ``env``, or the one ``base_url`` points at.

    ``base_url`` (a server root or a REST URL) wins over ``env``; ``ws_url`` overrides the
    WebSocket URL of either.
    """
    if base_url is not None:
        name = env.name if isinstance(env, Environment) else env
        return Environment.from_base_url(base_url, ws_url, name=name)
    if isinstance(env, Environment):
        chosen = env
    else:
        try:
            chosen = ENVIRONMENTS[env.lower()]
        except KeyError:
            raise ValueError(f"unknown environment {env!r}: use sandbox, demo or prod, "
                             "or give a base URL") from None
    if ws_url is not None:
        return Environment(chosen.name, chosen.rest_url, ws_url)
    return chosen
