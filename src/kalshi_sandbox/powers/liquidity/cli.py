"""``kalshi-sandbox liquidity``: built-in market makers of a running sandbox."""

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

liquidity_app = typer.Typer(
    help="Built-in market makers keeping a two-sided book around a moving fair value "
         "(control plane).",
    no_args_is_help=True,
)

FairOption = Annotated[str | None, typer.Option(
    "--fair-value", help="Fair value (YES price), e.g. 0.55 (default: the market's last price, "
                         "else 0.50).")]
SpreadOption = Annotated[str | None, typer.Option(
    "--spread", help="Best ask minus best bid, e.g. 0.04 (default 0.04).")]
DepthOption = Annotated[int | None, typer.Option(
    "--depth", help="Orders on each side (default 3).")]
SizeOption = Annotated[str | None, typer.Option(
    "--size", help="Contracts per order (default 10).")]
StepOption = Annotated[str | None, typer.Option(
    "--step", help="Price gap between a side's orders (default 0.01).")]
VolatilityOption = Annotated[str | None, typer.Option(
    "--volatility", help="Standard deviation of the fair value's move per requote "
                         "(default 0.005; 0 keeps it still).")]


def _given(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def parse_path_option(text: str) -> list[list[Any]]:
    """Read ``--path "0:0.50,10:0.60"`` as ``[[0, "0.50"], [10, "0.60"]]``."""
    points: list[list[Any]] = []
    for part in text.split(","):
        seconds, sep, price = part.strip().partition(":")
        if not sep:
            raise typer.BadParameter("write the path as SECONDS:PRICE,SECONDS:PRICE,...")
        points.append([seconds.strip(), price.strip()])
    return points


@liquidity_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique name for the maker.")],
    markets: Annotated[list[str] | None, typer.Option(
        "--market", help="A market ticker; repeat for several (default: every open market).")
    ] = None,
    fair_value: FairOption = None, spread: SpreadOption = None, depth: DepthOption = None,
    size: SizeOption = None, step: StepOption = None, volatility: VolatilityOption = None,
    interval: Annotated[float | None, typer.Option(
        "--interval", help="Seconds of sandbox time between requotes (default 1).")] = None,
    post_only: Annotated[bool, typer.Option(
        "--post-only/--no-post-only", help="Leave out a level that would take liquidity "
                                           "(default) or let it trade.")] = True,
    balance: Annotated[str | None, typer.Option(
        "--balance", help="Starting balance of its account, in dollars (default 1000000).")
    ] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seed of the random walk, for reproducible runs.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Start a market maker on some markets (or every open one); it quotes at once."""
    body = _given(name=name, markets=markets or None, fair_value=fair_value, spread=spread,
                  depth=depth, size=size, step=step, volatility=volatility, interval=interval,
                  post_only=post_only, balance_dollars=balance, seed=seed)
    print_result(control_call(url, token, "POST", "/liquidity", body), as_json)


@liquidity_app.command("list")
def list_makers(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                as_json: JsonOption = False) -> None:
    """List the makers with their configuration, fair values and recent activity."""
    print_result(control_call(url, token, "GET", "/liquidity"), as_json)


@liquidity_app.command("set")
def set_market(
    name: Annotated[str, typer.Argument(help="The maker.")],
    ticker: Annotated[str, typer.Argument(help="One of its markets.")],
    fair_value: FairOption = None,
    path: Annotated[str | None, typer.Option(
        "--path", help="Follow a path: SECONDS:PRICE,... seconds from now, e.g. "
                       "0:0.50,30:0.60,60:0.55.")] = None,
    spread: SpreadOption = None, depth: DepthOption = None, size: SizeOption = None,
    step: StepOption = None, volatility: VolatilityOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Move a market's fair value now, set a path for it, or give it its own parameters."""
    body = _given(fair_value=fair_value, spread=spread, depth=depth, size=size, step=step,
                  volatility=volatility,
                  path=None if path is None else parse_path_option(path))
    print_result(control_call(url, token, "PUT", f"/liquidity/{name}/markets/{ticker}", body),
                 as_json)


@liquidity_app.command("requote")
def requote(name: Annotated[str | None, typer.Argument(help="The maker (default: all).")
                            ] = None,
            url: UrlOption = DEFAULT_URL, token: TokenOption = "",
            as_json: JsonOption = False) -> None:
    """Quote now, without waiting for the next requote."""
    path = "/liquidity/requote" if name is None else f"/liquidity/{name}/requote"
    control_call(url, token, "POST", path, {})
    print_result({"requoted": name or "all"}, as_json)


@liquidity_app.command("pause")
def pause(name: Annotated[str, typer.Argument(help="The maker.")],
          url: UrlOption = DEFAULT_URL, token: TokenOption = "",
          as_json: JsonOption = False) -> None:
    """Withdraw a maker's orders and stop it quoting, keeping its configuration."""
    print_result(control_call(url, token, "PATCH", f"/liquidity/{name}", {"active": False}),
                 as_json)


@liquidity_app.command("resume")
def resume(name: Annotated[str, typer.Argument(help="The maker.")],
           url: UrlOption = DEFAULT_URL, token: TokenOption = "",
           as_json: JsonOption = False) -> None:
    """Let a paused maker quote again."""
    print_result(control_call(url, token, "PATCH", f"/liquidity/{name}", {"active": True}),
                 as_json)


@liquidity_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The maker.")],
           url: UrlOption = DEFAULT_URL, token: TokenOption = "",
           as_json: JsonOption = False) -> None:
    """Withdraw a maker's orders and forget it (its account and trades stay)."""
    control_call(url, token, "DELETE", f"/liquidity/{name}")
    print_result({"removed": name}, as_json)


__all__ = ["liquidity_app", "parse_path_option"]
