"""Server commands: ``serve``, and the control-plane commands that talk to a running sandbox."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from kalshi_sandbox.cli import account_app, app, clock_app, market_app
from kalshi_sandbox.settings import Settings, help_for

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DEFAULT_URL = "http://127.0.0.1:8000"
UrlOption = Annotated[str, typer.Option(
    "--url", envvar="KALSHI_SANDBOX_URL", help="Base URL of the running sandbox.")]
TokenOption = Annotated[str, typer.Option(
    "--admin-token", envvar="KALSHI_SANDBOX_ADMIN_TOKEN",
    help="Control-plane token, if the server requires one.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _opt(name: str, flag: str | None = None) -> Any:
    return typer.Option(flag or f"--{name.replace('_', '-')}", help=help_for(name),
                        show_default=False)


@app.command()
def serve(
    host: Annotated[str | None, _opt("host")] = None,
    port: Annotated[int | None, _opt("port")] = None,
    db: Annotated[str | None, _opt("db")] = None,
    data_dir: Annotated[str | None, _opt("data_dir")] = None,
    confirm_window: Annotated[float | None, _opt("confirm_window")] = None,
    execution_delay: Annotated[float | None, _opt("execution_delay")] = None,
    hvm_confirm_window: Annotated[float | None, _opt("hvm_confirm_window")] = None,
    hvm_execution_delay: Annotated[float | None, _opt("hvm_execution_delay")] = None,
    clock: Annotated[str | None, _opt("clock")] = None,
    clock_speed: Annotated[float | None, _opt("clock_speed")] = None,
    clock_start: Annotated[str | None, _opt("clock_start")] = None,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Do not seed demo data.")] = False,
    admin_token: Annotated[str | None, _opt("admin_token")] = None,
    makers: Annotated[int | None, _opt("makers")] = None,
    requesters: Annotated[int | None, _opt("requesters")] = None,
    requester_interval: Annotated[float | None, _opt("requester_interval")] = None,
    rate_limit: Annotated[str | None, _opt("rate_limit")] = None,
    log_level: Annotated[str | None, _opt("log_level")] = None,
    access_log: Annotated[bool, typer.Option("--access-log",
                                             help="Log every request.")] = False,
) -> None:
    """Run the sandbox server. Every flag also reads KALSHI_SANDBOX_<FLAG>."""
    import uvicorn

    from kalshi_sandbox.api.ws.protocol import KalshiWebSocketProtocol
    from kalshi_sandbox.bootstrap import Sandbox, build

    try:
        settings = Settings.from_env().replace(
            host=host, port=port, db=db, data_dir=data_dir, confirm_window=confirm_window,
            execution_delay=execution_delay, hvm_confirm_window=hvm_confirm_window,
            hvm_execution_delay=hvm_execution_delay, clock=clock, clock_speed=clock_speed,
            clock_start=clock_start,
            admin_token=admin_token, log_level=log_level, makers=makers,
            requesters=requesters, requester_interval=requester_interval,
            rate_limit=rate_limit, seed=False if no_seed else None,
        )
        settings.validate()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if settings.db.startswith(("postgresql://", "postgres://")):
        err_console.print("[red]error:[/red] PostgreSQL storage is not available yet; "
                          "use a SQLite file path for --db")
        raise typer.Exit(2)
    sandbox = build(settings)

    def ready(box: Sandbox) -> None:
        print_banner(box)

    sandbox.on_ready = ready
    uvicorn.run(sandbox.app, host=settings.host, port=settings.port,
                log_level=settings.log_level, access_log=access_log, lifespan="on",
                loop="auto", http="auto", ws=KalshiWebSocketProtocol,
                ws_ping_interval=settings.ws_ping_interval or None,
                ws_ping_timeout=settings.ws_ping_timeout or None,
                ws_per_message_deflate=settings.ws_compression)


def print_banner(box: Any) -> None:
    """Tell the user where the sandbox is and how to use the demo accounts."""
    s = box.settings
    base = f"http://{s.host}:{s.port}"
    console.print(f"\n[bold green]kalshi-sandbox[/bold green] on {base}")
    console.print(f"  REST       {base}/trade-api/v2")
    console.print(f"  WebSocket  ws://{s.host}:{s.port}/trade-api/ws/v2")
    console.print(f"  control    {base}/sandbox/v1")
    console.print(f"database: {s.database_path}   clock: {s.clock}   "
                  f"confirm window {s.confirm_window:g}s / execution {s.execution_delay:g}s "
                  f"(HVM {s.hvm_confirm_window:g}s / {s.hvm_execution_delay:g}s)   "
                  f"rate limits: {s.rate_limit}")
    if box.demo:
        console.print("\n[bold]Demo accounts[/bold]")
        for demo in box.demo:
            console.print(f"  {demo.name:<10} key id {demo.key_id}  key {demo.key_path}  "
                          f"balance ${demo.balance_dollars}")
        console.print("\n[bold]Try it[/bold] (in another terminal):")
        console.print("  .venv/bin/python examples/quickstart.py")
        console.print("  .venv/bin/kalshi-sandbox watch --as maker")
        console.print("  .venv/bin/kalshi-sandbox rfq create KXSANDBOX-26DEC31-T50 "
                      "--contracts 10 --as requester")
    bots = box.counterparties.describe_all()
    if bots:
        console.print("\n[bold]Counterparties[/bold] (kalshi-sandbox bots list)")
        for bot in bots:
            console.print(f"  {bot['name']:<20} {bot['kind']}")
    console.print()


# Control-plane commands ---------------------------------------------------------------------


def _call(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(method, f"{url.rstrip('/')}/sandbox/v1{path}", json=body,
                                 headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        err_console.print(f"[red]error:[/red] cannot reach the sandbox at {url}: {exc}")
        raise typer.Exit(1) from None
    data = response.json() if response.content else {}
    if response.status_code >= 400:
        error = data.get("error", data) if isinstance(data, dict) else data
        err_console.print(f"[red]error {response.status_code}:[/red] {json.dumps(error)}")
        raise typer.Exit(1)
    return data


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        console.print_json(json.dumps(data))


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
    data = _call(url, token, "POST", "/accounts", body)
    if save_key is not None and "private_key_pem" in data:
        save_key.write_text(data["private_key_pem"])
        os.chmod(save_key, 0o600)
        data = {k: v for k, v in data.items() if k != "private_key_pem"}
        data["private_key_path"] = str(save_key)
    _print(data, as_json)


@account_app.command("list")
def account_list(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                 as_json: JsonOption = False) -> None:
    """List accounts with their key ids and balances."""
    _print(_call(url, token, "GET", "/accounts"), as_json)


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
        _print(_call(url, token, "GET", f"/accounts/{user_id}/limits"), as_json)
    else:
        _print(_call(url, token, "PUT", f"/accounts/{user_id}/limits",
                     {"usage_tier": usage_tier}), as_json)


@market_app.command("create")
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
    _print(_call(url, token, "POST", "/markets", body), as_json)


@app.command()
def reset(
    seed: Annotated[bool, typer.Option("--seed/--no-seed",
                                       help="Seed the demo data again.")] = True,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Delete all state in a running sandbox (and seed the demo again)."""
    _print(_call(url, token, "POST", "/reset", {"seed": seed}), as_json)


@clock_app.command("show")
def clock_show(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
               as_json: JsonOption = False) -> None:
    """Show the sandbox clock and the next timer."""
    _print(_call(url, token, "GET", "/clock"), as_json)


@clock_app.command("advance")
def clock_advance(
    seconds: Annotated[float, typer.Argument(help="How far to move a manual clock.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Advance a manual clock, firing every timer that falls due."""
    _print(_call(url, token, "POST", "/clock/advance", {"seconds": seconds}), as_json)
