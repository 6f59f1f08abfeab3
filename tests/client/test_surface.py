"""The client's public surface is explicit and pinned; trading commands use only the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kalshi_sandbox.client
import kalshi_sandbox.client.messages

CLIENT_ALL = [
    "APIError", "AccountLimits", "AsyncKalshiClient", "AuthenticationError", "BadRequestError",
    "Balance", "BlockTradeProposal", "BucketLimit", "ConflictError", "Credentials",
    "CredentialsError", "DEMO",
    "DataMessage", "EndpointCosts", "Environment", "EventPosition", "ExchangeStatus", "Fill",
    "FillMessage",
    "InsufficientBalanceError", "InvalidParametersError", "KalshiAuth", "KalshiClient",
    "KalshiConnectionError", "KalshiError", "Market", "MveSelectedLeg", "NotFoundError",
    "Order", "PRODUCTION", "Page", "PermissionDeniedError", "Position", "PositionsPage",
    "PriceRange", "PrivateKey", "Quote", "QuoteAccepted", "QuoteCreated", "QuoteExecuted",
    "QuoteExpiredError", "QuoteStatus", "RateLimitError", "Reconnected", "Rfq",
    "RfqClosedError", "RfqCreated", "RfqDeleted", "RfqStatus", "SANDBOX", "SequenceGap",
    "ServerError", "Side", "StreamError", "StreamEvent", "StreamMessage", "Subscribed",
    "Subscription", "SubscriptionDropped", "UnexpectedResponseError", "UnknownMessage",
    "UserOrderMessage", "load_private_key", "resolve_environment", "sign_request",
    "signing_message",
    # Orders and market data.
    "CancelResult", "Candlestick", "DecreaseResult", "LiveBook", "MarketPositionMessage",
    "OrderBook", "OrderGroup", "OrderResult", "OrderSpec", "OrderbookDelta",
    "OrderbookSnapshot", "QueuePosition", "TickerMessage", "Trade", "TradeMessage",
]
"""``kalshi_sandbox.client.__all__``; change it here when the public surface changes."""

SRC = Path(kalshi_sandbox.client.__file__).parent.parent


def test_client_all_is_the_pinned_list_and_every_name_exists() -> None:
    assert sorted(kalshi_sandbox.client.__all__) == sorted(CLIENT_ALL)
    for name in CLIENT_ALL:
        assert getattr(kalshi_sandbox.client, name) is not None, name


def test_every_public_class_and_function_of_the_client_has_a_docstring() -> None:
    for name in CLIENT_ALL:
        value = getattr(kalshi_sandbox.client, name)
        if isinstance(value, type) or (callable(value) and hasattr(value, "__module__")):
            assert getattr(value, "__doc__", None), name
        if isinstance(value, type):
            for attr, member in vars(value).items():
                if not attr.startswith("_") and callable(member):
                    assert member.__doc__, f"{name}.{attr}"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


TRADING_MODULES = ("trade.py", "orders.py", "ladder.py", "watch.py", "connection.py",
                   "output.py", "options.py")
"""The trading commands and what they share; none may reach the server."""


@pytest.mark.parametrize("name", TRADING_MODULES)
def test_trading_commands_import_only_the_client_and_the_cli_package(name: str) -> None:
    modules = {m for m in _imports(SRC / "cli" / name) if m.startswith("kalshi_sandbox")}
    assert modules
    outside = {m for m in modules
               if not m.startswith("kalshi_sandbox.client")
               and m.removeprefix("kalshi_sandbox.cli.").removesuffix(".py") + ".py"
               not in TRADING_MODULES}
    assert outside == set()


def test_client_modules_import_nothing_of_the_server() -> None:
    for path in (SRC / "client").glob("*.py"):
        modules = {m for m in _imports(path) if m.startswith("kalshi_sandbox")}
        assert all(m.startswith("kalshi_sandbox.client") for m in modules), (path, modules)
