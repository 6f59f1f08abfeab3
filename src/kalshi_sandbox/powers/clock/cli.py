"""The clock power's sub-command: ``clock show`` and ``clock advance``."""

from __future__ import annotations

from typing import Annotated

import typer

from kalshi_sandbox.cli.options import (
    DEFAULT_URL,
    JsonOption,
    TokenOption,
    UrlOption,
    control_call,
    print_result,
)

clock_app = typer.Typer(help="Read or move the sandbox clock (control plane).",
                        no_args_is_help=True)


@clock_app.command("show")
def clock_show(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
               as_json: JsonOption = False) -> None:
    """Show the sandbox clock and the next timer."""
    print_result(control_call(url, token, "GET", "/clock"), as_json)


@clock_app.command("advance")
def clock_advance(
    seconds: Annotated[float, typer.Argument(help="How far to move a manual clock.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Advance a manual clock, firing every timer that falls due."""
    print_result(control_call(url, token, "POST", "/clock/advance", {"seconds": seconds}), as_json)


__all__ = ["clock_app"]
