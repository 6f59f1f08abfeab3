"""Where the fixture's sandbox runs: in-process by default, or an external server by URL.

The external cases run pytest in a child process on a test file written here, against a real
``kalshi-sandbox serve`` process, so the plugin is loaded through its entry point exactly as
in a user's project.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.plugin.support import guarded_server, run_pytest
from tests.support.server import ServerProcess, running

USER_TEST = '''
    def test_trades_on_the_external_sandbox(kalshi_sandbox):
        sb = kalshi_sandbox
        assert sb.external and sb.server is None
        assert sb.base_url == "{url}"
        requester, maker = sb.client(sb.requester), sb.client(sb.maker)
        rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
        quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
        requester.accept_quote(rfq_id, quote_id, "yes")
        maker.confirm_quote(rfq_id, quote_id)
        sb.clock.advance(15)
        assert requester.get_quote(rfq_id, quote_id).status == "executed"
        sb.account("marker-{tag}")

    def test_next_test_finds_the_external_sandbox_wiped(kalshi_sandbox):
        names = [a["name"] for a in kalshi_sandbox.control("GET", "/accounts")["accounts"]]
        assert sorted(names) == ["maker", "requester"]
        assert list(kalshi_sandbox.client(kalshi_sandbox.requester).iter_rfqs()) == []
'''


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A ``kalshi-sandbox serve`` process with a manual clock and no demo seed."""
    yield from running(tmp_path_factory.mktemp("external"))


def account_names(server: ServerProcess) -> list[str]:
    answer = httpx.get(server.base_url + "/sandbox/v1/accounts")
    return sorted(a["name"] for a in answer.json()["accounts"])


def test_option_points_the_fixture_at_an_external_sandbox(
        external: ServerProcess, tmp_path: Path) -> None:
    outcome = run_pytest(tmp_path, {"test_bot.py": USER_TEST.format(
        url=external.base_url, tag="option")}, "--kalshi-sandbox-url", external.base_url,
        "--kalshi-sandbox-allow-reset")
    outcome.assert_outcomes(passed=2)
    # The external server holds what the last test left: the fixture never ran one itself.
    assert account_names(external) == ["maker", "requester"]


def test_variables_of_its_own_point_the_fixture_at_an_external_sandbox(
        external: ServerProcess, tmp_path: Path) -> None:
    files = {"test_bot.py": USER_TEST.format(url=external.base_url, tag="env")
             + "\n    def test_zzz_leaves_a_marker(kalshi_sandbox):\n"
               "        kalshi_sandbox.account('left-by-env')\n"}
    outcome = run_pytest(tmp_path, files, env={"KALSHI_SANDBOX_TEST_URL": external.base_url,
                                               "KALSHI_SANDBOX_TEST_ALLOW_RESET": "1"})
    outcome.assert_outcomes(passed=3)
    assert account_names(external) == ["left-by-env", "maker", "requester"]


def test_the_clis_variable_never_sends_tests_to_a_developers_sandbox(
        external: ServerProcess, tmp_path: Path) -> None:
    """KALSHI_SANDBOX_URL, exported for the CLI, leaves the fixture in-process: the sandbox
    it names keeps its accounts and keys."""
    keep = httpx.post(external.base_url + "/sandbox/v1/accounts", json={"name": "dev-keep"})
    assert keep.status_code == 201, keep.text
    before = httpx.get(external.base_url + "/sandbox/v1/accounts").json()["accounts"]
    files = {"test_bot.py": '''
        def test_runs_in_process(kalshi_sandbox):
            assert not kalshi_sandbox.external
            kalshi_sandbox.account("in-process-only")
    '''}
    outcome = run_pytest(tmp_path, files, env={"KALSHI_SANDBOX_URL": external.base_url,
                                               "KALSHI_SANDBOX_ADMIN_TOKEN": "unused"})
    outcome.assert_outcomes(passed=1)
    assert httpx.get(external.base_url + "/sandbox/v1/accounts").json()["accounts"] == before


def test_an_external_sandbox_is_never_reset_without_leave(
        external: ServerProcess, tmp_path: Path) -> None:
    keep = httpx.post(external.base_url + "/sandbox/v1/accounts", json={"name": "dev-data"})
    assert keep.status_code == 201, keep.text
    before = httpx.get(external.base_url + "/sandbox/v1/accounts").json()["accounts"]
    files = {"test_bot.py": f'''
        import pytest

        def test_by_option(kalshi_sandbox):
            pass

        @pytest.mark.kalshi_sandbox(url="{external.base_url}")
        def test_by_marker(kalshi_sandbox):
            pass

        @pytest.mark.kalshi_sandbox(url="{external.base_url}", allow_reset=False)
        def test_leave_withdrawn(kalshi_sandbox):
            pass
    '''}
    outcome = run_pytest(tmp_path, files, "--kalshi-sandbox-url", external.base_url)
    outcome.assert_outcomes(errors=3)
    assert "--kalshi-sandbox-allow-reset" in outcome.output
    assert "KALSHI_SANDBOX_TEST_ALLOW_RESET=1" in outcome.output
    # Withdrawing leave on the marker wins over the option and the variable.
    withdrawn = run_pytest(tmp_path, files, "--kalshi-sandbox-url", external.base_url,
                           "--kalshi-sandbox-allow-reset", "-k", "withdrawn",
                           env={"KALSHI_SANDBOX_TEST_ALLOW_RESET": "1"})
    withdrawn.assert_outcomes(errors=1)
    assert httpx.get(external.base_url + "/sandbox/v1/accounts").json()["accounts"] == before


def test_marker_url_points_one_test_at_an_external_sandbox(
        external: ServerProcess, tmp_path: Path) -> None:
    files = {"test_bot.py": f'''
        import pytest

        @pytest.mark.kalshi_sandbox(url="{external.base_url}", allow_reset=True)
        def test_external(kalshi_sandbox):
            assert kalshi_sandbox.external
            kalshi_sandbox.account("left-by-marker")

        def test_in_process(kalshi_sandbox):
            assert not kalshi_sandbox.external
            assert kalshi_sandbox.server.settings.clock == "manual"
    '''}
    outcome = run_pytest(tmp_path, files)
    outcome.assert_outcomes(passed=2)
    assert account_names(external) == ["left-by-marker", "maker", "requester"]


def test_settings_on_the_marker_are_refused_for_an_external_sandbox(
        external: ServerProcess, tmp_path: Path) -> None:
    files = {"test_bot.py": '''
        import pytest

        @pytest.mark.kalshi_sandbox(confirm_window=5)
        def test_windowed(kalshi_sandbox):
            pass
    '''}
    outcome = run_pytest(tmp_path, files, "--kalshi-sandbox-url", external.base_url,
                         "--kalshi-sandbox-allow-reset")
    outcome.assert_outcomes(errors=1)
    assert "confirm_window configure an in-process sandbox" in outcome.output


def test_admin_token_option_opens_a_guarded_sandbox(tmp_path: Path) -> None:
    token = "s3cret"
    with guarded_server(tmp_path / "guarded", token) as url:
        test = {"test_bot.py": USER_TEST.format(url=url, tag="token")}
        refused = run_pytest(tmp_path / "without", test, "--kalshi-sandbox-url", url,
                             "--kalshi-sandbox-allow-reset")
        refused.assert_outcomes(errors=2)
        assert "answered 401" in refused.output
        allowed = run_pytest(tmp_path / "with", test, "--kalshi-sandbox-url", url,
                             "--kalshi-sandbox-allow-reset",
                             env={"KALSHI_SANDBOX_TEST_ADMIN_TOKEN": token})
        allowed.assert_outcomes(passed=2)
        accounts = httpx.get(url + "/sandbox/v1/accounts",
                             headers={"Authorization": f"Bearer {token}"}).json()["accounts"]
        assert sorted(a["name"] for a in accounts) == ["maker", "requester"]


def test_unknown_marker_option_is_a_usage_error(tmp_path: Path) -> None:
    files = {"test_bot.py": '''
        import pytest

        @pytest.mark.kalshi_sandbox(confirm_windw=5)
        def test_typo(kalshi_sandbox):
            pass

        @pytest.mark.kalshi_sandbox(port=9000)
        def test_fixed(kalshi_sandbox):
            pass

        @pytest.mark.kalshi_sandbox("http://127.0.0.1:1")
        def test_positional(kalshi_sandbox):
            pass
    '''}
    outcome = run_pytest(tmp_path, files)
    outcome.assert_outcomes(errors=3)
    assert "unknown option(s) confirm_windw" in outcome.output
    assert "port is chosen by the fixture" in outcome.output
    assert "takes keyword arguments only" in outcome.output


def test_marker_is_registered_so_strict_markers_accept_it(tmp_path: Path) -> None:
    files = {"test_bot.py": '''
        from decimal import Decimal

        import pytest

        @pytest.mark.kalshi_sandbox(balance="7")
        def test_balance(kalshi_sandbox):
            client = kalshi_sandbox.client(kalshi_sandbox.requester)
            assert client.get_balance().balance == Decimal("7")
    '''}
    outcome = run_pytest(tmp_path, files, "--strict-markers")
    outcome.assert_outcomes(passed=1)
    help_text = run_pytest(tmp_path, {}, "--help").output
    assert "--kalshi-sandbox-url=URL" in help_text
    assert "--kalshi-sandbox-allow-reset" in help_text
    assert "--kalshi-sandbox-admin-token=TOKEN" in help_text
