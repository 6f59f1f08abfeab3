"""Control-plane use cases: accounts, keys, balances, markets, reset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from kalshi_sandbox.domain.account import MAX_SUBACCOUNT, Account, ApiKey, communications_id
from kalshi_sandbox.domain.clock import MICROS, Instant
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound
from kalshi_sandbox.domain.market import (
    PRICE_LEVEL_STRUCTURES,
    Market,
    MarketStatus,
    PriceRange,
)
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import RfqCloseReason
from kalshi_sandbox.service.exchange import Exchange
from kalshi_sandbox.service.ids import IdGenerator
from kalshi_sandbox.service.keys import generate_rsa_key, load_public_key
from kalshi_sandbox.service.ports import Transaction

SALT_KEY = "communications_salt"
YEAR = 365 * 86_400 * MICROS


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account with its keys and primary balance."""

    account: Account
    keys: list[ApiKey]
    balance: int


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A freshly created account; ``private_key_pem`` is None if the caller supplied a key."""

    account: Account
    key: ApiKey
    private_key_pem: str | None
    balance: int


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What the control plane needs to create a market; the rest has defaults."""

    ticker: str
    event_ticker: str | None = None
    series_ticker: str | None = None
    title: str | None = None
    subtitle: str = ""
    status: MarketStatus = MarketStatus.ACTIVE
    hvm: bool | None = None
    price_level_structure: str = "linear_cent"
    price_ranges: tuple[PriceRange, ...] | None = None
    open_time: Instant | None = None
    close_time: Instant | None = None
    mve_collection_ticker: str | None = None



async def communications_salt(tx: Transaction, ids: IdGenerator) -> str:
    """Return the database's salt for communications ids, drawing it on first use.

    Drawn from the exchange's ids, so a replay derives the same communications ids.
    """
    salt = await tx.get_meta(SALT_KEY)
    if salt is None:
        salt = ids.token(32)
        await tx.set_meta(SALT_KEY, salt)
    return salt


class Admin:
    """The sandbox operator's powers, applied through the same store and clock."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = exchange.store
        self.clock = exchange.clock
        self._reset_hooks: list[Callable[[], Awaitable[None] | None]] = []
        self.generate_key_pair: Callable[[], tuple[str, str]] = generate_rsa_key
        """Make a (private PEM, public PEM) pair; replaceable, so a replay can repeat keys."""

    def on_reset(self, hook: Callable[[], Awaitable[None] | None]) -> None:
        """Call ``hook`` after every reset (to clear caches, say)."""
        self._reset_hooks.append(hook)

    async def _salt(self, tx: Transaction) -> str:
        return await communications_salt(tx, self.exchange.ids)

    # Accounts ----------------------------------------------------------------------------

    async def create_account(self, name: str, balance: int = 0, *,
                             public_key_pem: str | None = None, key_id: str | None = None,
                             user_id: str | None = None) -> NewAccount:
        """Create an account with one API key, generating an RSA key pair unless given one."""
        if not name.strip():
            raise InvalidParameters("name must not be empty")
        if balance < 0:
            raise InvalidParameters("balance_dollars must not be negative")
        private_pem = None
        if public_key_pem is None:
            private_pem, public_key_pem = self.generate_key_pair()
        else:
            load_public_key(public_key_pem)
        now = self.clock.now()
        ids = self.exchange.ids
        async with self.store.transaction() as tx:
            if key_id is not None and await tx.get_key(key_id) is not None:
                raise Conflict(f"key id {key_id} is already registered")
            uid = user_id or ids.new()
            if await tx.get_account(uid) is not None:
                raise Conflict(f"user id {uid} already exists")
            account = Account(user_id=uid, name=name.strip(),
                              communications_id=communications_id(await self._salt(tx), uid),
                              created_ts=now)
            key = ApiKey(key_id=key_id or ids.new(), user_id=uid,
                         public_key_pem=public_key_pem, created_ts=now)
            await tx.insert_account(account)
            await tx.insert_key(key)
            await tx.set_balance(uid, 0, balance, now)
        return NewAccount(account, key, private_pem, balance)

    async def add_key(self, user_id: str, public_key_pem: str | None = None
                      ) -> tuple[ApiKey, str | None]:
        """Register another key for an account; return it and the private PEM if generated."""
        private_pem = None
        if public_key_pem is None:
            private_pem, public_key_pem = self.generate_key_pair()
        else:
            load_public_key(public_key_pem)
        async with self.store.transaction() as tx:
            if await tx.get_account(user_id) is None:
                raise NotFound(f"account {user_id} not found")
            key = ApiKey(key_id=self.exchange.ids.new(), user_id=user_id,
                         public_key_pem=public_key_pem, created_ts=self.clock.now())
            await tx.insert_key(key)
        return key, private_pem

    async def list_accounts(self) -> list[AccountView]:
        """Return every account with its keys and primary balance."""
        async with self.store.transaction() as tx:
            return [AccountView(a, await tx.keys_of(a.user_id),
                                await tx.get_balance(a.user_id, 0))
                    for a in await tx.list_accounts()]

    async def get_account(self, user_id: str) -> AccountView:
        """Return one account."""
        async with self.store.transaction() as tx:
            account = await tx.get_account(user_id)
            if account is None:
                raise NotFound(f"account {user_id} not found")
            return AccountView(account, await tx.keys_of(user_id),
                               await tx.get_balance(user_id, 0))

    async def set_balance(self, user_id: str, micros: int, subaccount: int = 0) -> int:
        """Set an account's balance (a deposit or withdrawal by the operator)."""
        if micros < 0:
            raise InvalidParameters("balance must not be negative")
        if not 0 <= subaccount <= MAX_SUBACCOUNT:
            raise InvalidParameters(f"subaccount must be between 0 and {MAX_SUBACCOUNT}")
        async with self.store.transaction() as tx:
            if await tx.get_account(user_id) is None:
                raise NotFound(f"account {user_id} not found")
            await tx.set_balance(user_id, subaccount, micros, self.clock.now())
        return micros

    async def identify(self, key_id: str) -> tuple[ApiKey, Account] | None:
        """Return the key and its account, or None if the key id is unknown."""
        async with self.store.transaction() as tx:
            key = await tx.get_key(key_id)
            if key is None:
                return None
            account = await tx.get_account(key.user_id)
        return None if account is None else (key, account)

    # Markets -----------------------------------------------------------------------------

    async def create_market(self, spec: MarketSpec) -> Market:
        """Create a market; HVM defaults to true for combo (multivariate) markets."""
        ticker = spec.ticker.strip()
        if not ticker:
            raise InvalidParameters("ticker must not be empty")
        ranges = spec.price_ranges
        if ranges is None:
            ranges = PRICE_LEVEL_STRUCTURES.get(spec.price_level_structure)
            if ranges is None:
                known = ", ".join(sorted(PRICE_LEVEL_STRUCTURES))
                raise InvalidParameters(
                    f"unknown price_level_structure {spec.price_level_structure!r}; give "
                    f"price_ranges or use one of: {known}"
                )
        _check_ranges(ranges)
        now = self.clock.now()
        event = spec.event_ticker or (ticker.rsplit("-", 1)[0] if "-" in ticker else ticker)
        series = spec.series_ticker or event.split("-", 1)[0]
        hvm = spec.hvm
        if hvm is None:
            hvm = spec.mve_collection_ticker is not None or ticker.startswith("KXMVE")
        market = Market(
            ticker=ticker, event_ticker=event, series_ticker=series,
            title=spec.title or ticker, subtitle=spec.subtitle, status=spec.status, hvm=hvm,
            price_level_structure=spec.price_level_structure, price_ranges=ranges,
            open_time=spec.open_time if spec.open_time is not None else now - 86_400 * MICROS,
            close_time=spec.close_time if spec.close_time is not None else now + YEAR,
            created_ts=now, updated_ts=now, mve_collection_ticker=spec.mve_collection_ticker,
        )
        async with self.store.transaction() as tx:
            if await tx.get_market(ticker) is not None:
                raise Conflict(f"market {ticker} already exists")
            await tx.insert_market(market)
        return market

    async def list_markets(self) -> list[Market]:
        """Return every market."""
        async with self.store.transaction() as tx:
            return await tx.list_markets(MarketQuery(limit=1_000_000))

    async def update_market(self, ticker: str, *, status: MarketStatus | None = None,
                            hvm: bool | None = None, result: str | None = None) -> Market:
        """Change a market; leaving ``active`` closes its open RFQs (reason market_closed)."""
        async with self.exchange.work() as w:
            market = await w.tx.get_market(ticker)
            if market is None:
                raise NotFound(f"market {ticker} not found")
            changed = replace(
                market,
                status=status if status is not None else market.status,
                hvm=hvm if hvm is not None else market.hvm,
                result=result if result is not None else market.result,
                updated_ts=w.now,
            )
            await w.tx.update_market(changed)
            if not changed.tradable:
                for rfq in await w.tx.open_rfqs_on(ticker):
                    if not await w.tx.quotes_of_rfq(rfq.id, (QuoteStatus.CONFIRMED,)):
                        await self.exchange.close_rfq(w, rfq, RfqCloseReason.MARKET_CLOSED)
        return changed

    # Reset -------------------------------------------------------------------------------

    async def reset(self) -> None:
        """Delete every account, market, RFQ, quote, order and timer."""
        await self.store.wipe()
        for hook in self._reset_hooks:
            result = hook()
            if result is not None:
                await result


def _check_ranges(ranges: tuple[PriceRange, ...]) -> None:
    if not ranges:
        raise InvalidParameters("price_ranges must not be empty")
    for band in ranges:
        if not (0 <= band.start < band.end <= 10_000 and band.step > 0):
            raise InvalidParameters("each price range needs 0 <= start < end <= 1 and step > 0")
