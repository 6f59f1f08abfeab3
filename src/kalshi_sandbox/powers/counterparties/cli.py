"""``kalshi-sandbox bots``: built-in auto-makers and auto-requesters of a running sandbox."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kalshi_sandbox.cli.options import (
    DEFAULT_URL,
    JsonOption,
    TokenOption,
    UrlOption,
    control_call,
    print_result,
)

bots_app = typer.Typer(
    help="Built-in counterparties: auto-makers that quote and confirm, auto-requesters that "
         "send RFQs and accept quotes (control plane).",
    no_args_is_help=True,
)

MarketsOption = Annotated[list[str] | None, typer.Option(
    "--market", help="A market ticker; repeat for several (default: every market).")]
BalanceOption = Annotated[str | None, typer.Option(
    "--balance", help="Starting balance of the counterparty's account, in dollars "
                      "(default 100000).")]
SeedOption = Annotated[int | None, typer.Option(
    "--seed", help="Seed of its random draws, for reproducible runs.")]


def _given(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


@bots_app.command("add-maker")
def add_maker(
    name: Annotated[str, typer.Argument(help="A unique name for the maker.")],
    markets: MarketsOption = None,
    quote_delay: Annotated[float | None, typer.Option(
        "--quote-delay", help="Seconds from an RFQ to the maker's quote (default 1).")] = None,
    fair_price: Annotated[str | None, typer.Option(
        "--fair-price", help="The YES price it believes, e.g. 0.55 (default: the market's last "
                             "price, else 0.50).")] = None,
    spread: Annotated[str | None, typer.Option(
        "--spread", help="yes_bid + no_bid stays at most 1 - spread (default 0.04).")] = None,
    confirm: Annotated[str, typer.Option(
        "--confirm", help="Confirm policy: always, never, probability or late.")] = "always",
    confirm_delay: Annotated[float | None, typer.Option(
        "--confirm-delay", help="Seconds from acceptance to the confirm (default 1).")] = None,
    probability: Annotated[float | None, typer.Option(
        "--probability", help="Chance of confirming, with --confirm probability.")] = None,
    late_by: Annotated[float | None, typer.Option(
        "--late-by", help="Seconds after the window closes that a late confirm arrives "
                          "(default 1).")] = None,
    balance: BalanceOption = None,
    seed: SeedOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Start an auto-maker that quotes RFQs and confirms by its policy."""
    body = _given(name=name, markets=markets or None, quote_delay=quote_delay,
                  fair_price=fair_price, spread=spread,
                  confirm=_given(policy=confirm, delay=confirm_delay, probability=probability,
                                 late_by=late_by),
                  balance_dollars=balance, seed=seed)
    print_result(control_call(url, token, "POST", "/counterparties/makers", body), as_json)


@bots_app.command("add-requester")
def add_requester(
    name: Annotated[str, typer.Argument(help="A unique name for the requester.")],
    markets: MarketsOption = None,
    contracts: Annotated[str | None, typer.Option(
        "--contracts", help="Contracts per RFQ (default 10).")] = None,
    interval: Annotated[float | None, typer.Option(
        "--interval", help="Seconds between its RFQs (default: only on demand, see "
                           "'bots rfq').")] = None,
    accept_delay: Annotated[float | None, typer.Option(
        "--accept-delay", help="Seconds from the first quote to its decision (default 1).")
    ] = None,
    accept_side: Annotated[str | None, typer.Option(
        "--accept-side", help="best (cheapest side and quote), yes or no.")] = None,
    delete_probability: Annotated[float | None, typer.Option(
        "--delete-probability", help="Chance of deleting the RFQ instead of accepting.")
    ] = None,
    balance: BalanceOption = None,
    seed: SeedOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Start an auto-requester that sends RFQs and accepts the best quote."""
    body = _given(name=name, markets=markets or None, contracts=contracts, interval=interval,
                  accept=_given(delay=accept_delay, side=accept_side) or None,
                  delete_probability=delete_probability, balance_dollars=balance, seed=seed)
    print_result(control_call(url, token, "POST", "/counterparties/requesters", body), as_json)


@bots_app.command("list")
def list_bots(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
              as_json: JsonOption = False) -> None:
    """List the counterparties with their configuration and recent activity."""
    print_result(control_call(url, token, "GET", "/counterparties"), as_json)


@bots_app.command("rfq")
def rfq(
    name: Annotated[str, typer.Argument(help="The auto-requester.")],
    market: Annotated[str | None, typer.Option(
        "--market", help="Market ticker (default: its next market without an open RFQ).")
    ] = None,
    contracts: Annotated[str | None, typer.Option(
        "--contracts", help="Contracts (default: the requester's).")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Have an auto-requester create an RFQ now."""
    body = _given(market=market, contracts=contracts)
    print_result(control_call(url, token, "POST", f"/counterparties/requesters/{name}/rfqs",
                              body), as_json)


@bots_app.command("pause")
def pause(name: Annotated[str, typer.Argument(help="The counterparty.")],
          url: UrlOption = DEFAULT_URL, token: TokenOption = "",
          as_json: JsonOption = False) -> None:
    """Stop a counterparty from acting, keeping its configuration."""
    print_result(control_call(url, token, "PATCH", f"/counterparties/{name}",
                              {"active": False}), as_json)


@bots_app.command("resume")
def resume(name: Annotated[str, typer.Argument(help="The counterparty.")],
           url: UrlOption = DEFAULT_URL, token: TokenOption = "",
           as_json: JsonOption = False) -> None:
    """Let a paused counterparty act again."""
    print_result(control_call(url, token, "PATCH", f"/counterparties/{name}",
                              {"active": True}), as_json)


@bots_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The counterparty.")],
           url: UrlOption = DEFAULT_URL, token: TokenOption = "",
           as_json: JsonOption = False) -> None:
    """Stop and forget a counterparty (its account and trades stay)."""
    control_call(url, token, "DELETE", f"/counterparties/{name}")
    print_result({"removed": name}, as_json)


__all__ = ["bots_app"]
