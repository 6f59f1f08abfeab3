"""The served OpenAPI documents: valid 3.1, every served route documented, every documented
route served, and the docs page served offline from the sandbox itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import BaseRoute, Match, Route

from kalshi_sandbox.api.routes import PREFIX
from kalshi_sandbox.powers.guard import CONTROL_PREFIX
from kalshi_sandbox.web.openapi import served
from tests.support.server import ServerProcess
from tests.web.conftest import served_routes

DOCUMENTS = {PREFIX: PREFIX + "/openapi.json", CONTROL_PREFIX: CONTROL_PREFIX + "/openapi.json"}
METHODS = ("get", "post", "put", "patch", "delete")


def operations_of(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items()
            for method in item if method in METHODS}


@pytest.fixture(scope="module")
def documents(server: ServerProcess) -> dict[str, dict[str, Any]]:
    found = {}
    for prefix, url in DOCUMENTS.items():
        response = httpx.get(server.base_url + url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        found[prefix] = response.json()
    return found


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[BaseRoute]:
    return served_routes(tmp_path_factory.mktemp("routes"))


@pytest.mark.parametrize("prefix", list(DOCUMENTS))
def test_document_is_openapi_3_1_with_unique_operation_ids(
        documents: dict[str, dict[str, Any]], prefix: str) -> None:
    doc = documents[prefix]
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": prefix}]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        for op in item.values():
            declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), path


@pytest.mark.parametrize("prefix", list(DOCUMENTS))
def test_every_served_route_is_documented_and_every_documented_route_served(
        documents: dict[str, dict[str, Any]], routes: list[BaseRoute], prefix: str) -> None:
    served_ops = {(method, path) for method, path, _ in served(routes, prefix)}
    documented = operations_of(documents[prefix])
    assert served_ops - documented == set(), "served but not documented"
    assert documented - served_ops == set(), "documented but not served"
    # And each documented operation is one the app's router routes to (a concrete path).
    for method, path in documented:
        concrete = prefix + re.sub(r"\{\w+\}", "x1", path)
        scope = {"type": "http", "method": method, "path": concrete, "root_path": ""}
        assert any(route.matches(scope)[0] is Match.FULL for route in routes
                   if isinstance(route, Route)), (method, concrete)


def test_a_route_added_later_appears_in_the_document(tmp_path: Path) -> None:
    """The document is built from the route table: a new endpoint is never left out."""
    from kalshi_sandbox.web.routes import control_document, trade_document

    async def nothing(request: Any) -> Any:
        raise AssertionError

    routes = [*served_routes(tmp_path),
              Route(PREFIX + "/series/{series_ticker}", nothing, methods=["GET"]),
              Route(CONTROL_PREFIX + "/markets/{ticker}/settle", nothing, methods=["POST"])]
    trade = trade_document(routes)
    control = control_document(routes)
    assert "get" in trade["paths"]["/series/{series_ticker}"]
    assert "post" in control["paths"]["/markets/{ticker}/settle"]


def test_signed_endpoints_carry_kalshi_security_and_public_ones_none(
        documents: dict[str, dict[str, Any]]) -> None:
    paths = documents[PREFIX]["paths"]
    assert paths["/communications/rfqs"]["post"]["security"] == [
        {"KalshiAccessKey": [], "KalshiAccessSignature": [], "KalshiAccessTimestamp": []}]
    assert paths["/markets"]["get"]["security"] == []
    body = paths["/communications/rfqs"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["required"]) == {"market_ticker", "rest_remainder"}


def test_control_plane_document_is_guarded_like_the_control_plane(
        server: ServerProcess) -> None:
    cross = httpx.get(server.base_url + CONTROL_PREFIX + "/openapi.json",
                      headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    rebound = httpx.get(server.base_url + CONTROL_PREFIX + "/openapi.json",
                        headers={"Host": "attacker.example"})
    assert rebound.status_code == 403


def test_docs_page_loads_every_asset_from_the_sandbox(server: ServerProcess) -> None:
    page = httpx.get(server.base_url + "/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by the sandbox"
        asset = httpx.get(server.base_url + source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    assert httpx.get(server.base_url + "/docs/assets/core.py").status_code == 404
    assert httpx.get(server.base_url + "/docs/assets/..%2F__init__.py").status_code == 404
