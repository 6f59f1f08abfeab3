"""A sandbox served from a thread of the current process, on a free port of the loopback.

The server is the same app ``kalshi-sandbox serve`` runs (``bootstrap.build``), on uvicorn,
with its own event loop in a background thread; the caller talks to it over HTTP and the
WebSocket exactly as it would to a separate process.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from kalshi_sandbox.settings import Settings

START_TIMEOUT = 30.0
"""Seconds to wait for the server to answer before giving up."""

STOP_TIMEOUT = 30.0

DEFAULTS: dict[str, Any] = {"clock": "manual", "seed": False, "rate_limit": "off",
                            "log_level": "warning"}
"""What an in-process sandbox differs in from ``kalshi-sandbox serve``'s defaults.

Rate limiting is off: how many requests a test sends in a second depends on the machine, and
with a manual clock buckets refill only as the test advances it. ``rate_limit="basic"`` (or
any tier) turns it on.
"""


class SandboxServer:
    """A sandbox on ``127.0.0.1:<free port>``, served from a background thread.

    ``overrides`` are :class:`~kalshi_sandbox.settings.Settings` fields (``confirm_window``,
    ``clock``, ``clock_speed``, ``rate_limit``, ...) over a manual clock, no demo seed and no
    rate limits. Without a
    ``data_dir`` the database lives in a temporary directory removed by :meth:`stop`.

    >>> with SandboxServer(confirm_window=5) as server:
    ...     print(server.base_url)
    """

    def __init__(self, **overrides: Any) -> None:
        settings = Settings(**{**DEFAULTS, **overrides, "port": 0})
        settings.validate()
        self._own_dir: Path | None = None
        if "data_dir" not in overrides:
            self._own_dir = Path(tempfile.mkdtemp(prefix="kalshi-sandbox-"))
            settings = settings.replace(data_dir=str(self._own_dir))
        # IPPROTO_TCP stated outright: asyncio sets TCP_NODELAY on accepted connections only
        # when the listener says so, and without it every keep-alive request waits ~40 ms.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind((settings.host, 0))
        self.settings = settings.replace(port=self._socket.getsockname()[1])
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """Return the TCP port the server listens on."""
        return self.settings.port

    @property
    def base_url(self) -> str:
        """Return the server root, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Return whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SandboxServer:
        """Build the sandbox, start serving it, and return once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("the server has already been started")
        try:
            self._launch()
        except BaseException:
            self.stop()  # no thread, socket or temporary directory outlives a failed start
            raise
        return self

    def _launch(self) -> None:
        # Imported here so that loading the pytest plugin stays cheap for test runs that
        # never ask for a sandbox.
        import uvicorn

        from kalshi_sandbox.api.ws.protocol import KalshiWebSocketProtocol
        from kalshi_sandbox.bootstrap import build, server_options

        settings = self.settings
        sandbox = build(settings)
        options = {**server_options(settings), "timeout_graceful_shutdown": 1}
        config = uvicorn.Config(
            sandbox.app, host=settings.host, port=settings.port, lifespan="on",
            loop="asyncio", http="auto", ws=KalshiWebSocketProtocol, **options,
            # The host process owns logging (pytest captures it): configure nothing.
            log_config=None, log_level=settings.log_level, access_log=False,
        )
        self._server = uvicorn.Server(config)
        started = threading.Event()
        sandbox.on_ready = lambda _: started.set()
        self._thread = threading.Thread(target=self._serve, name=f"kalshi-sandbox-{self.port}",
                                        daemon=True)
        self._thread.start()
        # Ready once the lifespan has started and uvicorn listens; the socket is bound
        # already, so a connection made in between waits in the backlog.
        deadline = time.monotonic() + START_TIMEOUT
        while not (started.wait(0.01) and self._server.started):
            if not self._thread.is_alive():
                cause = repr(self._failure) if self._failure else "see the captured log"
                raise RuntimeError(f"the sandbox failed to start ({cause})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start within {START_TIMEOUT:g} s")

    def _serve(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by start(), never lost in the thread
            self._failure = exc

    def stop(self) -> None:
        """Stop serving, close the database, and remove the temporary data directory."""
        thread, self._thread = self._thread, None
        if thread is not None and self._server is not None:
            self._server.should_exit = True
            thread.join(STOP_TIMEOUT)
        self._socket.close()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"SandboxServer({self.base_url}, clock={self.settings.clock}, {state})"

