"""Fixtures for state control: a second sandbox to restore or replay into."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import Control, ServerProcess, running


@pytest.fixture(scope="module")
def other_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A second sandbox (manual clock, no seed) that starts empty."""
    yield from running(tmp_path_factory.mktemp("other"))


@pytest.fixture
def target(other_server: ServerProcess) -> Iterator[Control]:
    """The control plane of the second sandbox, reset and empty."""
    control = Control(other_server.base_url)
    control.reset()
    yield control
    control.close()
