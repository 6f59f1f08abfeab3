"""Fixtures of the web tests: the served app's routes, built as ``serve`` builds them."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute

from kalshi_sandbox.bootstrap import build
from kalshi_sandbox.settings import Settings


def served_routes(tmp: Path) -> list[BaseRoute]:
    """Return the routes of the app ``kalshi-sandbox serve`` runs (nothing is started)."""
    settings = Settings.from_env().replace(db=":memory:", data_dir=str(tmp), clock="manual")
    return list(build(settings).app.router.routes)
