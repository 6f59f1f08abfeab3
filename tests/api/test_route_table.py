"""The route table picks the route Starlette's own router would pick, for every request.

Two copies of one app, one routed through the table, answer the same requests; each answer
names the endpoint and the path parameters it got, so any difference shows.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message
from starlette.websockets import WebSocket

from kalshi_sandbox.api.http import Endpoint, RouteTable, use_route_table


def endpoint(name: str) -> Endpoint:
    async def handle(request: Request) -> Response:
        return JSONResponse({"endpoint": name, "params": request.path_params})

    return Endpoint(handle)


async def socket(websocket: WebSocket) -> None:
    await websocket.close()


def routes() -> list[BaseRoute]:
    return [
        Route("/a/{x}", endpoint("a-x get"), methods=["GET"]),
        Route("/a/b", endpoint("a-b")),
        Route("/a/{x}", endpoint("a-x post"), methods=["POST"]),
        Route("/a/{x}/c", endpoint("a-x-c"), methods=["PUT"]),
        Route("/a/{x}/{y}", endpoint("a-x-y"), methods=["PUT", "DELETE"]),
        Route("/n/{i:int}", endpoint("n-int")),
        Route("/n/{s}", endpoint("n-str")),
        Route("/files/{rest:path}", endpoint("files")),
        Route("/v-{version}/x", endpoint("mixed")),
        Mount("/m", routes=[Route("/x", endpoint("m-x")), Route("/{y}", endpoint("m-y"))]),
        WebSocketRoute("/a/ws", socket),
        Route("/slash/", endpoint("slash")),
        Route("/", endpoint("root")),
    ]


PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/", "/a/q", "/a/q/c", "/a/q/d", "/a/q/c/", "/a/ws",
         "/n/12", "/n/x1", "/n/", "/files", "/files/", "/files/p/q.txt", "/v-2/x", "/v-/x",
         "/m", "/m/x", "/m/y", "/m/y/z", "/slash", "/slash/", "/nowhere", "//a/b", "/a//b"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def answer(app: ASGIApp, method: str,
           path: str) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Send one request through ``app`` in process; return status, body and headers."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "server": ("testserver", 80),
             "client": ("127.0.0.1", 5000), "headers": [(b"host", b"testserver")]}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        await app(scope, receive, send)

    asyncio.run(call())
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], body, sorted(start["headers"])


def test_table_routes_every_request_as_starlettes_router_does() -> None:
    plain = Starlette(routes=routes())
    tabled = Starlette(routes=routes())
    use_route_table(tabled)
    for method, path in itertools.product(METHODS, PATHS):
        assert answer(tabled, method, path) == answer(plain, method, path), (method, path)


def test_table_offers_candidates_in_route_order_and_mounts_everywhere() -> None:
    table = RouteTable(routes())
    paths = [getattr(r, "path", "") for r in table.candidates("/a/b")]
    # Routes the table cannot index (a path parameter, a parameter inside a segment, a
    # mount) are candidates for every path, in their places.
    everywhere = ["/files/{rest:path}", "/v-{version}/x", "/m"]
    assert paths == ["/a/{x}", "/a/b", "/a/{x}", *everywhere]
    assert [getattr(r, "path", "") for r in table.candidates("/nowhere/at/all")] == everywhere
    assert [getattr(r, "path", "") for r in table.candidates("/n/7")] == [
        "/n/{i:int}", "/n/{s}", *everywhere]


@pytest.mark.parametrize("late", [True, False], ids=["route added late", "no change"])
def test_table_follows_routes_added_after_it_was_built(late: bool) -> None:
    app = Starlette(routes=routes())
    use_route_table(app)
    if late:
        app.router.routes.insert(0, Route("/a/b", endpoint("late")))
    _, body, _ = answer(app, "GET", "/a/b")
    assert b'"endpoint":"late"' in body if late else b'"endpoint":"a-x get"' in body
