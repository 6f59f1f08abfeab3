"""Shared fixtures: one sandbox server process per session, reset before each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Control, ServerProcess, running

# pytest-xdist workers run with COLUMNS=80 in their environment; the CLI's rich consoles read
# it once, when the CLI is imported, and would then ignore the width a test gives a command.
os.environ.pop("COLUMNS", None)

MARKET = "KXTEST-26DEC31-T50"
HVM_MARKET = "KXTESTHVM-26DEC31-B1"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox with a manual clock and no demo seed, shared by the session."""
    yield from running(tmp_path_factory.mktemp("sandbox"))


def fresh_control(server: ServerProcess) -> Iterator[Control]:
    """Yield ``server``'s control plane, reset and given two markets; close it after."""
    control = Control(server.base_url)
    control.reset()
    control.market(MARKET)
    control.market(HVM_MARKET, hvm=True)
    yield control
    control.close()


@pytest.fixture
def control(server: ServerProcess) -> Iterator[Control]:
    """The control plane of the shared server, reset and given two markets."""
    yield from fresh_control(server)


@pytest.fixture
def tmp_data(tmp_path: Path) -> Path:
    return tmp_path
