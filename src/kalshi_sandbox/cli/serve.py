"""``kalshi-sandbox serve``: run the sandbox server, and tell the user how to use it."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Annotated, Any

import typer

from kalshi_sandbox.cli.options import console, err_console
from kalshi_sandbox.settings import Settings, help_for


def _opt(name: str, flag: str | None = None) -> Any:
    return typer.Option(flag or f"--{name.replace('_', '-')}", help=help_for(name),
                        show_default=False)


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
    allowed_hosts: Annotated[str | None, _opt("allowed_hosts")] = None,
    forwarded_allow_ips: Annotated[str | None, _opt("forwarded_allow_ips")] = None,
    verbose_auth: Annotated[bool, typer.Option("--verbose-auth",
                                               help=help_for("verbose_auth"))] = False,
    max_body_bytes: Annotated[int | None, _opt("max_body_bytes")] = None,
    makers: Annotated[int | None, _opt("makers")] = None,
    requesters: Annotated[int | None, _opt("requesters")] = None,
    requester_interval: Annotated[float | None, _opt("requester_interval")] = None,
    rate_limit: Annotated[str | None, _opt("rate_limit")] = None,
    legacy_orders: Annotated[str | None, _opt("legacy_orders")] = None,
    liquidity: Annotated[bool, typer.Option("--liquidity", help=help_for("liquidity"))] = False,
    workers: Annotated[int | None, _opt("workers")] = None,
    shared: Annotated[bool, typer.Option("--shared", help=help_for("shared"))] = False,
    log_level: Annotated[str | None, _opt("log_level")] = None,
    log_format: Annotated[str | None, _opt("log_format")] = None,
    access_log: Annotated[bool, typer.Option(
        "--access-log", help="Also log uvicorn's own access line for every request.")] = False,
) -> None:
    """Run the sandbox server. Every flag also reads KALSHI_SANDBOX_<FLAG>."""
    import uvicorn

    from kalshi_sandbox.api.ws.protocol import KalshiWebSocketProtocol
    from kalshi_sandbox.bootstrap import Sandbox, build, server_options
    from kalshi_sandbox.web.logs import log_config

    try:
        settings = Settings.from_env().replace(
            host=host, port=port, db=db, data_dir=data_dir, confirm_window=confirm_window,
            execution_delay=execution_delay, hvm_confirm_window=hvm_confirm_window,
            hvm_execution_delay=hvm_execution_delay, clock=clock, clock_speed=clock_speed,
            clock_start=clock_start,
            admin_token=admin_token, log_level=log_level, log_format=log_format,
            makers=makers,
            requesters=requesters, requester_interval=requester_interval,
            rate_limit=rate_limit, seed=False if no_seed else None,
            allowed_hosts=allowed_hosts, forwarded_allow_ips=forwarded_allow_ips,
            verbose_auth=True if verbose_auth else None, max_body_bytes=max_body_bytes,
            legacy_orders=legacy_orders, liquidity=True if liquidity else None,
            workers=workers, shared=True if shared else None,
        )
        settings.validate()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if settings.workers > 1:
        # Each worker process builds its own instance from the same settings.
        os.environ[WORKER_SETTINGS] = json.dumps(dataclasses.asdict(settings))
        print_instances_banner(settings)
        uvicorn.run("kalshi_sandbox.cli.serve:worker_app", factory=True,
                    workers=settings.workers, host=settings.host, port=settings.port,
                    log_level=settings.log_level, access_log=access_log, lifespan="on",
                    loop="auto", http="auto", ws=KalshiWebSocketProtocol,
                    **server_options(settings))
        return
    sandbox = build(settings)

    def ready(box: Sandbox) -> None:
        print_banner(box)

    sandbox.on_ready = ready
    uvicorn.run(sandbox.app, host=settings.host, port=settings.port,
                log_level=settings.log_level, access_log=access_log, lifespan="on",
                log_config=log_config(settings.log_level, settings.log_format),
                loop="auto", http="auto", ws=KalshiWebSocketProtocol,
                **server_options(settings))


WORKER_SETTINGS = "KALSHI_SANDBOX_WORKER_SETTINGS_JSON"
"""Where ``serve --workers`` hands its settings to the worker processes."""


def worker_app() -> Any:
    """Build one worker's app (``serve --workers``: uvicorn calls this in each process)."""
    from kalshi_sandbox.bootstrap import build
    from kalshi_sandbox.settings import Settings

    settings = Settings(**json.loads(os.environ[WORKER_SETTINGS]))
    return build(settings).app


def print_instances_banner(settings: Settings) -> None:
    """Tell the user where the sandbox's several instances listen."""
    from kalshi_sandbox.storage.postgres import redact

    base = f"http://{settings.host}:{settings.port}"
    console.print(f"\n[bold green]kalshi-sandbox[/bold green] on {base}: "
                  f"{settings.workers} instances sharing {redact(settings.db)}")
    console.print(f"  REST       {base}/trade-api/v2")
    console.print(f"  WebSocket  ws://{settings.host}:{settings.port}/trade-api/ws/v2")
    console.print(f"  control    {base}/sandbox/v1   (single-instance powers refused: "
                  "docs/deploy.md)\n")


DEFAULT_BASE = "http://127.0.0.1:8000"
DEFAULT_DATA_DIR = ".kalshi-sandbox"


def client_host(host: str) -> str:
    """Return the address a client on this machine uses to reach ``host``."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def try_it(base: str, data_dir: str) -> list[str]:
    """Return the "Try it" commands, carrying a non-default address and data directory."""
    env = []
    if base != DEFAULT_BASE:
        env.append(f"KALSHI_SANDBOX_URL={base}")
    if data_dir != DEFAULT_DATA_DIR:
        env.append(f"KALSHI_SANDBOX_DATA_DIR={data_dir}")
    lines = [f"  export {' '.join(env)}"] if env else []
    return [*lines,
            "  .venv/bin/python examples/quickstart.py",
            "  .venv/bin/kalshi-sandbox watch --as maker",
            "  .venv/bin/kalshi-sandbox rfq create KXSANDBOX-26DEC31-T50 --contracts 10 "
            "--as requester"]


def print_banner(box: Any) -> None:
    """Tell the user where the sandbox is and how to use the demo accounts."""
    from kalshi_sandbox.storage.postgres import redact

    s = box.settings
    base = f"http://{client_host(s.host)}:{s.port}"
    console.print(f"\n[bold green]kalshi-sandbox[/bold green] on {base}")
    console.print(f"  dashboard  {base}/")
    console.print(f"  API docs   {base}/docs")
    console.print(f"  REST       {base}/trade-api/v2")
    console.print(f"  WebSocket  ws://{client_host(s.host)}:{s.port}/trade-api/ws/v2")
    console.print(f"  control    {base}/sandbox/v1")
    database = redact(s.db) if s.postgres else s.database_path
    console.print(f"database: {database}   clock: {s.clock}   "
                  f"confirm window {s.confirm_window:g}s / execution {s.execution_delay:g}s "
                  f"(HVM {s.hvm_confirm_window:g}s / {s.hvm_execution_delay:g}s)   "
                  f"rate limits: {s.rate_limit}   legacy order writes: {s.legacy_orders}")
    if box.demo:
        console.print("\n[bold]Demo accounts[/bold]")
        for demo in box.demo:
            console.print(f"  {demo.name:<10} key id {demo.key_id}  key {demo.key_path}  "
                          f"balance ${demo.balance_dollars}")
        console.print("\n[bold]Try it[/bold] (in another terminal):")
        for line in try_it(base, str(s.data_dir)):
            console.print(line, highlight=False, markup=False)
    bots = box.counterparties.describe_all()
    if bots:
        console.print("\n[bold]Counterparties[/bold] (kalshi-sandbox bots list)")
        for bot in bots:
            console.print(f"  {bot['name']:<20} {bot['kind']}")
    makers = box.liquidity.describe_all()
    if makers:
        console.print("\n[bold]Liquidity[/bold] (kalshi-sandbox liquidity list)")
        for maker in makers:
            tickers = [m if isinstance(m, str) else m["ticker"]
                       for m in maker["markets"] or ()]
            markets = ", ".join(tickers) or "every open market"
            console.print(f"  {maker['name']:<20} {markets}")
    console.print()
