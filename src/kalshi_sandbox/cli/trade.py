"""Trading commands: RFQs, quotes, markets, portfolio and a live ``communications`` stream.

They use only :mod:`kalshi_sandbox.client`, so they work the same against the sandbox, Kalshi's
demo and Kalshi's production (``--env`` or ``--base-url``). Credentials come from
``--key-id``/``--private-key`` or ``KALSHI_API_KEY_ID``/``KALSHI_PRIVATE_KEY_PATH``; against
the sandbox, with neither given, from the demo accounts ``serve`` seeded (``--as``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kalshi_sandbox.cli import app, market_app
from kalshi_sandbox.client import (
    APIError,
    AsyncKalshiClient,
    Credentials,
    CredentialsError,
    DataMessage,
    Fill,
    FillMessage,
    KalshiClient,
    KalshiError,
    Market,
    Order,
    Position,
    Quote,
    QuoteAccepted,
    QuoteCreated,
    QuoteExecuted,
    Reconnected,
    Rfq,
    RfqCreated,
    RfqDeleted,
    SequenceGap,
    StreamEvent,
    Subscribed,
    SubscriptionDropped,
    UnknownMessage,
    UserOrderMessage,
)
from kalshi_sandbox.client.credentials import DEFAULT_DATA_DIR

T = TypeVar("T")

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

rfq_app = typer.Typer(help="Create, list, read and delete RFQs (requests for quote).",
                      no_args_is_help=True)
quote_app = typer.Typer(help="Quote RFQs as a maker; accept (requester) and confirm (maker).",
                        no_args_is_help=True)
portfolio_app = typer.Typer(help="Your balance, positions, fills and orders.",
                            no_args_is_help=True)
app.add_typer(rfq_app, name="rfq")
app.add_typer(quote_app, name="quote")
app.add_typer(portfolio_app, name="portfolio")


class Env(StrEnum):
    """Where the trading commands connect."""

    SANDBOX = "sandbox"
    DEMO = "demo"
    PROD = "prod"


class Role(StrEnum):
    """Which seeded sandbox demo account to act as."""

    REQUESTER = "requester"
    MAKER = "maker"


class SideChoice(StrEnum):
    """An outcome side."""

    YES = "yes"
    NO = "no"


CONNECTION = "Connection"

EnvOption = Annotated[Env, typer.Option(
    "--env", envvar="KALSHI_ENV", rich_help_panel=CONNECTION,
    help="sandbox (127.0.0.1:8000, or KALSHI_SANDBOX_URL), Kalshi demo, or Kalshi production.")]
BaseUrlOption = Annotated[str | None, typer.Option(
    "--base-url", envvar="KALSHI_BASE_URL", rich_help_panel=CONNECTION, show_default=False,
    help="Server root or REST URL (…/trade-api/v2); overrides the --env preset.")]
KeyIdOption = Annotated[str | None, typer.Option(
    "--key-id", envvar="KALSHI_API_KEY_ID", rich_help_panel=CONNECTION, show_default=False,
    help="API key id.")]
PrivateKeyOption = Annotated[str | None, typer.Option(
    "--private-key", envvar=["KALSHI_PRIVATE_KEY_PATH", "KALSHI_PRIVATE_KEY"],
    rich_help_panel=CONNECTION, show_default=False,
    help="Private key: a PEM file path, or the PEM text itself.")]
AsOption = Annotated[Role, typer.Option(
    "--as", rich_help_panel=CONNECTION,
    help="Sandbox only, when no key is given: act as this seeded demo account.")]
DataDirOption = Annotated[str, typer.Option(
    "--data-dir", envvar="KALSHI_SANDBOX_DATA_DIR", rich_help_panel=CONNECTION,
    help="Sandbox data directory holding demo-accounts.json.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
LimitOption = Annotated[int | None, typer.Option(
    "--limit", min=1, show_default=False, help="Page size (the server's default if omitted).")]
CursorOption = Annotated[str | None, typer.Option(
    "--cursor", show_default=False, help="Continue from this page cursor.")]
AllOption = Annotated[bool, typer.Option(
    "--all", help="Follow cursors and return every page.")]
RfqScopeOption = Annotated[str | None, typer.Option(
    "--rfq", show_default=False,
    help="The quote's RFQ id: uses the RFQ-scoped path Kalshi prefers (the deprecated "
         "quote-id-only path otherwise).")]
SubaccountOption = Annotated[int | None, typer.Option(
    "--subaccount", min=0, max=63, show_default=False, help="Subaccount (0 = primary).")]


class Target:
    """Where and as whom a command connects, and how it prints."""

    def __init__(self, env: Env, base_url: str | None, key_id: str | None,
                 private_key: str | None, role: Role, data_dir: str, as_json: bool) -> None:
        self.env = env
        self.base_url = base_url
        if base_url is None and env is Env.SANDBOX:
            self.base_url = os.environ.get("KALSHI_SANDBOX_URL") or None
        self.key_id = key_id
        self.private_key = private_key
        self.role = role
        self.data_dir = data_dir
        self.as_json = as_json

    def credentials(self, required: bool) -> Credentials | None:
        """Return the credentials to sign with (None for public reads without any)."""
        if self.key_id or self.private_key:
            if not (self.key_id and self.private_key):
                raise CredentialsError("give both --key-id and --private-key")
            return Credentials.load(self.key_id, self.private_key)
        if self.env is Env.SANDBOX:
            try:
                return Credentials.sandbox_demo(self.role.value, self.data_dir)
            except CredentialsError:
                if required:
                    raise
                return None
        if required:
            raise CredentialsError(
                f"the {self.env.value} environment needs credentials: pass --key-id and "
                "--private-key, or set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH")
        return None

    def client(self, required: bool = True) -> KalshiClient:
        """Return a blocking client for this target."""
        return KalshiClient(self.env.value, base_url=self.base_url,
                            credentials=self.credentials(required), credentials_from_env=False)

    def async_client(self) -> AsyncKalshiClient:
        """Return an asyncio client for this target."""
        return AsyncKalshiClient(self.env.value, base_url=self.base_url,
                                 credentials=self.credentials(True), credentials_from_env=False)


@contextmanager
def failures(target: Target) -> Iterator[None]:
    """Turn client errors into a message (or a JSON error object) and exit status 1."""
    try:
        yield
    except CredentialsError as exc:
        _fail(target, {"code": "credentials", "message": str(exc)}, 2)
    except APIError as exc:
        _fail(target, {"status": exc.status_code, "code": exc.code, "message": exc.message,
                       "details": exc.details, "hint": exc.hint}, 1, str(exc))
    except (KalshiError, ValueError, TypeError) as exc:
        _fail(target, {"code": type(exc).__name__, "message": str(exc)}, 1)


def _fail(target: Target, error: dict[str, Any], status: int, text: str | None = None) -> None:
    if target.as_json:
        emit({"error": {k: v for k, v in error.items() if v is not None}})
    else:
        err_console.print(f"[red]error:[/red] {text or error['message']}", markup=True,
                          highlight=False)
    raise typer.Exit(status)


# Output -------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def emit(data: Any) -> None:
    """Write ``data`` as one JSON document on stdout."""
    sys.stdout.write(json.dumps(_plain(data), indent=2) + "\n")
    sys.stdout.flush()


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    return table


def _details(title: str, fields: Mapping[str, Any]) -> None:
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in fields.items():
        if value is not None and value != ():
            table.add_row(name, _text(value))
    console.print(table)


def _size(contracts: Decimal | None, target: Decimal | None) -> str:
    if target is not None:
        return f"${target}"
    return "-" if contracts is None else str(contracts)


def _rfq_row(r: Rfq) -> list[Any]:
    return [r.id, r.market_ticker, _size(r.contracts, r.target_cost), r.status,
            r.created_ts, r.creator_id[:12]]


RFQ_COLUMNS = ["id", "market", "size", "status", "created", "creator"]


def _quote_row(q: Quote) -> list[Any]:
    return [q.id, q.rfq_id, q.market_ticker, q.yes_bid, q.no_bid, q.contracts, q.status,
            q.accepted_side]


QUOTE_COLUMNS = ["id", "rfq", "market", "yes bid", "no bid", "contracts", "status", "accepted"]


def _market_row(m: Market) -> list[Any]:
    step = ",".join(str(r.step) for r in m.price_ranges)
    return [m.ticker, m.status, m.title, m.yes_bid, m.yes_ask, m.last_price, step]


MARKET_COLUMNS = ["ticker", "status", "title", "yes bid", "yes ask", "last", "tick"]


def _position_row(p: Position) -> list[Any]:
    return [p.ticker, p.position, p.market_exposure, p.total_traded, p.realized_pnl,
            p.fees_paid]


POSITION_COLUMNS = ["ticker", "position", "exposure", "traded", "realized pnl", "fees"]


def _fill_row(f: Fill) -> list[Any]:
    own = f.yes_price if f.side is not None and f.side.value == "yes" else f.no_price
    return [f.created_time, f.ticker, f.side, f.count, own, f.fee_cost,
            "taker" if f.is_taker else "maker", f.order_id]


def _order_row(o: Order) -> list[Any]:
    return [o.created_time, o.ticker, o.side, o.yes_price, o.initial_count, o.fill_count,
            o.status, o.client_order_id, o.order_id]


ORDER_COLUMNS = ["time", "ticker", "side", "yes price", "count", "filled", "status",
                 "client order id", "order"]


FILL_COLUMNS = ["time", "ticker", "side", "count", "price", "fee", "role", "order"]


def _listing(target: Target, key: str, page: Callable[[], tuple[list[T], str]],
             every: Callable[[], Iterator[T]], fetch_all: bool, title: str,
             columns: Sequence[str], row: Callable[[T], list[Any]]) -> None:
    cursor = ""
    if fetch_all:
        items = list(every())
    else:
        items, cursor = page()
    if target.as_json:
        data: dict[str, Any] = {key: [dict(getattr(i, "raw", {})) for i in items]}
        if not fetch_all:
            data["cursor"] = cursor
        emit(data)
        return
    console.print(_table(title, columns, (row(i) for i in items)))
    if cursor:
        console.print(f"more: --cursor {cursor}", highlight=False)


def _show_rfq(target: Target, rfq: Rfq) -> None:
    if target.as_json:
        emit({"rfq": dict(rfq.raw)})
        return
    _details(f"RFQ {rfq.id}", {
        "market": rfq.market_ticker, "status": rfq.status, "contracts": rfq.contracts,
        "target cost": rfq.target_cost, "rest remainder": rfq.rest_remainder,
        "creator": rfq.creator_id, "created": rfq.created_ts, "updated": rfq.updated_ts,
        "cancelled": rfq.cancelled_ts, "reason": rfq.cancellation_reason})


def _show_quote(target: Target, quote: Quote) -> None:
    if target.as_json:
        emit({"quote": dict(quote.raw)})
        return
    _details(f"Quote {quote.id}", {
        "rfq": quote.rfq_id, "market": quote.market_ticker, "status": quote.status,
        "yes bid": quote.yes_bid, "no bid": quote.no_bid, "contracts": quote.contracts,
        "yes contracts": quote.yes_contracts, "no contracts": quote.no_contracts,
        "accepted side": quote.accepted_side, "maker": quote.creator_id,
        "requester": quote.rfq_creator_id, "created": quote.created_ts,
        "accepted": quote.accepted_ts, "confirmed": quote.confirmed_ts,
        "executed": quote.executed_ts, "cancelled": quote.cancelled_ts,
        "reason": quote.cancellation_reason, "my order": quote.creator_order_id
        or quote.rfq_creator_order_id})


def _done(target: Target, data: dict[str, Any], text: str) -> None:
    if target.as_json:
        emit(data)
    else:
        console.print(text, highlight=False)


# rfq ----------------------------------------------------------------------------------------


@rfq_app.command("create")
def rfq_create(
    market_ticker: Annotated[str, typer.Argument(help="Market to ask quotes for.")],
    contracts: Annotated[str | None, typer.Option(
        "--contracts", show_default=False, help="Size in contracts (0.01 steps).")] = None,
    target_cost: Annotated[str | None, typer.Option(
        "--target-cost", show_default=False, help="Size as a dollar amount instead.")] = None,
    rest_remainder: Annotated[bool, typer.Option(
        "--rest-remainder", help="Let your unfilled remainder rest on the book.")] = False,
    replace_existing: Annotated[bool, typer.Option(
        "--replace-existing", help="Close your open RFQs as part of creating this one.")
    ] = False,
    subaccount: SubaccountOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Create an RFQ for --contracts or --target-cost; print its id."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        rfq_id = client.create_rfq(market_ticker, contracts=contracts, target_cost=target_cost,
                                   rest_remainder=rest_remainder,
                                   replace_existing=replace_existing, subaccount=subaccount)
        _done(target, {"id": rfq_id}, f"created RFQ {rfq_id} on {market_ticker}")


@rfq_app.command("list")
def rfq_list(
    market: Annotated[str | None, typer.Option(
        "--market", show_default=False, help="Only this market.")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", show_default=False, help="Only this event.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="open or closed.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only RFQs you created.")] = False,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """List RFQs, newest first (everyone's: RFQs are public so makers can answer them)."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"market_ticker": market, "event_ticker": event,
                                   "status": status, "limit": limit,
                                   "user_filter": "self" if mine else None}

        def page() -> tuple[list[Rfq], str]:
            result = client.list_rfqs(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "rfqs", page, lambda: client.iter_rfqs(**options), fetch_all, "RFQs",
                 RFQ_COLUMNS, _rfq_row)


@rfq_app.command("get")
def rfq_get(
    rfq_id: Annotated[str, typer.Argument(help="RFQ id.")],
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Show one RFQ."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        _show_rfq(target, client.get_rfq(rfq_id))


@rfq_app.command("delete")
def rfq_delete(
    rfq_id: Annotated[str, typer.Argument(help="RFQ id.")],
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Close your RFQ; its open quotes are cancelled."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        client.delete_rfq(rfq_id)
        _done(target, {"id": rfq_id, "deleted": True}, f"deleted RFQ {rfq_id}")


# quote --------------------------------------------------------------------------------------


@quote_app.command("create")
def quote_create(
    rfq_id: Annotated[str, typer.Argument(help="RFQ to quote.")],
    yes_bid: Annotated[str, typer.Option(
        "--yes-bid", help="Your bid for YES in dollars, e.g. 0.40 (0 declines the side).")],
    no_bid: Annotated[str, typer.Option(
        "--no-bid", help="Your bid for NO in dollars, e.g. 0.55 (0 declines the side).")],
    rest_remainder: Annotated[bool, typer.Option(
        "--rest-remainder", help="Let your unfilled remainder rest on the book.")] = False,
    post_only: Annotated[bool | None, typer.Option(
        "--post-only/--no-post-only", show_default=False,
        help="Cancel instead of taking liquidity at execution.")] = None,
    subaccount: SubaccountOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.MAKER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Quote an RFQ with two bids; replaces your previous open quote on it. Print its id."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        quote_id = client.create_quote(rfq_id, yes_bid, no_bid, rest_remainder=rest_remainder,
                                       post_only=post_only, subaccount=subaccount)
        _done(target, {"id": quote_id, "rfq_id": rfq_id},
              f"created quote {quote_id} on RFQ {rfq_id}")


@quote_app.command("list")
def quote_list(
    rfq: Annotated[str | None, typer.Option(
        "--rfq", show_default=False, help="Only quotes on this RFQ.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False,
        help="open, accepted, confirmed, executed or cancelled.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only quotes you made.")] = False,
    on_my_rfqs: Annotated[bool, typer.Option(
        "--on-my-rfqs", help="Only quotes on RFQs you created.")] = False,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """List quotes you made and quotes on your RFQs."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"rfq_id": rfq, "status": status, "limit": limit,
                                   "user_filter": "self" if mine else None,
                                   "rfq_user_filter": "self" if on_my_rfqs else None}

        def page() -> tuple[list[Quote], str]:
            result = client.list_quotes(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "quotes", page, lambda: client.iter_quotes(**options), fetch_all,
                 "Quotes", QUOTE_COLUMNS, _quote_row)


@quote_app.command("get")
def quote_get(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    rfq: RfqScopeOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Show one quote (visible to its maker and the RFQ's requester)."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        _show_quote(target, client.get_quote(rfq, quote_id))


@quote_app.command("delete")
def quote_delete(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    rfq: RfqScopeOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.MAKER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Withdraw your quote (possible until it is confirmed)."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        client.delete_quote(rfq, quote_id)
        _done(target, {"id": quote_id, "deleted": True}, f"deleted quote {quote_id}")


@quote_app.command("accept")
def quote_accept(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    side: Annotated[SideChoice, typer.Option(
        "--side", help="The side you (the requester) end up holding.")],
    rfq: RfqScopeOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Accept a quote on your RFQ; the maker then has to confirm it."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        client.accept_quote(rfq, quote_id, side.value)
        _done(target, {"id": quote_id, "accepted_side": side.value},
              f"accepted quote {quote_id} ({side.value}); waiting for the maker to confirm")


@quote_app.command("confirm")
def quote_confirm(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    rfq: RfqScopeOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.MAKER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Confirm your accepted quote inside the window; the orders follow after a delay."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        client.confirm_quote(rfq, quote_id)
        _done(target, {"id": quote_id, "confirmed": True},
              f"confirmed quote {quote_id}; it executes when the execution timer ends")


# market -------------------------------------------------------------------------------------


@market_app.command("list")
def market_list(
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="unopened, open, closed or settled.")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", show_default=False, help="Only this event.")] = None,
    series: Annotated[str | None, typer.Option(
        "--series", show_default=False, help="Only this series.")] = None,
    tickers: Annotated[str | None, typer.Option(
        "--tickers", show_default=False, help="Comma-separated tickers.")] = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """List markets (public: no key needed)."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client(required=False) as client:
        options: dict[str, Any] = {
            "status": status, "event_ticker": event, "series_ticker": series, "limit": limit,
            "tickers": None if tickers is None else [t for t in tickers.split(",") if t]}

        def page() -> tuple[list[Market], str]:
            result = client.list_markets(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "markets", page, lambda: client.iter_markets(**options), fetch_all,
                 "Markets", MARKET_COLUMNS, _market_row)


@market_app.command("get")
def market_get(
    ticker: Annotated[str, typer.Argument(help="Market ticker.")],
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Show one market and its price grid."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client(required=False) as client:
        market = client.get_market(ticker)
        if as_json:
            emit({"market": dict(market.raw)})
            return
        grid = "; ".join(f"{r.start}-{r.end} step {r.step}" for r in market.price_ranges)
        _details(f"Market {market.ticker}", {
            "title": market.title, "event": market.event_ticker, "status": market.status,
            "opens": market.open_time, "closes": market.close_time,
            "price levels": market.price_level_structure, "grid": grid,
            "yes bid": market.yes_bid, "yes ask": market.yes_ask, "last": market.last_price,
            "volume": market.volume, "open interest": market.open_interest,
            "result": market.result})


# portfolio ----------------------------------------------------------------------------------


@portfolio_app.command("balance")
def portfolio_balance(
    subaccount: SubaccountOption = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Show your cash balance and portfolio value."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        balance = client.get_balance(subaccount=subaccount)
        if as_json:
            emit(dict(balance.raw))
            return
        _details("Balance", {"balance": f"${balance.balance}",
                             "portfolio value": None if balance.portfolio_value is None
                             else f"${balance.portfolio_value}",
                             "updated": balance.updated_ts})


@portfolio_app.command("positions")
def portfolio_positions(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", show_default=False, help="Only this event.")] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """List your market positions (+ YES, - NO)."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "event_ticker": event,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Position], str]:
            result = client.get_positions(cursor=cursor, **options)
            return result.market_positions, result.cursor

        _listing(target, "market_positions", page, lambda: client.iter_positions(**options),
                 fetch_all, "Positions", POSITION_COLUMNS, _position_row)


@portfolio_app.command("fills")
def portfolio_fills(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    order_id: Annotated[str | None, typer.Option(
        "--order-id", show_default=False,
        help="Only fills of this order (a quote's creator_order_id / rfq_creator_order_id).")
    ] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """List your fills, newest first."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "order_id": order_id,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Fill], str]:
            result = client.list_fills(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "fills", page, lambda: client.iter_fills(**options), fetch_all,
                 "Fills", FILL_COLUMNS, _fill_row)


@portfolio_app.command("orders")
def portfolio_orders(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="resting, canceled or executed.")] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """List your orders (an RFQ execution places one for each party), newest first."""
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "status": status,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Order], str]:
            result = client.list_orders(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "orders", page, lambda: client.iter_orders(**options), fetch_all,
                 "Orders", ORDER_COLUMNS, _order_row)


# watch --------------------------------------------------------------------------------------


def _event_json(event: StreamEvent) -> dict[str, Any]:
    if isinstance(event, Subscribed):
        return {"event": "subscribed", "channel": event.channel, "sid": event.sid}
    if isinstance(event, SequenceGap):
        return {"event": "gap", "sid": event.sid, "expected": event.expected,
                "received": event.received}
    if isinstance(event, SubscriptionDropped):
        return {"event": "dropped", "channel": event.channel, "sid": event.sid,
                "code": event.code, "message": event.message}
    if isinstance(event, Reconnected):
        return {"event": "reconnected", "attempts": event.attempts, "reason": event.reason}
    return {"type": event.type, "sid": event.sid, "seq": event.seq,
            "sending_ts_ms": event.sending_ts_ms, "msg": dict(event.raw)}


def _event_row(event: DataMessage) -> list[Any]:
    if isinstance(event, RfqCreated):
        return [event.seq, event.type, event.market_ticker, event.id, "-",
                _size(event.contracts, event.target_cost), "", ""]
    if isinstance(event, RfqDeleted):
        return [event.seq, event.type, event.market_ticker, event.id, "-", "", "", ""]
    if isinstance(event, QuoteCreated):
        return [event.seq, event.type, event.market_ticker, event.rfq_id, event.quote_id,
                "", f"{event.yes_bid} / {event.no_bid}", ""]
    if isinstance(event, QuoteAccepted):
        return [event.seq, event.type, event.market_ticker, event.rfq_id, event.quote_id,
                event.contracts_accepted, f"{event.yes_bid} / {event.no_bid}",
                event.accepted_side]
    if isinstance(event, QuoteExecuted):
        return [event.seq, event.type, event.market_ticker, event.rfq_id, event.quote_id,
                "", f"order {event.order_id}", ""]
    if isinstance(event, FillMessage):
        return [event.seq, event.type, event.market_ticker, "-", f"order {event.order_id}",
                event.count, f"yes {event.yes_price}", event.side]
    if isinstance(event, UserOrderMessage):
        return [event.seq, event.type, event.ticker, "-", f"order {event.order_id}",
                event.initial_count, f"yes {event.yes_price} ({event.status})", event.side]
    assert isinstance(event, UnknownMessage)
    return [event.seq, event.type, "", "", "", "", event.error or "", ""]


def _event_line(event: StreamEvent) -> str:
    if isinstance(event, Subscribed):
        return f"subscribed to {event.channel} (sid {event.sid})"
    if isinstance(event, SequenceGap):
        return (f"gap on sid {event.sid}: {event.missed} message(s) lost "
                f"(seq {event.expected} expected, {event.received} received)")
    if isinstance(event, SubscriptionDropped):
        return (f"sid {event.sid} dropped by the server ({event.code} {event.message}); "
                f"subscribing to {event.channel} again, messages were lost")
    if isinstance(event, Reconnected):
        return f"reconnected after {event.attempts} attempt(s): {event.reason}"
    cells = [_text(v) for v in _event_row(event)]
    return "  ".join(f"{name}={cell}" for name, cell in zip(WATCH_COLUMNS, cells, strict=True)
                     if cell not in ("", "-"))


WATCH_COLUMNS = ["seq", "type", "market", "rfq", "quote", "size", "yes / no bid", "side"]


class WatchView:
    """The live table: the latest messages, and the connection's state underneath."""

    def __init__(self, rows: int) -> None:
        self.rows: list[list[Any]] = []
        self.limit = rows
        self.status = "connecting"

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, Subscribed):
            self.status = f"subscribed to {event.channel} (sid {event.sid})"
        elif isinstance(event, SequenceGap):
            self.rows.append(["", "[red]gap[/red]", "", "", "",
                              f"{event.missed} lost", f"seq {event.expected}->{event.received}",
                              ""])
        elif isinstance(event, SubscriptionDropped):
            self.rows.append(["", "[red]dropped[/red]", "", "", "", "",
                              f"{event.code} {event.message}", ""])
        elif isinstance(event, Reconnected):
            self.rows.append(["", "[yellow]reconnected[/yellow]", "", "", "", "",
                              event.reason, ""])
        else:
            self.rows.append(_event_row(event))
        del self.rows[:-self.limit]

    def render(self) -> Table:
        table = _table("communications", WATCH_COLUMNS, self.rows)
        table.caption = self.status
        return table


@app.command()
def watch(
    mine: Annotated[bool, typer.Option(
        "--mine", help="Only RFQ events of your own RFQs (user_filter=self).")] = False,
    count: Annotated[int | None, typer.Option(
        "--count", min=1, show_default=False,
        help="Stop after this many messages (default: run until Ctrl-C).")] = None,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Rows kept in the table.")] = 20,
    channels: Annotated[list[str] | None, typer.Option(
        "--channel", show_default=False,
        help="A channel to stream; repeat for several (default: communications). "
             "fill and user_orders show your own fills and orders.")] = None,
    env: EnvOption = Env.SANDBOX, base_url: BaseUrlOption = None, key_id: KeyIdOption = None,
    private_key: PrivateKeyOption = None, as_: AsOption = Role.REQUESTER,
    data_dir: DataDirOption = DEFAULT_DATA_DIR, as_json: JsonOption = False,
) -> None:
    """Stream the communications channel live (JSON: one object per line).

    The stream reconnects and resubscribes by itself after a dropped connection and reports
    gaps in the message sequence.
    """
    target = Target(env, base_url, key_id, private_key, as_, data_dir, as_json)
    with failures(target), suppress(KeyboardInterrupt):
        asyncio.run(_watch(target, mine, count, rows, tuple(channels or ["communications"])))


async def _watch(target: Target, mine: bool, count: int | None, rows: int,
                 channels: tuple[str, ...]) -> None:
    async with target.async_client() as client:
        subscription = client.subscribe(*channels, user_filter="self" if mine else None)
        seen = 0
        if target.as_json:
            async with subscription:
                async for event in subscription:
                    sys.stdout.write(json.dumps(_plain(_event_json(event))) + "\n")
                    sys.stdout.flush()
                    seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                    if count is not None and seen >= count:
                        return
            return
        if not console.is_interactive:
            # Piped to a file or a log: a redrawn table would only show at exit, so print
            # one line per event instead.
            async with subscription:
                async for event in subscription:
                    console.print(_event_line(event), highlight=False, markup=False)
                    seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                    if count is not None and seen >= count:
                        return
            return
        view = WatchView(rows)
        with Live(view.render(), console=console, auto_refresh=False) as live:
            async with subscription:
                async for event in subscription:
                    view.add(event)
                    live.update(view.render(), refresh=True)
                    seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                    if count is not None and seen >= count:
                        return
