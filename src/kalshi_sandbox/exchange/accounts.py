"""Accounts of the emulated exchange: users, their API keys and their balances.

Kalshi has no endpoint for these; in the sandbox the operator creates them (the control plane,
the demo seed) and so do the built-in counterparties. Authentication looks keys up here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kalshi_sandbox.domain.account import (
    Account,
    ApiKey,
    check_account_name,
    check_subaccount,
    communications_id,
)
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.keys import generate_rsa_key, load_public_key
from kalshi_sandbox.exchange.ports import Transaction

SALT_KEY = "communications_salt"


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


async def communications_salt(tx: Transaction, ids: IdGenerator) -> str:
    """Return the database's salt for communications ids, drawing it on first use.

    Drawn from the exchange's ids, so a replay derives the same communications ids.
    """
    salt = await tx.get_meta(SALT_KEY)
    if salt is None:
        salt = ids.token(32)
        await tx.set_meta(SALT_KEY, salt)
    return salt


class Accounts:
    """Users of the exchange: create them, give them keys and balances, look keys up."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = exchange.store
        self.clock = exchange.clock
        self.generate_key_pair: Callable[[], tuple[str, str]] = generate_rsa_key
        """Make a (private PEM, public PEM) pair; replaceable, so a replay can repeat keys."""

    async def _salt(self, tx: Transaction) -> str:
        return await communications_salt(tx, self.exchange.ids)

    async def create_account(self, name: str, balance: int = 0, *,
                             public_key_pem: str | None = None, key_id: str | None = None,
                             user_id: str | None = None) -> NewAccount:
        """Create an account with one API key, generating an RSA key pair unless given one."""
        name = check_account_name(name)
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
            account = Account(user_id=uid, name=name,
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
        check_subaccount(subaccount)
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


__all__ = ["SALT_KEY", "AccountView", "Accounts", "NewAccount", "communications_salt"]
