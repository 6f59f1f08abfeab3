"""The pytest plugin: the ``kalshi_sandbox`` fixture, its marker and its options.

Installed with the package (entry point ``pytest11``), so any test can ask for it::

    def test_rfq_executes(kalshi_sandbox):
        client = kalshi_sandbox.client(kalshi_sandbox.requester)
        rfq_id = client.create_rfq(kalshi_sandbox.markets[0], contracts=10)

By default the sandbox runs in this process (a thread serving a free port) with a manual
clock, and every test starts from a wiped sandbox with fresh accounts and markets. Servers are
shared by tests that ask for the same settings and reset between them.

Tests go to a running sandbox only when asked in so many words: ``--kalshi-sandbox-url``,
``KALSHI_SANDBOX_TEST_URL`` or ``@pytest.mark.kalshi_sandbox(url=...)`` (never
``KALSHI_SANDBOX_URL``, which the CLI reads to find a developer's own sandbox). Each test
resets that sandbox, which wipes it, so the fixture also wants leave to do that:
``--kalshi-sandbox-allow-reset``, ``KALSHI_SANDBOX_TEST_ALLOW_RESET=1`` or the marker's
``allow_reset=True``; without it the test errors and the sandbox is left alone.

``@pytest.mark.kalshi_sandbox(confirm_window=5, clock="system", clock_speed=10)`` configures
the in-process sandbox with any setting of :class:`~kalshi_sandbox.settings.Settings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kalshi_sandbox.settings import Settings

if TYPE_CHECKING:
    from kalshi_sandbox.testing.keys import KeyPool
    from kalshi_sandbox.testing.sandbox import KalshiSandbox
    from kalshi_sandbox.testing.server import SandboxServer

# The plugin loads with every pytest run in an environment that has the package installed:
# the sandbox's modules are imported only when a test asks for the fixture.

URL_ENV = "KALSHI_SANDBOX_TEST_URL"
TOKEN_ENV = "KALSHI_SANDBOX_TEST_ADMIN_TOKEN"
ALLOW_RESET_ENV = "KALSHI_SANDBOX_TEST_ALLOW_RESET"
MARKER = "kalshi_sandbox"
FIXTURE_OPTIONS = frozenset({"url", "balance", "allow_reset"})
"""Marker arguments that are not server settings."""
FIXED_SETTINGS = frozenset({"host", "port", "data_dir", "db", "seed"})
"""Settings the fixture chooses itself."""
UNSHARED_SETTINGS = frozenset({"clock_start"})
"""Settings that need a server of their own per test (a clock cannot be put back)."""
POOL_SIZE = 4
"""In-process servers kept running at once, one per distinct set of settings."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kalshi-sandbox", "kalshi-sandbox fixture")
    group.addoption("--kalshi-sandbox-url", dest="kalshi_sandbox_url", default=None,
                    metavar="URL",
                    help=f"run kalshi_sandbox tests against the sandbox at URL (reset before "
                         f"each test, with --kalshi-sandbox-allow-reset) instead of one "
                         f"in-process; default ${URL_ENV}")
    group.addoption("--kalshi-sandbox-allow-reset", dest="kalshi_sandbox_allow_reset",
                    action="store_true", default=False,
                    help=f"let the fixture wipe the sandbox at --kalshi-sandbox-url before "
                         f"each test (or ${ALLOW_RESET_ENV}=1)")
    group.addoption("--kalshi-sandbox-admin-token", dest="kalshi_sandbox_admin_token",
                    default=None, metavar="TOKEN",
                    help=f"control-plane token of that sandbox; default ${TOKEN_ENV}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(url=None, allow_reset=False, balance=None, **settings): point the "
        "kalshi_sandbox fixture at the sandbox at url (which it may wipe with allow_reset), "
        "or configure the in-process one with kalshi-sandbox settings (confirm_window=5, "
        "clock='system', clock_speed=10, ...)")


class ServerPool:
    """In-process sandboxes by settings, started on first use and stopped at session end."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self._servers: OrderedDict[tuple[tuple[str, Any], ...], SandboxServer] = OrderedDict()

    def get(self, settings: dict[str, Any]) -> tuple[SandboxServer, bool]:
        """Return a running server with ``settings`` and whether it is the caller's alone."""
        from kalshi_sandbox.testing.server import SandboxServer

        if UNSHARED_SETTINGS & settings.keys():
            return SandboxServer(**settings).start(), True
        key = tuple(sorted(settings.items()))
        server = self._servers.get(key)
        if server is not None and server.running:
            self._servers.move_to_end(key)
            return server, False
        server = SandboxServer(**settings).start()
        self._servers[key] = server
        while len(self._servers) > self.size:
            _, oldest = self._servers.popitem(last=False)
            oldest.stop()
        return server, False

    def close(self) -> None:
        """Stop every server."""
        while self._servers:
            _, server = self._servers.popitem()
            server.stop()


def marker_options(node: pytest.Item) -> dict[str, Any]:
    """Merge the ``kalshi_sandbox`` markers on a test, the closest one winning."""
    options: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only, "
                                    f"got {mark.args!r}")
        options.update(mark.kwargs)
    return options


def server_settings(options: dict[str, Any]) -> dict[str, Any]:
    """Return the settings among marker options; refuse unknown and fixed ones."""
    known = {f.name for f in dataclasses.fields(Settings)}
    settings = {k: v for k, v in options.items() if k not in FIXTURE_OPTIONS}
    unknown = sorted(settings.keys() - known)
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown option(s) "
                                f"{', '.join(unknown)}; use url, allow_reset, balance or a "
                                "kalshi-sandbox setting (confirm_window, clock, clock_speed, "
                                "...)")
    fixed = sorted(settings.keys() & FIXED_SETTINGS)
    if fixed:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {', '.join(fixed)} is chosen by "
                                "the fixture")
    return settings


def reset_allowed(request: pytest.FixtureRequest, options: dict[str, Any]) -> bool:
    """Return True if the test run may wipe an external sandbox."""
    if "allow_reset" in options:
        return options["allow_reset"] is True
    if request.config.getoption("kalshi_sandbox_allow_reset"):
        return True
    return os.environ.get(ALLOW_RESET_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@pytest.fixture(scope="session")
def kalshi_sandbox_servers() -> Iterator[ServerPool]:
    """The session's in-process sandboxes, shared by tests that ask for the same settings."""
    pool = ServerPool()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def kalshi_sandbox_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPool:
    """RSA keys for sandbox accounts, generated once for the session."""
    from kalshi_sandbox.testing.keys import KeyPool

    return KeyPool(Path(tmp_path_factory.mktemp("kalshi-sandbox-keys")))


@pytest.fixture
def kalshi_sandbox(request: pytest.FixtureRequest, kalshi_sandbox_servers: ServerPool,
                   kalshi_sandbox_keys: KeyPool) -> Iterator[KalshiSandbox]:
    """A wiped sandbox with ready accounts ``requester`` and ``maker`` and two markets.

    In-process with a manual clock unless a URL is given (marker ``url=``,
    ``--kalshi-sandbox-url`` or ``KALSHI_SANDBOX_TEST_URL``), which it wipes only when
    allowed to (``allow_reset=True``, ``--kalshi-sandbox-allow-reset`` or
    ``KALSHI_SANDBOX_TEST_ALLOW_RESET=1``).
    """
    from kalshi_sandbox.testing.sandbox import KalshiSandbox

    options = marker_options(request.node)
    settings = server_settings(options)
    url = (options.get("url") or request.config.getoption("kalshi_sandbox_url")
           or os.environ.get(URL_ENV))
    token = (request.config.getoption("kalshi_sandbox_admin_token")
             or os.environ.get(TOKEN_ENV, ""))
    server: SandboxServer | None = None
    own = False
    if url:
        if settings:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER}: {', '.join(sorted(settings))} configure an "
                f"in-process sandbox; the sandbox at {url} keeps its own settings")
        if not reset_allowed(request, options):
            raise pytest.UsageError(
                f"kalshi_sandbox: the sandbox at {url} was not started by this test run, and "
                "the fixture wipes the sandbox before every test. If its data may be lost, "
                f"pass --kalshi-sandbox-allow-reset (or set {ALLOW_RESET_ENV}=1, or mark the "
                f"test @pytest.mark.{MARKER}(url=..., allow_reset=True))")
    else:
        server, own = kalshi_sandbox_servers.get(settings)
        url = server.base_url
        token = server.settings.admin_token
    sandbox = KalshiSandbox(url, admin_token=token, keys=kalshi_sandbox_keys, server=server)
    try:
        if server is not None and server.settings.clock == "system":
            # A test may have changed the speed of a shared server's clock.
            sandbox.clock.set_speed(server.settings.clock_speed)
        sandbox.setup(**({"balance": options["balance"]} if "balance" in options else {}))
        yield sandbox
    finally:
        sandbox.close()
        if own and server is not None:
            server.stop()
