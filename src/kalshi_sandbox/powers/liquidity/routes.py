"""Control-plane endpoints of the liquidity makers, under ``/sandbox/v1/liquidity``.

``POST`` starts one; ``GET`` lists them with their fair values and recent activity; ``PATCH
.../{name}`` changes any configuration field or pauses and resumes (``active``); ``DELETE
.../{name}`` withdraws its orders and forgets it; ``PUT .../{name}/markets/{ticker}`` sets one
market's fair value, path or own quoting parameters; ``POST .../requote`` (or ``.../{name}/
requote``) quotes now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import empty_response, json_response, read_json
from kalshi_sandbox.powers.liquidity.service import Liquidity

PREFIX = "/sandbox/v1/liquidity"

Handler = Callable[[Request], Awaitable[Response]]
Guard = Callable[[Handler], Handler]


class LiquidityApi:
    """Handlers of the liquidity endpoints."""

    def __init__(self, liquidity: Liquidity, guard: Guard) -> None:
        self.liquidity = liquidity
        self.guard = guard

    async def create(self, request: Request) -> Response:
        data = await read_json(request, "CreateLiquidityRequest")
        return json_response(await self.liquidity.add(data), 201)

    async def list_all(self, request: Request) -> Response:
        return json_response({"liquidity": self.liquidity.describe_all()})

    async def get(self, request: Request) -> Response:
        return json_response(self.liquidity.describe(request.path_params["name"]))

    async def update(self, request: Request) -> Response:
        data = await read_json(request, "UpdateLiquidityRequest")
        return json_response(await self.liquidity.update(request.path_params["name"], data))

    async def delete(self, request: Request) -> Response:
        await self.liquidity.remove(request.path_params["name"])
        return empty_response()

    async def set_market(self, request: Request) -> Response:
        data = await read_json(request, "SetLiquidityMarketRequest")
        return json_response(await self.liquidity.set_market(
            request.path_params["name"], request.path_params["ticker"], data))

    async def requote_all(self, request: Request) -> Response:
        await self.liquidity.requote()
        return empty_response()

    async def requote(self, request: Request) -> Response:
        await self.liquidity.requote(request.path_params["name"])
        return empty_response()

    def routes(self) -> list[BaseRoute]:
        """Return the routes, each wrapped in the control plane's guard."""
        g, p = self.guard, PREFIX
        return [
            Route(p, g(self.list_all), methods=["GET"]),
            Route(p, g(self.create), methods=["POST"]),
            Route(p + "/requote", g(self.requote_all), methods=["POST"]),
            Route(p + "/{name}", g(self.get), methods=["GET"]),
            Route(p + "/{name}", g(self.update), methods=["PATCH"]),
            Route(p + "/{name}", g(self.delete), methods=["DELETE"]),
            Route(p + "/{name}/requote", g(self.requote), methods=["POST"]),
            Route(p + "/{name}/markets/{ticker}", g(self.set_market), methods=["PUT"]),
        ]


__all__ = ["PREFIX", "LiquidityApi"]
