"""``kalshi-sandbox faults``: add, list, remove and clear fault rules of a running sandbox."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kalshi_sandbox.cli.options import (
    DEFAULT_URL,
    JsonOption,
    TokenOption,
    UrlOption,
    control_call,
    err_console,
    print_result,
)

faults_app = typer.Typer(
    help="Inject faults into Kalshi's API: errors, 429s, latency, lost or late WebSocket "
         "messages, closed connections (control plane).",
    no_args_is_help=True,
)


def _action(error: str | None, code: str | None, message: str | None, details: str | None,
            latency: float | None, rate_limit: bool, ws_drop: bool, ws_delay: float | None,
            ws_close: bool, close_code: int | None, message_types: list[str] | None
            ) -> dict[str, Any]:
    chosen = [name for name, given in (
        ("--error", error is not None), ("--latency", latency is not None),
        ("--rate-limit", rate_limit), ("--ws-drop", ws_drop), ("--ws-delay", ws_delay is not None),
        ("--ws-close", ws_close)) if given]
    if len(chosen) != 1:
        err_console.print("[red]error:[/red] give exactly one action: --error, --latency, "
                          "--rate-limit, --ws-drop, --ws-delay or --ws-close"
                          + (f" (got {', '.join(chosen)})" if chosen else ""))
        raise typer.Exit(2)
    types: list[str] | None = message_types or None
    if error is not None:
        status_text, _, inline_code = error.partition(":")
        try:
            status = int(status_text)
        except ValueError:
            err_console.print(f"[red]error:[/red] --error takes STATUS[:CODE], got {error!r}")
            raise typer.Exit(2) from None
        action: dict[str, Any] = {"type": "error", "status": status}
        for key, value in (("code", code or inline_code or None), ("message", message),
                           ("details", details)):
            if value is not None:
                action[key] = value
        return action
    if latency is not None:
        return {"type": "latency", "ms": latency}
    if rate_limit:
        return {"type": "rate_limit"}
    if ws_drop:
        return {"type": "ws_drop", "message_types": types}
    if ws_delay is not None:
        return {"type": "ws_delay", "ms": ws_delay, "message_types": types}
    action = {"type": "ws_close", "message_types": types}
    if close_code is not None:
        action["code"] = close_code
    return action


@faults_app.command("add")
def faults_add(
    path: Annotated[str | None, typer.Option(
        help="Glob on the request path, e.g. '/trade-api/v2/communications/*/confirm' "
             "(a path not under /trade-api is taken under /trade-api/v2).")] = None,
    method: Annotated[str | None, typer.Option(help="HTTP method, e.g. PUT.")] = None,
    account: Annotated[str | None, typer.Option(
        help="User id, key id or account name of the caller (of the recipient, for "
             "WebSocket messages).")] = None,
    market: Annotated[str | None, typer.Option(help="Market ticker.")] = None,
    error: Annotated[str | None, typer.Option(
        help="Answer with this Kalshi error: STATUS or STATUS:CODE, e.g. 503 or "
             "400:insufficient_balance.")] = None,
    code: Annotated[str | None, typer.Option(help="The error's code.")] = None,
    message: Annotated[str | None, typer.Option(help="The error's message.")] = None,
    details: Annotated[str | None, typer.Option(help="The error's details.")] = None,
    latency: Annotated[float | None, typer.Option(
        help="Wait this many milliseconds (real time) before handling.")] = None,
    rate_limit: Annotated[bool, typer.Option(
        "--rate-limit", help="Answer 429 with Kalshi's {\"error\": \"too many requests\"}.")
    ] = False,
    ws_drop: Annotated[bool, typer.Option(
        "--ws-drop", help="Lose WebSocket data messages (their seq is still spent).")] = False,
    ws_delay: Annotated[float | None, typer.Option(
        help="Hold WebSocket data messages back this many milliseconds.")] = None,
    ws_close: Annotated[bool, typer.Option(
        "--ws-close", help="Close the WebSocket instead of sending the message.")] = False,
    close_code: Annotated[int | None, typer.Option(
        help="Close code for --ws-close (default 1001).")] = None,
    message_type: Annotated[list[str] | None, typer.Option(
        "--message-type", help="Only WebSocket messages of this type (repeatable), e.g. "
                               "quote_accepted.")] = None,
    probability: Annotated[float, typer.Option(
        help="Chance that a matching request or message is faulted.")] = 1.0,
    count: Annotated[int | None, typer.Option(
        help="Fault at most this many times (default: no limit).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the rule's random draws, to repeat a run.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Add a fault rule; print it with its id."""
    match = {key: value for key, value in (("path", path), ("method", method),
                                           ("account", account), ("market", market))
             if value is not None}
    body: dict[str, Any] = {
        "match": match,
        "action": _action(error, code, message, details, latency, rate_limit, ws_drop,
                          ws_delay, ws_close, close_code, message_type),
        "probability": probability,
    }
    if count is not None:
        body["count"] = count
    if seed is not None:
        body["seed"] = seed
    print_result(control_call(url, token, "POST", "/faults", body), as_json)


@faults_app.command("list")
def faults_list(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                as_json: JsonOption = False) -> None:
    """List the fault rules with their hits and remaining counts."""
    print_result(control_call(url, token, "GET", "/faults"), as_json)


@faults_app.command("remove")
def faults_remove(
    rule_id: Annotated[str, typer.Argument(help="The rule's id, e.g. f1.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: JsonOption = False,
) -> None:
    """Remove one fault rule."""
    control_call(url, token, "DELETE", f"/faults/{rule_id}")
    print_result({"removed": rule_id}, as_json)


@faults_app.command("clear")
def faults_clear(url: UrlOption = DEFAULT_URL, token: TokenOption = "",
                 as_json: JsonOption = False) -> None:
    """Remove every fault rule."""
    control_call(url, token, "DELETE", "/faults")
    print_result({"cleared": True}, as_json)


__all__ = ["faults_app"]
