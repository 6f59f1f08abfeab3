"""The ``kalshi-sandbox`` command: run the server, trade against it, and use the tester's powers.

``serve`` runs the sandbox (cli/serve.py); ``rfq``, ``quote``, ``order``, ``market``,
``portfolio`` and ``watch`` trade against it, or against Kalshi (cli/trade.py, cli/orders.py);
each tester power brings its own sub-command (``powers/<power>/cli.py``): ``account``,
``market create`` and ``reset``; ``clock``; ``bots``; ``liquidity``; ``faults``; ``snapshot``
and ``journal``.
"""

from __future__ import annotations

from typing import Annotated

import typer

import kalshi_sandbox
from kalshi_sandbox.cli import orders, trade, watch
from kalshi_sandbox.cli import serve as _serve
from kalshi_sandbox.powers.admin import cli as admin
from kalshi_sandbox.powers.admin import lifecycle_cli
from kalshi_sandbox.powers.clock.cli import clock_app
from kalshi_sandbox.powers.counterparties.cli import bots_app
from kalshi_sandbox.powers.faults.cli import faults_app
from kalshi_sandbox.powers.liquidity.cli import liquidity_app
from kalshi_sandbox.powers.state.cli import journal_app, snapshot_app

app = typer.Typer(
    name="kalshi-sandbox",
    help="A self-hostable emulator of Kalshi's Trade API v2 RFQ system.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kalshi-sandbox {kalshi_sandbox.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", callback=_version,
        is_eager=True)] = False) -> None:
    """A self-hostable emulator of Kalshi's Trade API v2 RFQ system."""


market_app = typer.Typer(help="Markets: create them in the sandbox, or read them.",
                         no_args_is_help=True)
market_app.command("create")(admin.market_create)
market_app.command("list")(trade.market_list)
market_app.command("get")(trade.market_get)
market_app.command("book")(orders.market_book)
market_app.command("trades")(orders.market_trades)
market_app.command("open")(lifecycle_cli.market_open)
market_app.command("pause")(lifecycle_cli.market_pause)
market_app.command("close")(lifecycle_cli.market_close)
market_app.command("determine")(lifecycle_cli.market_determine)
market_app.command("settle")(lifecycle_cli.market_settle)

app.command()(_serve.serve)
app.add_typer(admin.account_app, name="account")
app.add_typer(market_app, name="market")
app.add_typer(clock_app, name="clock")
app.add_typer(lifecycle_cli.exchange_app, name="exchange")
app.command()(admin.reset)
app.add_typer(trade.rfq_app, name="rfq")
app.add_typer(trade.quote_app, name="quote")
app.add_typer(orders.order_app, name="order")
app.add_typer(trade.portfolio_app, name="portfolio")
app.command()(watch.watch)
app.add_typer(bots_app, name="bots")
app.add_typer(liquidity_app, name="liquidity")
app.add_typer(faults_app, name="faults")
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(journal_app, name="journal")


def main() -> None:
    """Run the command line."""
    app()


__all__ = ["app", "main"]
