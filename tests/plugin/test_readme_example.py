"""The fixture example the README shows (examples/test_quickstart_fixture.py) passes as is."""

from __future__ import annotations

from pathlib import Path

from tests.plugin.support import run_pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "test_quickstart_fixture.py"


def test_readme_fixture_example_is_ten_lines() -> None:
    lines = EXAMPLE.read_text().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("def test_")
    assert "import" not in EXAMPLE.read_text()  # the fixture alone, no set-up code


def test_readme_fixture_example_passes_under_pytest(tmp_path: Path) -> None:
    outcome = run_pytest(tmp_path, {"test_quickstart_fixture.py": EXAMPLE.read_text()},
                         "--strict-markers")
    outcome.assert_outcomes(passed=1)
