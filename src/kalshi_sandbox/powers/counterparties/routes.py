"""Control-plane endpoints of the built-in counterparties, under ``/sandbox/v1/counterparties``.

``POST .../makers`` and ``POST .../requesters`` start one; ``GET`` lists them with their
recent activity; ``PATCH .../{name}`` changes any configuration field or pauses and resumes
(``active``); ``DELETE .../{name}`` stops and forgets one; ``POST .../requesters/{name}/rfqs``
has an auto-requester create an RFQ now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import empty_response, json_response
from kalshi_sandbox.api.requests import Body
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.money import parse_count
from kalshi_sandbox.powers.bounds import read_control_json
from kalshi_sandbox.powers.counterparties.config import MAKER, REQUESTER
from kalshi_sandbox.powers.counterparties.runner import Counterparties

PREFIX = "/sandbox/v1/counterparties"

Handler = Callable[[Request], Awaitable[Response]]
Guard = Callable[[Handler], Handler]


class CounterpartiesApi:
    """Handlers of the counterparty endpoints."""

    def __init__(self, counterparties: Counterparties, guard: Guard) -> None:
        self.counterparties = counterparties
        self.guard = guard

    async def create_maker(self, request: Request) -> Response:
        data = await read_control_json(request, "CreateMakerRequest")
        return json_response(await self.counterparties.add(MAKER, data), 201)

    async def create_requester(self, request: Request) -> Response:
        data = await read_control_json(request, "CreateRequesterRequest")
        return json_response(await self.counterparties.add(REQUESTER, data), 201)

    async def list_all(self, request: Request) -> Response:
        return json_response({"counterparties": self.counterparties.describe_all()})

    async def get(self, request: Request) -> Response:
        return json_response(self.counterparties.describe(request.path_params["name"]))

    async def update(self, request: Request) -> Response:
        data = await read_control_json(request, "UpdateCounterpartyRequest")
        return json_response(await self.counterparties.update(request.path_params["name"],
                                                              data))

    async def delete(self, request: Request) -> Response:
        await self.counterparties.remove(request.path_params["name"])
        return empty_response()

    async def create_rfq(self, request: Request) -> Response:
        body = Body(await read_control_json(request, "RequesterRfqRequest", allow_empty=True),
                    "RequesterRfqRequest")
        market = body.string("market")
        contracts = _contracts(body.data.get("contracts"))
        rfq = await self.counterparties.request_rfq(request.path_params["name"], market or None,
                                                    contracts)
        return json_response({"rfq_id": rfq.id, "market": rfq.market_ticker}, 201)

    def routes(self) -> list[BaseRoute]:
        """Return the routes, each wrapped in the control plane's guard."""
        g, p = self.guard, PREFIX
        return [
            Route(p, g(self.list_all), methods=["GET"]),
            Route(p + "/makers", g(self.create_maker), methods=["POST"]),
            Route(p + "/requesters", g(self.create_requester), methods=["POST"]),
            Route(p + "/requesters/{name}/rfqs", g(self.create_rfq), methods=["POST"]),
            Route(p + "/{name}", g(self.get), methods=["GET"]),
            Route(p + "/{name}", g(self.update), methods=["PATCH"]),
            Route(p + "/{name}", g(self.delete), methods=["DELETE"]),
        ]


def _contracts(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidParameters("contracts must be a decimal string")
    return parse_count(str(value), what="contracts")
