"""What every control-plane sub-command shares: its options, its client and its output.

Each tester power defines its own sub-command (``powers/<power>/cli.py``) from these; the
``kalshi-sandbox`` entry point (cli/__init__.py) mounts them. This module imports only the
client and the command-line libraries, so a power's command depends on nothing of the server.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from kalshi_sandbox.client.control import ControlPlane, ControlPlaneError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DEFAULT_URL = "http://127.0.0.1:8000"
UrlOption = Annotated[str, typer.Option(
    "--url", envvar="KALSHI_SANDBOX_URL", help="Base URL of the running sandbox.")]
TokenOption = Annotated[str, typer.Option(
    "--admin-token", envvar="KALSHI_SANDBOX_ADMIN_TOKEN",
    help="Control-plane token, if the server requires one.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def fail(error: ControlPlaneError) -> typer.Exit:
    """Print a refused or failed control-plane request; return the exit to raise."""
    if error.status == 0:
        err_console.print(f"[red]error:[/red] {error.body}")
    else:
        err_console.print(f"[red]error {error.status}:[/red] {json.dumps(error.error)}")
    return typer.Exit(1)


def control_call(url: str, token: str, method: str, path: str, body: Any = None, *,
                 timeout: float = 30.0) -> Any:
    """Send one control-plane request; print the error and exit 1 if it fails."""
    with ControlPlane(url, token, timeout) as control:
        try:
            result = control.call(method, path, body)
        except ControlPlaneError as error:
            raise fail(error) from None
    return {} if result is None else result


def print_result(data: Any, as_json: bool) -> None:
    """Print a command's result: indented JSON with ``--json``, highlighted JSON otherwise."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        console.print_json(json.dumps(data))


__all__ = [
    "DEFAULT_URL",
    "JsonOption",
    "TokenOption",
    "UrlOption",
    "console",
    "control_call",
    "err_console",
    "fail",
    "print_result",
]
