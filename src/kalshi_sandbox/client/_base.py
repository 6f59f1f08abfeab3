"""What the sync and async clients share: configuration, request building, answer reading."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx

from kalshi_sandbox.client import _calls
from kalshi_sandbox.client.auth import KalshiAuth, KeySource
from kalshi_sandbox.client.credentials import Credentials
from kalshi_sandbox.client.environments import Environment, resolve_environment
from kalshi_sandbox.client.errors import (
    KalshiConnectionError,
    UnexpectedResponseError,
    error_from_response,
)
from kalshi_sandbox.client.stream import USER_AGENT, Subscription

T = TypeVar("T")


class BaseClient:
    """Configuration shared by :class:`KalshiClient` and :class:`AsyncKalshiClient`."""

    def __init__(self, env: str | Environment = "sandbox", *, base_url: str | None = None,
                 ws_url: str | None = None, key_id: str | None = None,
                 private_key: KeySource | None = None,
                 credentials: Credentials | None = None, credentials_from_env: bool = True,
                 timeout: float = 10.0, headers: Mapping[str, str] | None = None) -> None:
        self.environment = resolve_environment(env, base_url, ws_url)
        self.credentials = credentials if credentials is not None else Credentials.resolve(
            key_id, private_key, use_env=credentials_from_env)
        self.auth: KalshiAuth | None = (None if self.credentials is None
                                        else self.credentials.auth())
        self.timeout = timeout
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json",
                        **(headers or {})}

    @property
    def base_url(self) -> str:
        """Return the REST base URL (ending in ``/trade-api/v2``)."""
        return self.environment.rest_url

    @property
    def key_id(self) -> str | None:
        """Return the API key id requests are signed with (None: unsigned)."""
        return None if self.credentials is None else self.credentials.key_id

    def _http_options(self) -> dict[str, Any]:
        return {"base_url": self.environment.rest_url, "auth": self.auth,
                "headers": self.headers, "timeout": self.timeout}

    @staticmethod
    def _request_options(call: _calls.Call[Any]) -> dict[str, Any]:
        options: dict[str, Any] = {"params": call.params or None}
        if call.has_body:
            options["json"] = call.body
        return options

    @staticmethod
    def _read(call: _calls.Call[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise error_from_response(response)
        data: Any = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                raise UnexpectedResponseError(
                    f"{call.method} {call.path} answered {response.status_code} with a body "
                    f"that is not JSON: {response.text[:200]!r}") from None
        try:
            return call.parse(data)
        except (ValueError, TypeError, KeyError) as exc:
            raise UnexpectedResponseError(
                f"{call.method} {call.path} answered {response.status_code} with an "
                f"unexpected body ({exc}): {json.dumps(data)[:300]}") from exc

    def _transport_error(self, call: _calls.Call[Any], exc: httpx.TransportError
                         ) -> KalshiConnectionError:
        """Name the URL that could not be reached, and the request that tried."""
        return KalshiConnectionError(f"cannot reach {self.base_url}: {call.method} "
                                     f"{call.path} failed: {type(exc).__name__}: {exc}")

    def subscribe(self, *channels: str, user_filter: str | None = None,
                  shard_factor: int | None = None, shard_key: int | None = None,
                  market_tickers: Sequence[str] | None = None,
                  use_yes_price: bool | None = None, send_initial_snapshot: bool | None = None,
                  reconnect: bool = True, max_reconnect_attempts: int | None = None,
                  backoff: float = 0.5, backoff_max: float = 30.0) -> Subscription:
        """Subscribe to WebSocket channels (default ``communications``); iterate with ``async for``.

        The handshake is signed with this client's key. ``user_filter="self"`` limits RFQ
        events to your own RFQs; ``shard_factor``/``shard_key`` split the channel across
        connections (Kalshi's WebSocket quick start). ``market_tickers`` limits the market
        channels (``orderbook_delta`` needs it; ``ticker``, ``trade``, ``fill``,
        ``user_orders`` and ``market_positions`` take it); ``use_yes_price`` has
        ``orderbook_delta`` report NO levels at YES prices. See :class:`Subscription` for
        reconnect behaviour.
        """
        params: dict[str, Any] = {}
        if market_tickers is not None:
            params["market_tickers"] = list(market_tickers)
        if use_yes_price is not None:
            params["use_yes_price"] = use_yes_price
        if send_initial_snapshot is not None:
            params["send_initial_snapshot"] = send_initial_snapshot
        if user_filter is not None:
            params["user_filter"] = user_filter
        if shard_factor is not None:
            params["shard_factor"] = shard_factor
        if shard_key is not None:
            params["shard_key"] = shard_key
        return Subscription(self.environment.ws_url, self.auth,
                            channels or ("communications",), params, reconnect=reconnect,
                            max_reconnect_attempts=max_reconnect_attempts, backoff=backoff,
                            backoff_max=backoff_max)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(env={self.environment.name!r}, "
                f"base_url={self.base_url!r}, key_id={self.key_id!r})")

