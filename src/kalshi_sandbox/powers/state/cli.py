"""``kalshi-sandbox snapshot save|restore`` and ``kalshi-sandbox journal export|replay``.

Files are read and written on this side: the commands move snapshots and journals between
this machine and a running sandbox through its control plane.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from kalshi_sandbox.cli.options import (
    DEFAULT_URL,
    JsonOption,
    TokenOption,
    UrlOption,
    err_console,
    fail,
    print_result,
)
from kalshi_sandbox.client.control import ControlPlane, ControlPlaneError, refused

snapshot_app = typer.Typer(help="Save the whole sandbox state to a file, or restore it "
                                "(control plane).", no_args_is_help=True)
journal_app = typer.Typer(help="Export the journal of every request, timer and event as JSON "
                               "Lines, or replay one into a fresh sandbox (control plane).",
                          no_args_is_help=True)

TIMEOUT = 600.0
"""Seconds to wait: a replay of a long journal takes a while."""


def _send(url: str, token: str, method: str, path: str, *, content: bytes | None = None,
          body: Any = None, params: dict[str, str] | None = None) -> httpx.Response:
    with ControlPlane(url, token, TIMEOUT) as control:
        try:
            response = control.send(method, path, body, params=params, content=content,
                                    content_type="application/json" if content is not None
                                    else None)
            refused(method, path, response)
        except ControlPlaneError as error:
            raise fail(error) from None
    return response


def _write(target: Path, data: bytes) -> None:
    if str(target) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def _read(source: Path) -> bytes:
    if str(source) == "-":
        return sys.stdin.buffer.read()
    try:
        return source.read_bytes()
    except OSError as exc:
        err_console.print(f"[red]error:[/red] cannot read {source}: {exc.strerror or exc}")
        raise typer.Exit(1) from None


FileArgument = Annotated[Path, typer.Argument(help="The file ('-' for standard input/output).")]


@snapshot_app.command("save")
def snapshot_save(file: FileArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                  as_json: JsonOption = False) -> None:
    """Write a snapshot of the whole sandbox state to FILE."""
    response = _send(url, token, "POST", "/snapshots", body={})
    _write(file, response.content)
    if str(file) != "-":
        snapshot = response.json()
        tables = snapshot.get("tables", {})
        print_result({"path": str(file), "instant": snapshot.get("instant"),
                "rows": {name: len(rows) for name, rows in tables.items()}}, as_json)


@snapshot_app.command("restore")
def snapshot_restore(file: FileArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                     as_json: JsonOption = False) -> None:
    """Put the sandbox back in the state saved in FILE (a manual clock goes back too)."""
    response = _send(url, token, "POST", "/snapshots/restore", content=_read(file))
    print_result(response.json(), as_json)


@journal_app.command("export")
def journal_export(
    file: FileArgument,
    after: Annotated[int, typer.Option("--after", help="Leave out entries up to this seq.")]
    = 0,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Write the journal to FILE as JSON Lines, one entry per line."""
    response = _send(url, token, "GET", "/journal",
                     params={"after": str(after)} if after else None)
    _write(file, response.content)
    if str(file) != "-":
        lines = response.content.count(b"\n")
        print_result({"path": str(file), "entries": lines}, as_json)


@journal_app.command("replay")
def journal_replay(file: FileArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                   as_json: JsonOption = False) -> None:
    """Rebuild the state of the journal in FILE in a fresh sandbox (reset it first).

    Exits with status 1 if any replayed request got another status than the journal's, or
    the replay had to make up identifiers the journal did not hold.
    """
    response = _send(url, token, "POST", "/journal/replay", content=_read(file))
    result = response.json()
    print_result(result, as_json)
    if result.get("mismatches") or result.get("made_up"):
        err_console.print("[yellow]warning:[/yellow] the replayed state may differ from the "
                          "journal's (see mismatches and made_up)")
        raise typer.Exit(1)


__all__ = ["journal_app", "snapshot_app"]
