"""/health (liveness and readiness, storage included) and ``kalshi-sandbox --version``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from typer.testing import CliRunner

import kalshi_sandbox
from kalshi_sandbox.bootstrap import build
from kalshi_sandbox.cli import app
from kalshi_sandbox.settings import Settings
from tests.support.server import ServerProcess


def test_health_of_a_running_server_is_live_and_ready(server: ServerProcess) -> None:
    response = httpx.get(server.base_url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["ready"] is True
    assert body["checks"] == {"storage": "ok"}
    assert body["version"] == kalshi_sandbox.__version__
    live = httpx.get(server.base_url + "/health/live")
    assert live.status_code == 200
    assert live.json()["status"] == "ok"
    assert httpx.get(server.base_url + "/health/ready").status_code == 200


def test_health_answers_503_naming_the_storage_when_the_database_is_gone(
        tmp_path: Path) -> None:
    settings = Settings.from_env().replace(db=str(tmp_path / "sandbox.db"),
                                           data_dir=str(tmp_path), clock="manual")
    sandbox = build(settings)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        await sandbox.start()
        transport = httpx.ASGITransport(app=sandbox.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            before = await http.get("/health")
            await sandbox.store.close()  # the database goes away under the running server
            after = await http.get("/health")
            live = await http.get("/health/live")
        await sandbox.scheduler.stop()
        await sandbox.journal.close()
        return before, after, live

    before, after, live = asyncio.run(scenario())
    assert before.status_code == 200
    assert after.status_code == 503
    assert after.json()["ready"] is False
    assert after.json()["checks"]["storage"].startswith("unavailable")
    assert live.status_code == 200  # still alive: only readiness depends on the storage


def test_version_flag_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"kalshi-sandbox {kalshi_sandbox.__version__}"


def test_package_version_matches_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert version("kalshi-sandbox") == kalshi_sandbox.__version__
