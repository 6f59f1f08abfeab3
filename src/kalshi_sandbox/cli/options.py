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
from rich.table import Table

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
    """Print a command's result: tables on a terminal, indented JSON with ``--json`` or when
    the output goes to a pipe or a file (what a script reads)."""
    if as_json or not console.is_terminal:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    for renderable in human(data):
        console.print(renderable)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value) or "-"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def human(data: Any, title: str | None = None) -> list[Table | str]:
    """Lay out a control-plane answer for a person: a list of objects as a table (one row
    each), an object as name/value rows, its lists of objects as tables of their own."""
    if isinstance(data, list):
        if not data:
            return [f"{title}: none" if title else "none"]
        if all(isinstance(item, dict) for item in data):
            columns = list(dict.fromkeys(k for item in data for k, v in item.items()
                                         if not isinstance(v, dict | list) or k == "markets"))
            table = Table(title=title, title_justify="left", header_style="bold")
            for column in columns:
                table.add_column(column, overflow="fold")
            for item in data:
                table.add_row(*(_cell(item.get(c)) for c in columns))
            return [table]
        return [f"{title}: {_cell(data)}" if title else _cell(data)]
    if not isinstance(data, dict):
        return [_cell(data)]
    details = Table(title=title, title_justify="left", show_header=False, box=None)
    details.add_column(style="bold")
    details.add_column(overflow="fold")
    more: list[Table | str] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            more += human(value, key)
        elif isinstance(value, list) and not value and len(data) == 1:
            more.append(f"{key}: none")
        else:
            details.add_row(key, _cell(value))
    return ([details] if details.row_count else []) + more


__all__ = [
    "DEFAULT_URL",
    "JsonOption",
    "TokenOption",
    "UrlOption",
    "console",
    "control_call",
    "err_console",
    "fail",
    "human",
    "print_result",
]
