"""What the server says as it runs: one readable line per request and per exchange event at
``info``, as text or as one JSON object a line (``--log-format json``).

``RequestLog`` is the outermost middleware: it logs each HTTP request once its response has
started (method, path, status, duration) and each WebSocket session as it opens. ``EventLog``
listens to the event hub and logs each committed event with the ids it carries. Both cost one
``isEnabledFor`` check when info is off (the tests and benchmarks run at ``warning``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.powers.state.entries import event_fields

requests_log = logging.getLogger("kalshi_sandbox.requests")
events_log = logging.getLogger("kalshi_sandbox.events")


class RequestLog:
    """ASGI middleware logging one line per request: ``POST /path -> 201 (1.4 ms)``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not requests_log.isEnabledFor(
                logging.INFO):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        method = scope.get("method", "WS")
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        if scope["type"] == "websocket":
            requests_log.info("WS %s from %s", path, peer,
                              extra={"method": "WS", "path": path, "peer": peer})
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                took = (time.perf_counter() - started) * 1000
                requests_log.info("%s %s -> %d (%.1f ms)", method, path, status, took,
                                  extra={"method": method, "path": path, "status": status,
                                         "ms": round(took, 3), "peer": peer})
            await send(message)

        await self.app(scope, receive, sending)


def log_events(events: Sequence[Event]) -> None:
    """Log each committed event with its ids (a hub listener): ``quote_executed quote=…``."""
    if not events_log.isEnabledFor(logging.INFO):
        return
    for event in events:
        fields = event_fields(event)
        name = fields.pop("event")
        parts = " ".join(f"{k}={v}" for k, v in fields.items()
                         if isinstance(v, str | int | bool) and v != "")
        events_log.info("%s %s", name, parts, extra={"event": name, "fields": {
            k: v for k, v in fields.items() if isinstance(v, str | int | float | bool)}})


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace(
                "+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def log_config(level: str, form: str) -> dict[str, Any]:
    """Return a ``logging.config.dictConfig`` for the server and uvicorn, text or JSON."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if form == "json"
        else {"format": "%(asctime)s %(levelname)-7s %(message)s",
              "datefmt": "%H:%M:%S"})
    handler = {"class": "logging.StreamHandler", "formatter": "default",
               "stream": "ext://sys.stderr"}
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            "kalshi_sandbox": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["default"], "level": upper, "propagate": False},
        },
    }


__all__ = ["JsonFormatter", "RequestLog", "log_config", "log_events"]
