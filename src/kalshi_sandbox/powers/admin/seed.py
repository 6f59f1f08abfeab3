"""The demo data ``serve`` seeds into an empty database: three markets and two funded accounts.

The accounts' private keys are written to ``<data dir>/keys/<name>.pem`` and listed in
``<data dir>/demo-accounts.json`` (the manifest), which the trading CLI's ``--as`` reads. A
later seed (after a reset) reuses the keys on disk, so the demo credentials stay the same.

The journal gets the accounts and keys, so a replay seeds the same ones: a line of its own at
start-up, part of the reset request's line otherwise. Files are written only inside the data
directory, under fixed names (``keys/requester.pem``, ``keys/maker.pem``): a journal replayed
from elsewhere cannot name a file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kalshi_sandbox.domain.money import parse_dollars
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.combos import CollectionSpec, Combos
from kalshi_sandbox.exchange.keys import public_pem_of
from kalshi_sandbox.exchange.markets import Markets, MarketSpec
from kalshi_sandbox.powers.state.files import DataDir, FileRefused
from kalshi_sandbox.powers.state.journal import Journal, current_record

DEMO_MARKETS = (
    MarketSpec(ticker="KXSANDBOX-26DEC31-T50", title="Will the sandbox index close above 50?",
               subtitle="Above 50", price_level_structure="linear_cent",
               event_title="Sandbox index on Dec 31, 2026", series_title="Sandbox index",
               category="Economics"),
    MarketSpec(ticker="KXSANDBOXHVM-26DEC31-B100", title="Sandbox high-volatility market",
               subtitle="Between 100 and 101", hvm=True,
               price_level_structure="tapered_deci_cent",
               event_title="Sandbox volatile index on Dec 31, 2026",
               series_title="Sandbox volatile index", category="Economics"),
    MarketSpec(ticker="KXSANDBOXFINE-26DEC31-T25", title="Sandbox sub-penny market",
               subtitle="Above 25", price_level_structure="deci_cent",
               event_title="Sandbox fine index on Dec 31, 2026",
               series_title="Sandbox fine index", category="Economics"),
)
DEMO_COLLECTION = CollectionSpec(
    collection_ticker="KXMVESANDBOX", title="Sandbox combos",
    description="Combine the sandbox index markets",
    associated_events=tuple(m.ticker.rsplit("-", 1)[0] for m in DEMO_MARKETS),
    size_min=2, size_max=3)
"""A combo collection over the demo events: ``POST /multivariate_event_collections/
KXMVESANDBOX`` makes a combo market of their legs."""
DEMO_ACCOUNTS = ("requester", "maker")
MANIFEST = "demo-accounts.json"
KEYS = "keys"
MANIFEST_LIMIT = 1 << 20
"""Largest manifest or key file the seed reads."""


@dataclass
class DemoAccount:
    """A seeded account whose private key lives in the data directory."""

    name: str
    user_id: str
    key_id: str
    key_path: str
    balance_dollars: str


def load_manifest(data_dir: Path) -> list[DemoAccount]:
    """Read the demo accounts written by an earlier seed, if any (blocking)."""
    try:
        data = json.loads(DataDir(data_dir).read_parts((MANIFEST,), MANIFEST_LIMIT))
        return [DemoAccount(**item) for item in data if item.get("name") in DEMO_ACCOUNTS]
    except (FileRefused, ValueError, TypeError, AttributeError):
        return []


class DemoSeed:
    """Seeds the demo markets and accounts into the sandbox it is wired to.

    Keys and the manifest are written through ``DataDir`` (powers/state/files.py): only as
    ``<data dir>/keys/<name>.pem`` for the names of ``DEMO_ACCOUNTS``, never through a link.
    """

    def __init__(self, accounts: Accounts, markets: Markets, journal: Journal, data_dir: Path,
                 balance_dollars: str) -> None:
        self.accounts = accounts
        self.markets = markets
        self.journal = journal
        self.data_dir = data_dir
        self.files = DataDir(data_dir)
        self.balance_dollars = balance_dollars
        self.demo: list[DemoAccount] = []

    def load(self) -> None:
        """Take the demo accounts from the manifest (a database seeded earlier)."""
        self.demo = load_manifest(self.data_dir)

    async def seed(self) -> dict[str, Any]:
        """Create the demo markets and accounts, reusing demo keys already on disk.

        Outside a request, the seed is journaled as a ``seed`` entry of its own.
        """
        if current_record() is not None:
            return await self._seed()
        result: dict[str, Any] = {}

        async def work() -> None:
            result.update(await self._seed())

        await self.journal.recorded("seed", work)
        return result

    async def prepare(self, accounts: Sequence[Mapping[str, Any]]) -> None:
        """Lay out a journaled seed's demo keys, so seeding here repeats what it did there.

        Keys the seed found on disk are written back with the manifest; keys it generated
        are left out, so the seed generates them again (from the replay's recorded keys).
        Names other than the demo accounts' are ignored: a journal names no file.
        """
        manifest = []
        for item in accounts:
            name = item.get("name") if isinstance(item, Mapping) else None
            if name not in DEMO_ACCOUNTS or not item.get("reused_key"):
                continue
            assert isinstance(name, str)
            await self._write_key(name, str(item.get("private_key_pem", "")))
            manifest.append(asdict(DemoAccount(
                name, str(item.get("user_id")), str(item.get("key_id")), self._key_path(name),
                str(item.get("balance_dollars")))))
        await self._write(MANIFEST, json.dumps(manifest, indent=2).encode())

    def _key_path(self, name: str) -> str:
        return str(self.data_dir / KEYS / f"{name}.pem")

    async def _read_key(self, name: str) -> str | None:
        try:
            data = await asyncio.to_thread(self.files.read_parts, (KEYS, f"{name}.pem"),
                                           MANIFEST_LIMIT)
            private_pem = data.decode()
            public_pem_of(private_pem)
        except Exception:  # missing, not a file, not a key: generate a new one
            return None
        return private_pem

    async def _write_key(self, name: str, private_pem: str) -> None:
        await self._write(KEYS, private_pem.encode(), name=f"{name}.pem")

    async def _write(self, first: str, data: bytes, *, name: str | None = None) -> None:
        parts = (first,) if name is None else (first, name)
        await asyncio.to_thread(self.files.write_parts, parts, data)

    async def _seed(self) -> dict[str, Any]:
        for spec in DEMO_MARKETS:
            await self.markets.create_market(spec)
        await Combos(self.markets).create_collection(DEMO_COLLECTION)
        balance = parse_dollars(self.balance_dollars)
        previous = {d.name: d for d in await asyncio.to_thread(load_manifest, self.data_dir)}
        # Noted before each account is created, so a crash right after its commit leaves
        # the journal what a replay needs.
        noted: list[dict[str, Any]] = []
        self.journal.note("seed", noted)
        demo = []
        for name in DEMO_ACCOUNTS:
            old = previous.get(name)
            private_pem = None if old is None else await self._read_key(name)
            item: dict[str, Any] = {"name": name, "balance_dollars": self.balance_dollars}
            noted.append(item)
            if old is not None and private_pem is not None:
                item.update(user_id=old.user_id, key_id=old.key_id, reused_key=True,
                            private_key_pem=private_pem)
                created = await self.accounts.create_account(
                    name, balance, public_key_pem=public_pem_of(private_pem),
                    key_id=old.key_id, user_id=old.user_id)
            else:
                item["reused_key"] = False
                created = await self.accounts.create_account(name, balance)
                assert created.private_key_pem is not None
                await self._write_key(name, created.private_key_pem)
                item.update(user_id=created.account.user_id, key_id=created.key.key_id)
            demo.append(DemoAccount(name, created.account.user_id, created.key.key_id,
                                    self._key_path(name), self.balance_dollars))
        self.demo = demo
        await self._write(MANIFEST, json.dumps([asdict(d) for d in demo], indent=2).encode())
        return {"markets": [m.ticker for m in DEMO_MARKETS],
                "accounts": [asdict(d) for d in demo]}


__all__ = ["DEMO_ACCOUNTS", "DEMO_MARKETS", "KEYS", "MANIFEST", "DemoAccount", "DemoSeed",
           "load_manifest"]
