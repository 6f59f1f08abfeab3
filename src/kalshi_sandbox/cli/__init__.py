"""The ``kalshi-sandbox`` command: run the server, administer it, and trade against it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kalshi-sandbox",
    help="A self-hostable emulator of Kalshi's Trade API v2 RFQ system.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
account_app = typer.Typer(help="Create and list sandbox accounts (control plane).",
                          no_args_is_help=True)
market_app = typer.Typer(help="Markets: create them in the sandbox, or read them.",
                         no_args_is_help=True)
clock_app = typer.Typer(help="Read or move the sandbox clock (control plane).",
                        no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(market_app, name="market")
app.add_typer(clock_app, name="clock")

from kalshi_sandbox.cli import admin as _admin  # noqa: E402  (registers commands)
from kalshi_sandbox.cli import bots as _bots  # noqa: E402, F401  (registers commands)
from kalshi_sandbox.cli import faults as _faults  # noqa: E402, F401  (registers commands)
from kalshi_sandbox.cli import state as _state  # noqa: E402, F401  (registers commands)
from kalshi_sandbox.cli import trade as _trade  # noqa: E402  (registers commands)

__all__ = ["app", "main"]
_ = _admin, _trade


def main() -> None:
    """Run the command line."""
    app()
