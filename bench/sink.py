"""A canned-response HTTP server: the cheapest server there is, to measure the client's ceiling.

It answers every request head it sees with the same 200 response, without routing or
parsing beyond finding the end of each head (it expects body-less requests, as GET is).

Run: ``python -m bench.sink --port 8002``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import cast

import uvloop

RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok")


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        data = self.pending + data
        heads = data.count(b"\r\n\r\n")
        self.pending = data[data.rfind(b"\r\n\r\n") + 4:] if heads else data
        if heads and self.transport is not None:
            self.transport.write(RESPONSE * heads)


async def serve(port: int) -> None:
    """Serve forever on ``port``."""
    server = await asyncio.get_running_loop().create_server(_Sink, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Run the sink."""
    parser = argparse.ArgumentParser(description="canned-response HTTP server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
