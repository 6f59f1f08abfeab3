"""The README stays true to the code: its fixture example and every setting."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from kalshi_sandbox.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_shows_the_fixture_example_that_the_suite_runs() -> None:
    example = (ROOT / "examples" / "test_quickstart_fixture.py").read_text()
    assert f"```python\n{example}```" in README


def test_readme_documents_every_setting_as_an_environment_variable() -> None:
    table = [line for line in README.splitlines() if line.startswith("| `KALSHI_SANDBOX_")]
    documented = set()
    for line in table:
        first_cell = line.split("|")[1]
        # "`KALSHI_SANDBOX_HOST` / `_PORT`": a short name is the full one without the prefix.
        for part in first_cell.split("/"):
            name = part.strip(" `")
            documented.add(name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name[1:])
    missing = sorted(ENV_PREFIX + f.name.upper() for f in fields(Settings)
                     if ENV_PREFIX + f.name.upper() not in documented)
    assert missing == []


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README
    assert "make test" in README
