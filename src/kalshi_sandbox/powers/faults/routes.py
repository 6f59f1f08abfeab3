"""Fault rules on the control plane: ``/sandbox/v1/faults``.

``POST`` adds a rule (201, the rule with its ``id``, ``remaining``, ``hits`` and ``seed``),
``GET`` lists them, ``GET``/``DELETE /faults/{id}`` reads or removes one, ``DELETE /faults``
removes them all. What the rules do is described in powers/faults/__init__.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import empty_response, json_response
from kalshi_sandbox.domain.errors import NotFound
from kalshi_sandbox.powers.bounds import read_control_json
from kalshi_sandbox.powers.faults.registry import FaultRegistry
from kalshi_sandbox.powers.faults.rules import parse_rule

PREFIX = "/sandbox/v1/faults"

Handler = Callable[[Request], Awaitable[Response]]


class FaultsApi:
    """Handlers that add, list and remove fault rules."""

    def __init__(self, registry: FaultRegistry, guard: Callable[[Handler], Handler]) -> None:
        self.registry = registry
        self.guard = guard

    async def add(self, request: Request) -> Response:
        spec = parse_rule(await read_control_json(request, "FaultRule"))
        rule = await self.registry.add(spec)
        return json_response(rule.render(), 201)

    async def list_rules(self, request: Request) -> Response:
        return json_response({"faults": [rule.render() for rule in self.registry.rules]})

    async def get(self, request: Request) -> Response:
        rule = self.registry.get(request.path_params["rule_id"])
        if rule is None:
            raise NotFound(f"no fault rule {request.path_params['rule_id']}")
        return json_response(rule.render())

    async def remove(self, request: Request) -> Response:
        if not self.registry.remove(request.path_params["rule_id"]):
            raise NotFound(f"no fault rule {request.path_params['rule_id']}")
        return empty_response()

    async def clear(self, request: Request) -> Response:
        self.registry.clear()
        return empty_response()

    def routes(self) -> list[BaseRoute]:
        """Return the fault routes, each behind the control plane's guard."""
        g = self.guard
        return [
            Route(PREFIX, g(self.add), methods=["POST"]),
            Route(PREFIX, g(self.list_rules), methods=["GET"]),
            Route(PREFIX, g(self.clear), methods=["DELETE"]),
            Route(PREFIX + "/{rule_id}", g(self.get), methods=["GET"]),
            Route(PREFIX + "/{rule_id}", g(self.remove), methods=["DELETE"]),
        ]
