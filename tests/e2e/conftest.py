"""The end-to-end suite's shared server runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import postgres
from tests.support.server import ServerProcess


@pytest.fixture(scope="session", params=postgres.BACKENDS)
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox with a manual clock and no demo seed, on each database."""
    yield from postgres.serving(request.param, tmp_path_factory.mktemp(request.param),
                                "--clock", "manual", "--no-seed")
