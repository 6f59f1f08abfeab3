"""The admin power's sub-commands: ``account``, ``market create`` and ``reset``."""

from __future__ import annotations

import os
from pathlib import Path
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

account_app = typer.Typer(help="Create and list sandbox accounts (control plane).",
                          no_args_is_help=True)


@account_app.command("create")
def account_create(
    name: Annotated[str, typer.Argument(help="A name for the account.")],
    balance: Annotated[str, typer.Option("--balance", help="Balance in dollars.")] = "0",
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Register this PEM public key instead of generating a key pair.",
        exists=True, dir_okay=False)] = None,
    save_key: Annotated[Path | None, typer.Option(
        "--save-key", help="Write the generated private key to this file.")] = None,
    usage_tier: Annotated[str | None, typer.Option(
        "--usage-tier", help="Rate-limit tier (basic ... prestige); default: the server's.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Create an account with an API key; print its key id (and private key)."""
    body: dict[str, Any] = {"name": name, "balance_dollars": balance}
    if public_key is not None:
        body["public_key_pem"] = public_key.read_text()
    if usage_tier is not None:
        body["usage_tier"] = usage_tier
    data = control_call(url, token, "POST", "/accounts", body)
    if save_key is not None and "private_key_pem" in data:
        save_key.write_text(data["private_key_pem"])
        os.chmod(save_key, 0o600)
        data = {k: v for k, v in data.items() if k != "private_key_pem"}
        data["private_key_path"] = str(save_key)
    print_result(data, as_json)


@account_app.command("list")
def account_list(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                 as_json: JsonOption = False) -> None:
    """List accounts with their key ids and balances."""
    print_result(control_call(url, token, "GET", "/accounts"), as_json)


@account_app.command("limits")
def account_limits(
    user_id: Annotated[str, typer.Argument(help="The account's user id.")],
    usage_tier: Annotated[str | None, typer.Option(
        "--usage-tier", help="Give the account this tier (basic, advanced, expert, premier, "
        "paragon, prime, prestige); its buckets start full.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Show an account's rate limits and the tokens it holds, or change its tier."""
    if usage_tier is None:
        print_result(control_call(url, token, "GET", f"/accounts/{user_id}/limits"), as_json)
    else:
        print_result(control_call(url, token, "PUT", f"/accounts/{user_id}/limits",
                     {"usage_tier": usage_tier}), as_json)


def market_create(
    ticker: Annotated[str, typer.Argument(help="Market ticker, e.g. KXDEMO-26DEC31-T50.")],
    title: Annotated[str | None, typer.Option(help="Market title.")] = None,
    hvm: Annotated[bool | None, typer.Option(
        "--hvm/--no-hvm", help="High-volatility market (3 s / 1 s windows).")] = None,
    status: Annotated[str, typer.Option(help="Market status.")] = "active",
    structure: Annotated[str, typer.Option(
        "--price-level-structure", help="Price grid, e.g. linear_cent or deci_cent.")
    ] = "linear_cent",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Create a market in the sandbox."""
    body: dict[str, Any] = {"ticker": ticker, "status": status,
                            "price_level_structure": structure}
    if title is not None:
        body["title"] = title
    if hvm is not None:
        body["hvm"] = hvm
    print_result(control_call(url, token, "POST", "/markets", body), as_json)


def reset(
    seed: Annotated[bool, typer.Option("--seed/--no-seed",
                                       help="Seed the demo data again.")] = True,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Delete all state in a running sandbox (and seed the demo again)."""
    print_result(control_call(url, token, "POST", "/reset", {"seed": seed}), as_json)


__all__ = ["account_app", "market_create", "reset"]
