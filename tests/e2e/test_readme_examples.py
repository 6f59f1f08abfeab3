"""A newcomer's path, as the README writes it: ``make run`` on a port other than the default,
then every command of the README's "In another terminal" block and both SDK snippets, run as
written (only the environment the banner tells them to export added)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
TS_MODULES = ROOT / "tests" / "conformance" / "ts" / "node_modules"


def block(language: str, containing: str) -> str:
    """Return the README's fenced block of ``language`` that contains ``containing``."""
    for found in re.findall(rf"```{language}\n(.*?)```", README, re.S):
        if containing in found:
            return str(found)
    raise AssertionError(f"no {language} block with {containing!r} in the README")


def terminal_commands() -> list[str]:
    """The commands of the README's "In another terminal" block, comments left out."""
    text = README.split("In another terminal:", 1)[1]
    commands = re.search(r"```sh\n(.*?)```", text, re.S)
    assert commands is not None
    return [line.split("  #", 1)[0].strip() for line in commands.group(1).splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """``PORT=<free> make run`` from the repository, its data directory out of the way."""
    data = tmp_path_factory.mktemp("made")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "KALSHI_SANDBOX_DATA_DIR": str(data / "state"),
           "KALSHI_SANDBOX_EXECUTION_DELAY": "1", "MAKEFLAGS": "", "MAKELEVEL": ""}
    log = (data / "make.log").open("w")
    process = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # the first `make run` installs
        while time.monotonic() < deadline:
            assert process.poll() is None, (data / "make.log").read_text()
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError((data / "make.log").read_text())
        banner = ""
        while "Try it" not in banner or "examples/quickstart.py" not in banner:
            time.sleep(0.1)
            banner = (data / "make.log").read_text()
        # The banner carries the port into what it tells the user to run.
        exported = re.search(r"export (KALSHI_SANDBOX_URL=\S+)(.*)", banner)
        assert exported is not None, banner
        assert exported.group(1) == f"KALSHI_SANDBOX_URL={url}"
        assert f"dashboard  {url}/" in banner
        assert f"API docs   {url}/docs" in banner
        told = dict(part.split("=", 1) for part in exported.group(0).split()[1:])
        yield url, {**os.environ, **told}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_readme_terminal_commands_run_as_written_on_another_port(
        made: tuple[str, dict[str, str]]) -> None:
    _, env = made
    commands = terminal_commands()
    assert any("quickstart.py" in c for c in commands)
    for command in commands:
        argv = shlex.split(command)
        assert argv[0].startswith(".venv/bin/"), command
        argv[0] = str(BIN / argv[0].removeprefix(".venv/bin/"))
        if "watch" in argv:
            # Streams until Ctrl-C: it must connect and subscribe.
            watch = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            try:
                assert watch.stdout is not None
                assert "subscribed to communications" in watch.stdout.readline()
            finally:
                watch.kill()
                watch.communicate()
            continue
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, command
        if "quickstart.py" in command:
            assert "quote executed" in done.stdout
        if argv[1:3] == ["rfq", "create"]:
            assert re.fullmatch(r"[0-9a-f-]{36}\n", done.stdout), done.stdout  # the id


def test_readme_python_sdk_snippet_runs_as_written(made: tuple[str, dict[str, str]],
                                                    tmp_path: Path) -> None:
    _, env = made
    script = tmp_path / "snippet.py"
    script.write_text(block("python", "kalshi_python_sync"))
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(r"quote [0-9a-f-]{36} confirmed\n", done.stdout), done.stdout


def test_readme_typescript_snippet_runs_as_written(made: tuple[str, dict[str, str]],
                                                    tmp_path: Path) -> None:
    _, env = made
    if not (TS_MODULES / "kalshi-typescript").is_dir():
        pytest.fail("needs the pinned npm packages: run `make test` (npm ci in "
                    "tests/conformance/ts)")
    script = tmp_path / "snippet.js"
    script.write_text(block("js", "kalshi-typescript"))
    done = subprocess.run(["node", str(script)], cwd=ROOT,
                          env={**env, "NODE_PATH": str(TS_MODULES)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(r"\d+ RFQs\n", done.stdout), done.stdout
