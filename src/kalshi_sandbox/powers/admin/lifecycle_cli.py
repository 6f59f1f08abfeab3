"""Sub-commands of a market's life: ``market open|pause|close|determine|settle`` and
``exchange maintenance``, each one control-plane call (powers/admin/lifecycle.py)."""

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

Ticker = Annotated[str, typer.Argument(help="Market ticker.")]
Result = Annotated[str | None, typer.Option(
    "--result", help="The market's result: yes, no or scalar.")]
Value = Annotated[str | None, typer.Option(
    "--value", help="A scalar result's YES payout in dollars, e.g. 0.25.")]


def _result_body(result: str | None, value: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result is not None:
        body["result"] = result
    if value is not None:
        body["settlement_value_dollars"] = value
    return body


def market_open(ticker: Ticker, close_time: Annotated[str | None, typer.Option(
        "--close-time", help="A new close time (RFC 3339).")] = None,
                url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                as_json: JsonOption = False) -> None:
    """Open a market (or reopen a closed or paused one)."""
    body = {} if close_time is None else {"close_time": close_time}
    print_result(control_call(url, token, "POST", f"/markets/{ticker}/open", body), as_json)


def market_pause(ticker: Ticker, url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                 as_json: JsonOption = False) -> None:
    """Pause (deactivate) an open market."""
    print_result(control_call(url, token, "POST", f"/markets/{ticker}/pause", {}), as_json)


def market_close(ticker: Ticker, url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                 as_json: JsonOption = False) -> None:
    """Close a market now: resting orders are cancelled, open RFQs closed."""
    print_result(control_call(url, token, "POST", f"/markets/{ticker}/close", {}), as_json)


def market_determine(ticker: Ticker, result: Result = None, value: Value = None,
                     url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                     as_json: JsonOption = False) -> None:
    """Record a market's result; it settles when its settlement timer runs out."""
    print_result(control_call(url, token, "POST", f"/markets/{ticker}/determine",
                              _result_body(result, value)), as_json)


def market_settle(ticker: Ticker, result: Result = None, value: Value = None,
                  url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                  as_json: JsonOption = False) -> None:
    """Settle a market now (closing and determining it first): pay out every position."""
    print_result(control_call(url, token, "POST", f"/markets/{ticker}/settle",
                              _result_body(result, value)), as_json)


exchange_app = typer.Typer(help="The exchange's schedule: maintenance windows (control plane).",
                           no_args_is_help=True)


@exchange_app.command("maintenance")
def maintenance(
    minutes: Annotated[int | None, typer.Option(help="Length of a window starting now.")] = None,
    start: Annotated[str | None, typer.Option(help="Start (RFC 3339); default now.")] = None,
    end: Annotated[str | None, typer.Option(help="End (RFC 3339).")] = None,
    kind: Annotated[str, typer.Option(
        help="trading (cancels allowed) or exchange (nothing changes).")] = "trading",
    clear: Annotated[bool, typer.Option("--clear", help="Remove every window.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Add a maintenance window (or list them, or --clear them)."""
    path = "/exchange/maintenance"
    if clear:
        print_result(control_call(url, token, "DELETE", path), as_json)
        return
    if minutes is None and end is None:
        print_result(control_call(url, token, "GET", path), as_json)
        return
    body: dict[str, Any] = {"kind": kind}
    for name, value in (("minutes", minutes), ("start", start), ("end", end)):
        if value is not None:
            body[name] = value
    print_result(control_call(url, token, "POST", path, body), as_json)


__all__ = ["exchange_app", "market_close", "market_determine", "market_open", "market_pause",
           "market_settle"]
