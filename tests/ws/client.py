"""A signed WebSocket test client for Kalshi's ``/trade-api/ws/v2`` (real sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from kalshi_sandbox.client.auth import KalshiAuth
from tests.support.server import Account, Trader

WS_PATH = "/trade-api/ws/v2"
TIMEOUT = 10.0


def ws_url(base_url: str) -> str:
    """Return the WebSocket URL of a sandbox at ``base_url``."""
    return base_url.replace("http://", "ws://", 1) + WS_PATH


def signed_headers(account: Account, path: str = WS_PATH) -> dict[str, str]:
    """Return the three Kalshi headers signing a GET of ``path`` now."""
    return KalshiAuth(account.key_id, account.private_key_pem).headers("GET", path)


class WsClient:
    """One connection: send commands, read frames as JSON, check ``seq`` as they come."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._next_id = 1000
        self.last_seq: dict[int, int] = {}
        self.gaps: list[tuple[int, int, int]] = []

    def send(self, command: Any) -> None:
        """Send ``command`` as JSON text (or ``command`` itself if it is a string)."""
        self.connection.send(command if isinstance(command, str) else json.dumps(command))

    def command(self, cmd: str, params: dict[str, Any] | None = None,
                command_id: int | None = None) -> int:
        """Send a command with a fresh id (unless given); return the id."""
        if command_id is None:
            self._next_id += 1
            command_id = self._next_id
        body: dict[str, Any] = {"id": command_id, "cmd": cmd}
        if params is not None:
            body["params"] = params
        self.send(body)
        return command_id

    def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Return the next frame, recording any ``seq`` that does not follow its sid's last."""
        frame: dict[str, Any] = json.loads(self.connection.recv(timeout=timeout))
        sid, seq = frame.get("sid"), frame.get("seq")
        if isinstance(sid, int) and isinstance(seq, int):
            expected = self.last_seq.get(sid, 0) + 1
            if seq != expected:
                self.gaps.append((sid, expected, seq))
            self.last_seq[sid] = seq
        return frame

    def reply(self, command_id: int, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Read frames up to the first reply to ``command_id``; fail on any data message."""
        before, reply = self.until(command_id, timeout)
        assert before == [], before
        return reply

    def until(self, command_id: int, timeout: float = TIMEOUT
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Return the frames before the first reply to ``command_id``, and that reply."""
        frames: list[dict[str, Any]] = []
        while True:
            frame = self.recv(timeout)
            if frame.get("id") == command_id:
                return frames, frame
            frames.append(frame)

    def subscribe(self, *channels: str, **params: Any) -> dict[str, int]:
        """Subscribe; return the sid of each channel."""
        command_id = self.command("subscribe", {"channels": list(channels), **params})
        sids = {}
        for _ in channels:
            frame = self.recv()
            assert (frame["id"], frame["type"]) == (command_id, "subscribed"), frame
            sids[frame["msg"]["channel"]] = frame["msg"]["sid"]
        return sids

    def drain(self) -> list[dict[str, Any]]:
        """Return every frame queued for this connection so far.

        Events are queued on every connection before the request that caused them is
        answered, so a ``list_subscriptions`` sent now is answered after all of them.
        """
        frames, _ = self.until(self.command("list_subscriptions"))
        return frames


@contextmanager
def open_ws(base_url: str, account: Account | None,
            headers: dict[str, str] | None = None) -> Iterator[WsClient]:
    """Open a connection signed for ``account`` (or with ``headers`` as given)."""
    if headers is None:
        headers = signed_headers(account) if account is not None else {}
    with connect(ws_url(base_url), additional_headers=headers, compression=None,
                 open_timeout=TIMEOUT, close_timeout=2) as connection:
        yield WsClient(connection)


def data(frames: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """Return (type, sid, seq) of each frame."""
    return [(f["type"], f["sid"], f["seq"]) for f in frames]


OpenSocket = Callable[[Trader], WsClient]
"""Open a signed WebSocket connection for a trader (the ``sockets`` fixtures)."""


def open_sockets(base_url: str) -> Iterator[OpenSocket]:
    """Yield an :data:`OpenSocket` whose connections all close when the generator ends."""
    with ExitStack() as stack:

        def open_for(trader: Trader) -> WsClient:
            return stack.enter_context(open_ws(base_url, trader.account))

        yield open_for
