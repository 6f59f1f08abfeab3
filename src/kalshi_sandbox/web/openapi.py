"""OpenAPI 3.1 documents of what the sandbox serves, generated from its route table.

A document lists every ``Route`` of the running app under its prefix, whatever module added
it: the method and path come from the route itself, path parameters from its template, and
whether a Kalshi endpoint is signed from the cost the route charges (api/routes.py,
``Charged``). What a route cannot tell (a summary, query parameters, a body's fields, the
answers) comes from per-route metadata, ``Operation`` records keyed by method and path
(api/spec.py, powers/spec.py); a route without metadata is still documented, with a
generic entry, so a new endpoint never goes missing from the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, Route

Schema = dict[str, Any]

_CONVERTOR = re.compile(r"\{([A-Za-z_]\w*)(:[a-z]+)?\}")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Param:
    """A query parameter of an operation."""

    name: str
    schema: Schema = field(default_factory=lambda: {"type": "string"})
    description: str = ""
    required: bool = False

    def render(self) -> Schema:
        data: Schema = {"name": self.name, "in": "query", "required": self.required,
                        "schema": self.schema}
        if self.description:
            data["description"] = self.description
        return data


@dataclass(frozen=True)
class Operation:
    """What the route table cannot say about one endpoint."""

    summary: str
    operation_id: str = ""
    tag: str = ""
    description: str = ""
    query: tuple[Param, ...] = ()
    body: Schema | None = None
    """JSON Schema of the request body (None: no body)."""
    body_required: bool = True
    responses: Mapping[int, str] = field(default_factory=lambda: {200: "OK"})
    path_schemas: Mapping[str, Schema] = field(default_factory=dict)
    """Schemas of path parameters that are not plain strings."""


Operations = Mapping[tuple[str, str], Operation]
"""Metadata by (method, path relative to the document's prefix)."""


def template(path: str) -> str:
    """Return a Starlette path as an OpenAPI path template (``{id:int}`` becomes ``{id}``)."""
    return _CONVERTOR.sub(lambda m: "{" + m.group(1) + "}", path)


def served(routes: Iterable[BaseRoute], prefix: str) -> list[tuple[str, str, Route]]:
    """Return (method, path relative to ``prefix``, route) of every HTTP route under it."""
    found = []
    for route in routes:
        if type(route) is not Route or not route.path.startswith(prefix + "/"):
            continue
        for method in sorted(route.methods or ()):
            if method in _METHODS:
                found.append((method, template(route.path)[len(prefix):], route))
    return found


def _generic(method: str, path: str) -> Operation:
    words = [part for part in path.split("/") if part and not part.startswith("{")]
    return Operation(
        summary=f"{method} {path}",
        operation_id=method.lower() + "".join(w.title().replace("_", "") for w in words),
        tag=words[0] if words else "",
        body={"type": "object"} if method in ("POST", "PUT", "PATCH") else None,
        body_required=False,
    )


def _error_response() -> Schema:
    return {"description": "An error in Kalshi's shape",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document(routes: Iterable[BaseRoute], *, prefix: str, title: str, version: str,
             description: str, operations: Operations,
             security: Mapping[str, Any] | None = None,
             signed: Any = None) -> Schema:
    """Build the OpenAPI 3.1 document of the routes under ``prefix``.

    ``security`` is the document's ``components.securitySchemes``; ``signed(route)`` says
    whether an operation requires them (None: every operation does, if any are given).
    """
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    requirement: list[dict[str, list[str]]] = [
        {name: [] for name in security} if security else {}]
    for method, path, route in served(routes, prefix):
        op = operations.get((method, path)) or _generic(method, path)
        op_id = op.operation_id or _generic(method, path).operation_id
        while op_id in used_ids:
            op_id += "_"
        used_ids.add(op_id)
        entry: dict[str, Any] = {"operationId": op_id, "summary": op.summary}
        if op.description:
            entry["description"] = op.description
        if op.tag:
            entry["tags"] = [op.tag]
        parameters = [
            {"name": name, "in": "path", "required": True,
             "schema": op.path_schemas.get(name, {"type": "string"})}
            for name in _CONVERTOR.findall(path) for name in [name[0]]
        ]
        parameters += [p.render() for p in op.query]
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": op.body_required, "content": {
                "application/json": {"schema": op.body}}}
        responses: dict[str, Any] = {str(code): {"description": text}
                                     for code, text in sorted(op.responses.items())}
        responses["default"] = _error_response()
        entry["responses"] = responses
        needs_key = bool(security) and (signed is None or signed(route))
        entry["security"] = requirement if needs_key else []
        paths.setdefault(path, {})[method.lower()] = entry
    components: Schema = {"schemas": {"Error": {
        "type": "object",
        "description": "Kalshi's error body: {error: {code, message, details?}}, or the "
                       "flat or bare forms some endpoints use (docs/behaviour.md)",
    }}}
    if security:
        components["securitySchemes"] = dict(security)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": components,
    }


class DocumentCache:
    """Builds a document once per route table (it changes only when routes are added)."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._key: tuple[int, int] | None = None
        self._document: Schema = {}

    def get(self, routes: list[BaseRoute]) -> Schema:
        key = (id(routes), len(routes))
        if key != self._key:
            self._document = self._build(routes)
            self._key = key
        return self._document


__all__ = ["DocumentCache", "Operation", "Operations", "Param", "Schema", "document", "served",
           "template"]
