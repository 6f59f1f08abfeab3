"""Where and as whom the trading commands connect: Kalshi's environments, keys, demo accounts.

Every trading command takes the same connection options, declared once here and added to
each command by ``connected``: ``--env``, ``--url`` (``--base-url``, its former name, still
works), ``--key-id``, ``--private-key``,
``--as``, ``--data-dir`` and ``--json``.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer

from kalshi_sandbox.cli.options import JsonOption, err_console
from kalshi_sandbox.client import (
    APIError,
    AsyncKalshiClient,
    Credentials,
    CredentialsError,
    KalshiClient,
    KalshiError,
)
from kalshi_sandbox.client.credentials import DEFAULT_DATA_DIR

Command = Callable[..., None]


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
    "--url", envvar="KALSHI_BASE_URL", rich_help_panel=CONNECTION, show_default=False,
    help="Server root or REST URL (…/trade-api/v2); overrides the --env preset (for the "
         "sandbox, KALSHI_SANDBOX_URL too).")]
BaseUrlAlias = Annotated[str | None, typer.Option(
    "--base-url", hidden=True, show_default=False,
    help="The former name of --url.")]
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


_CONNECTION = (
    ("env", EnvOption, Env.SANDBOX), ("base_url", BaseUrlOption, None),
    ("base_url_alias", BaseUrlAlias, None),
    ("key_id", KeyIdOption, None), ("private_key", PrivateKeyOption, None),
    ("as_", AsOption, None), ("data_dir", DataDirOption, DEFAULT_DATA_DIR),
    ("as_json", JsonOption, False),
)


def connected(role: Role) -> Callable[[Command], Command]:
    """Give a command the connection options; it receives them as one ``target``.

    ``role`` is the demo account ``--as`` defaults to. The command declares a keyword-only
    ``target: Target``; the options appear after its own in ``--help``, as typer reads the
    signature this sets.
    """

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "target"]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint,
                                   default=role if name == "as_" else default)
                 for name, hint, default in _CONNECTION]

        @functools.wraps(command)
        def run(*args: Any, env: Env, base_url: str | None, base_url_alias: str | None,
                key_id: str | None, private_key: str | None, as_: Role, data_dir: str,
                as_json: bool, **kwargs: Any) -> None:
            target = Target(env, base_url or base_url_alias, key_id, private_key, as_,
                            data_dir, as_json)
            command(*args, target=target, **kwargs)

        parameters = [*own, *added]
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return decorate
