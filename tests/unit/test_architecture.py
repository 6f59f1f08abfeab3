"""Structural gates: imports point inward and the public surface is pinned.

Layers, by the first component under ``kalshi_sandbox`` (README, "How it is built"):

* ``domain`` imports only the standard library and ``domain``: every rule of the exchange;
* ``exchange`` (the emulated Kalshi's use cases) imports ``domain``, ``exchange`` and
  ``settings``; third-party code only in ``exchange/keys.py`` (``cryptography``);
* ``storage`` imports ``domain``, ``exchange.ports``, ``exchange.tasks`` (one standard-library
  helper) and ``storage`` (and database drivers);
* ``api`` (Kalshi's REST API and WebSocket) imports ``domain``, ``exchange``, ``api`` and
  ``settings``: never a tester power;
* ``powers`` (the tester's powers) import ``domain``, ``exchange``, ``api`` (its plumbing,
  which they act on from outside), ``powers`` and ``settings``; their command-line modules
  also ``cli.options`` and ``client.control``;
* ``web`` (the dashboard) imports ``domain``, ``exchange``, ``api``, ``powers``, ``web`` and
  ``settings``;
* ``client`` imports nothing of ``kalshi_sandbox`` outside ``client``;
* ``settings`` imports only the standard library;
* ``testing`` (the pytest plugin) imports ``client``, ``bootstrap``, ``settings``, itself, and
  from ``api`` only ``api.ws.protocol`` (the WebSocket protocol ``serve`` runs uvicorn with);
* ``bootstrap``, ``cli`` and ``__main__`` may import anything but ``testing``: nothing imports
  ``testing``, so the server never depends on pytest.

So the exchange never imports a power, the API or storage, and the API never imports a power.
``settings`` is a leaf of plain values. Imports under ``if TYPE_CHECKING:`` and inside
functions count too: a type-only dependency is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import kalshi_sandbox
import kalshi_sandbox.client

ROOT = "kalshi_sandbox"
SRC = Path(kalshi_sandbox.__file__).parent
ANYTHING = "*"


@dataclass(frozen=True)
class Rule:
    """What one layer may import."""

    internal: tuple[str, ...]
    """Modules of ``kalshi_sandbox`` (and everything under them) the layer may import."""
    third_party: bool | tuple[str, ...]
    """Whether the layer may import third-party packages (or which, by top-level name)."""
    description: str


RULES: dict[str, Rule] = {
    "domain": Rule(("domain",), False, "the standard library and kalshi_sandbox.domain"),
    "exchange": Rule(("domain", "exchange", "settings"), False,
                     "kalshi_sandbox.domain, .exchange and .settings (third-party code only in "
                     "exchange/keys.py)"),
    "storage": Rule(("domain", "exchange.ports", "exchange.tasks", "storage"), True,
                    "kalshi_sandbox.domain, .exchange.ports, .exchange.tasks and .storage"),
    "api": Rule(("domain", "exchange", "api", "settings"), True,
                "kalshi_sandbox.domain, .exchange, .api and .settings"),
    "powers": Rule(("domain", "exchange", "api", "powers", "settings", "cli.options",
                    "client.control"), True,
                   "kalshi_sandbox.domain, .exchange, .api, .powers, .settings, .cli.options and "
                   ".client.control"),
    "web": Rule(("domain", "exchange", "api", "powers", "web", "settings"), True,
                "kalshi_sandbox.domain, .exchange, .api, .powers, .web and .settings"),
    "client": Rule(("client",), True, "kalshi_sandbox.client and third-party packages"),
    "settings": Rule((), False, "the standard library only"),
    "testing": Rule(("client", "bootstrap", "settings", "testing", "api.ws.protocol"), True,
                    "kalshi_sandbox.client, .bootstrap, .settings, .testing, "
                    ".api.ws.protocol and third-party packages"),
    "": Rule((), False, "the standard library only (the package root stays light)"),
    "bootstrap": Rule((ANYTHING,), True, "anything"),
    "cli": Rule((ANYTHING,), True, "anything"),
    "__main__": Rule((ANYTHING,), True, "anything"),
}
"""Rules by layer; ``""`` is the package root ``kalshi_sandbox/__init__.py``."""

LEAVES = ("testing",)
"""Layers no other layer may import, whatever its rule says."""

MODULE_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "kalshi_sandbox.exchange.keys": ("cryptography",),
}
"""Third-party packages particular modules may import beyond their layer's rule."""


def module_name(path: Path, src: Path = SRC) -> str:
    """Return the dotted module name of a source file under the package directory."""
    parts = [ROOT, *path.relative_to(src).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _is_module(dotted: str, src: Path) -> bool:
    parts = dotted.split(".")[1:]
    target = src.joinpath(*parts)
    return target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()


def imported_modules(source: str, module: str, package: bool,
                     src: Path = SRC) -> list[tuple[int, str]]:
    """Return (line, module) for every import in ``source``, relative imports resolved.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module of the
    project, else as importing ``pkg``.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                if not package:
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if candidate.split(".")[0] == ROOT and _is_module(candidate, src):
                    found.append((node.lineno, candidate))
                else:
                    found.append((node.lineno, base))
    return found


def _within(module: str, allowed: str) -> bool:
    return module == allowed or module.startswith(allowed + ".")


def violations_of(source: str, module: str, package: bool, where: str,
                  src: Path = SRC) -> list[str]:
    """Return one message per import of ``source`` that its layer does not allow."""
    inner = module.split(".")[1:]
    layer = inner[0] if inner else ""
    rule = RULES.get(layer)
    if rule is None:
        return [f"{where}: no layering rule for {module}; add its layer to "
                "tests/unit/test_architecture.py"]
    problems = []
    for line, imported in imported_modules(source, module, package, src):
        top = imported.split(".")[0]
        if top == "__future__" or top in sys.stdlib_module_names:
            continue
        if top == ROOT:
            target = imported.removeprefix(ROOT).lstrip(".")
            leaf = next((x for x in LEAVES if _within(target, x) and layer != x), None)
            if leaf is not None:
                problems.append(f"{where}:{line}: {module} imports {imported}; nothing "
                                f"outside kalshi_sandbox.{leaf} may import it")
                continue
            if ANYTHING in rule.internal or any(_within(target, a) for a in rule.internal):
                continue
        else:
            allowed = rule.third_party
            extra = MODULE_EXCEPTIONS.get(module, ())
            if allowed is True or top in extra or (isinstance(allowed, tuple) and top in allowed):
                continue
        problems.append(f"{where}:{line}: {module} imports {imported}; the {layer or 'root'} "
                        f"layer may import {rule.description}")
    return problems


def test_every_module_imports_only_what_its_layer_allows() -> None:
    problems: list[str] = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        problems += violations_of(path.read_text(), module_name(path), is_package(path),
                                  str(path.relative_to(SRC.parent)))
    assert not problems, "layering violations:\n" + "\n".join(problems)


def test_checker_reports_every_violation_with_file_line_and_import(tmp_path: Path) -> None:
    src = tmp_path / ROOT
    for name in ("domain", "exchange", "api", "client"):
        (src / name).mkdir(parents=True)
        (src / name / "__init__.py").write_text("")
    (src / "exchange" / "ports.py").write_text("")
    (src / "api" / "wire.py").write_text("")
    source = "\n".join([
        "import json",
        "import httpx",
        "from kalshi_sandbox.exchange import ports",
        "from ..api import wire",
        "from . import other",
        "from kalshi_sandbox.domain.money import cost",
        "def later() -> None:",
        "    import kalshi_sandbox.client",
    ])
    problems = violations_of(source, "kalshi_sandbox.domain.thing", False, "domain/thing.py",
                             src)
    assert problems == [
        "domain/thing.py:2: kalshi_sandbox.domain.thing imports httpx; the domain layer may "
        "import the standard library and kalshi_sandbox.domain",
        "domain/thing.py:3: kalshi_sandbox.domain.thing imports kalshi_sandbox.exchange.ports; "
        "the domain layer may import the standard library and kalshi_sandbox.domain",
        "domain/thing.py:4: kalshi_sandbox.domain.thing imports kalshi_sandbox.api.wire; "
        "the domain layer may import the standard library and kalshi_sandbox.domain",
        "domain/thing.py:8: kalshi_sandbox.domain.thing imports kalshi_sandbox.client; "
        "the domain layer may import the standard library and kalshi_sandbox.domain",
    ]


@pytest.mark.parametrize(
    ("module", "source", "allowed"),
    [
        ("kalshi_sandbox.exchange.keys", "import cryptography.hazmat", True),
        ("kalshi_sandbox.exchange.engine", "import cryptography.hazmat", False),
        ("kalshi_sandbox.exchange.engine", "from kalshi_sandbox.storage import sqlite", False),
        ("kalshi_sandbox.exchange.engine",
         "from kalshi_sandbox.powers.faults.registry import FaultRegistry", False),
        ("kalshi_sandbox.exchange.engine", "from kalshi_sandbox.api.routes import TradeApi",
         False),
        ("kalshi_sandbox.storage.sql", "from kalshi_sandbox.exchange.ports import Store", True),
        ("kalshi_sandbox.storage.sql", "from kalshi_sandbox.exchange.engine import Exchange",
         False),
        ("kalshi_sandbox.powers.admin.routes", "from kalshi_sandbox.api.requests import Body",
         True),
        ("kalshi_sandbox.powers.admin.routes", "from kalshi_sandbox.storage import sqlite",
         False),
        ("kalshi_sandbox.powers.faults.cli", "from kalshi_sandbox.cli.options import fail",
         True),
        ("kalshi_sandbox.powers.faults.cli", "from kalshi_sandbox.cli import trade", False),
        ("kalshi_sandbox.powers.admin.cli", "import kalshi_sandbox.bootstrap", False),
        ("kalshi_sandbox.api.routes",
         "from kalshi_sandbox.powers.admin.routes import AdminApi", False),
        ("kalshi_sandbox.api.routes", "from kalshi_sandbox.storage.sqlite import SqliteStore",
         False),
        ("kalshi_sandbox.client.auth", "from kalshi_sandbox.domain.money import cost", False),
        ("kalshi_sandbox.client.auth", "import httpx", True),
        ("kalshi_sandbox.settings", "from kalshi_sandbox.domain import clock", False),
        ("kalshi_sandbox.bootstrap", "from kalshi_sandbox.storage.sqlite import SqliteStore",
         True),
        ("kalshi_sandbox.cli.serve", "import kalshi_sandbox.bootstrap", True),
        ("kalshi_sandbox.newlayer.thing", "import json", False),
        ("kalshi_sandbox.testing.plugin", "import pytest", True),
        ("kalshi_sandbox.testing.server", "from kalshi_sandbox.bootstrap import build", True),
        ("kalshi_sandbox.testing.server",
         "from kalshi_sandbox.api.ws.protocol import KalshiWebSocketProtocol", True),
        ("kalshi_sandbox.testing.sandbox", "from kalshi_sandbox.client import KalshiClient",
         True),
        ("kalshi_sandbox.testing.sandbox",
         "from kalshi_sandbox.powers.admin.service import Admin", False),
        ("kalshi_sandbox.testing.sandbox", "from kalshi_sandbox.api.routes import TradeApi",
         False),
        ("kalshi_sandbox.bootstrap", "from kalshi_sandbox.testing import plugin", False),
        ("kalshi_sandbox.cli.serve", "import kalshi_sandbox.testing.server", False),
        ("kalshi_sandbox.client.auth", "from kalshi_sandbox.testing import sandbox", False),
    ],
)
def test_layer_rules_allow_and_forbid_as_documented(module: str, source: str,
                                                    allowed: bool) -> None:
    problems = violations_of(source, module, False, "x.py")
    assert (problems == []) is allowed, problems


def test_relative_import_from_a_package_init_resolves_against_the_package() -> None:
    found = imported_modules("from .money import cost\nfrom .. import settings",
                             "kalshi_sandbox.domain", True)
    assert found == [(1, "kalshi_sandbox.domain.money"), (2, "kalshi_sandbox.settings")]


def test_package_public_surface_is_pinned() -> None:
    assert kalshi_sandbox.__all__ == ["__version__"]
    assert isinstance(kalshi_sandbox.__version__, str)


def test_client_public_surface_is_pinned() -> None:
    # The full list is pinned in tests/client/test_surface.py, next to the client's tests.
    from tests.client.test_surface import CLIENT_ALL

    assert sorted(kalshi_sandbox.client.__all__) == sorted(CLIENT_ALL)
    for name in kalshi_sandbox.client.__all__:
        assert hasattr(kalshi_sandbox.client, name), name
