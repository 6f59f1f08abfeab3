"""Attacks on a real sandbox process: raw HTTP over sockets, a TCP forwarder, state readers."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest

from tests.support.server import ServerProcess, running

CONTROL = "/sandbox/v1"


@dataclass
class RawResponse:
    """A response read off a socket: its status line's code, its headers and its body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


def _read_response(sock: socket.socket) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(status, headers, body)


def raw_request(port: int, head: bytes, body: bytes = b"", *,
                host: str = "127.0.0.1") -> RawResponse:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` as they
    are, and read the response."""
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head + b"\r\n\r\n" + body)
        return _read_response(sock)


def chunked_upload(port: int, path: str, total: int, chunk: int = 65536,
                   headers: bytes = b"") -> tuple[RawResponse, int]:
    """POST ``total`` bytes in chunks of ``chunk`` without a Content-Length, stopping as soon
    as the server answers; return the response and how many bytes were sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + headers
                     + b"Transfer-Encoding: chunked\r\n\r\n")
        sent = 0
        piece = b"x" * chunk
        sock.setblocking(False)
        try:
            while sent < total:
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break  # the server has answered
                except BlockingIOError:
                    pass
                try:
                    sock.sendall(f"{chunk:x}\r\n".encode() + piece + b"\r\n")
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    break
                sent += chunk
        finally:
            sock.setblocking(True)
        return _read_response(sock), sent


class Forwarder:
    """A plain TCP forwarder: listens on ``listen_host`` and copies bytes both ways to the
    sandbox on 127.0.0.1:``target_port``."""

    def __init__(self, listen_host: str, target_port: int) -> None:
        self.server = socket.socket()
        self.server.bind((listen_host, 0))
        self.server.listen()
        self.host = listen_host
        self.port: int = self.server.getsockname()[1]
        self.target_port = target_port
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self.server.close()
        self._thread.join(5)
        with self._lock:
            for sock in self._sockets:
                sock.close()


def accounts_of(server: ServerProcess, token: str = "") -> list[str]:
    """Return the names of the accounts the sandbox holds."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(server.base_url + CONTROL + "/accounts", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(a["name"] for a in response.json()["accounts"])


def journal_entries(server: ServerProcess, token: str = "") -> list[dict[str, Any]]:
    """Return the sandbox's journal, decoded."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(server.base_url + CONTROL + "/journal", headers=headers)
    assert response.status_code == 200, response.text
    return [msgspec.json.decode(line) for line in response.content.splitlines() if line]


@pytest.fixture(scope="module")
def system_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox on the system clock (its speed can be set), no demo seed."""
    yield from running(tmp_path_factory.mktemp("system"), "--clock", "system", "--no-seed")
