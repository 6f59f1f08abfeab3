"""A whole sandbox in this process (the app ``serve`` runs, without sockets), for tests that
need to look at its files at a precise moment."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from kalshi_sandbox.bootstrap import Sandbox, build
from kalshi_sandbox.settings import Settings

START = "2026-03-01T12:00:00Z"


def settings(data_dir: Path, **changes: Any) -> Settings:
    """Settings of a test sandbox: manual clock, no seed, no rate limits."""
    values: dict[str, Any] = {"data_dir": str(data_dir), "clock": "manual",
                              "clock_start": START, "seed": False, "rate_limit": "off"}
    values.update(changes)
    return Settings(**values)


@asynccontextmanager
async def running(data_dir: Path, **changes: Any) -> AsyncIterator[tuple[Sandbox, Client]]:
    """Start a sandbox on ``data_dir``; yield it and a control-plane client; stop it."""
    box = build(settings(data_dir, **changes))
    await box.start()
    client = Client(box)
    try:
        yield box, client
    finally:
        await client.close()
        await box.stop()


class Client:
    """Control-plane calls through the app, in process."""

    def __init__(self, box: Sandbox) -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=box.app),
                                      base_url="http://127.0.0.1/sandbox/v1")

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = await self.http.request(method, path, json=body)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    async def close(self) -> None:
        await self.http.aclose()


def crash_image(data_dir: Path, target: Path) -> None:
    """Copy what a process killed right now would leave on disk: the database, its WAL and
    the journal's files (nothing of what is still in memory)."""
    target.mkdir(parents=True)
    for path in data_dir.iterdir():
        if path.is_file() and path.name.startswith("sandbox."):
            shutil.copy2(path, target / path.name)


def tables(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The tables of a snapshot, without the meta rows that say where a clock or a journal
    stands rather than what the state is."""
    result = dict(snapshot["tables"])
    result["meta"] = [row for row in result["meta"]
                      if row["key"] not in ("manual_clock", "journal", "journal_position")]
    return result
