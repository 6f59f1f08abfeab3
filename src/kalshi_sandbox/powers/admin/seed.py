"""The demo data ``serve`` seeds into an empty database: three markets and two funded accounts.

The accounts' private keys are written to ``<data dir>/keys/<name>.pem`` and listed in
``<data dir>/demo-accounts.json`` (the manifest), which the trading CLI's ``--as`` reads. A
later seed (after a reset) reuses the keys on disk, so the demo credentials stay the same.

The journal gets the accounts and keys, so a replay seeds the same ones: a line of its own at
start-up, part of the reset request's line otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kalshi_sandbox.domain.money import parse_dollars
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.keys import public_pem_of
from kalshi_sandbox.exchange.markets import Markets, MarketSpec
from kalshi_sandbox.powers.state.journal import Journal, Record, current_record, set_record

DEMO_MARKETS = (
    MarketSpec(ticker="KXSANDBOX-26DEC31-T50", title="Will the sandbox index close above 50?",
               subtitle="Above 50", price_level_structure="linear_cent"),
    MarketSpec(ticker="KXSANDBOXHVM-26DEC31-B100", title="Sandbox high-volatility market",
               subtitle="Between 100 and 101", hvm=True,
               price_level_structure="tapered_deci_cent"),
    MarketSpec(ticker="KXSANDBOXFINE-26DEC31-T25", title="Sandbox sub-penny market",
               subtitle="Above 25", price_level_structure="deci_cent"),
)
DEMO_ACCOUNTS = ("requester", "maker")
MANIFEST = "demo-accounts.json"


@dataclass
class DemoAccount:
    """A seeded account whose private key lives in the data directory."""

    name: str
    user_id: str
    key_id: str
    key_path: str
    balance_dollars: str


def load_manifest(data_dir: Path) -> list[DemoAccount]:
    """Read the demo accounts written by an earlier seed, if any."""
    path = data_dir / MANIFEST
    if not path.exists():
        return []
    try:
        return [DemoAccount(**item) for item in json.loads(path.read_text())]
    except (ValueError, TypeError):
        return []


class DemoSeed:
    """Seeds the demo markets and accounts into the sandbox it is wired to."""

    def __init__(self, accounts: Accounts, markets: Markets, journal: Journal, data_dir: Path,
                 balance_dollars: str) -> None:
        self.accounts = accounts
        self.markets = markets
        self.journal = journal
        self.data_dir = data_dir
        self.balance_dollars = balance_dollars
        self.demo: list[DemoAccount] = []

    def load(self) -> None:
        """Take the demo accounts from the manifest (a database seeded earlier)."""
        self.demo = load_manifest(self.data_dir)

    async def seed(self) -> dict[str, Any]:
        """Create the demo markets and accounts, reusing demo keys already on disk."""
        own = Record("seed") if current_record() is None else None
        undo = set_record(own) if own is not None else None
        keys: dict[str, tuple[bool, str]] = {}
        try:
            result = await self._seed(keys)
        finally:
            if undo is not None:
                undo()
        accounts = [{"name": d.name, "user_id": d.user_id, "key_id": d.key_id,
                     "balance_dollars": d.balance_dollars, "reused_key": keys[d.name][0],
                     "private_key_pem": keys[d.name][1]} for d in self.demo]
        if own is not None:
            self.journal.seeded(accounts, own)
        else:
            self.journal.note("seed", accounts)
        return result

    def prepare(self, accounts: Sequence[Mapping[str, Any]]) -> None:
        """Lay out a journaled seed's demo keys, so seeding here repeats what it did there.

        Keys the seed found on disk are written back with the manifest; keys it generated
        are left out, so the seed generates them again (from the replay's recorded keys).
        """
        keys_dir = self.data_dir / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        manifest = []
        for item in accounts:
            if item.get("reused_key"):
                path = keys_dir / f"{item['name']}.pem"
                path.write_text(str(item["private_key_pem"]))
                os.chmod(path, 0o600)
                manifest.append(asdict(DemoAccount(
                    str(item["name"]), str(item["user_id"]), str(item["key_id"]), str(path),
                    str(item["balance_dollars"]))))
        (self.data_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))

    async def _seed(self, keys: dict[str, tuple[bool, str]]) -> dict[str, Any]:
        for spec in DEMO_MARKETS:
            await self.markets.create_market(spec)
        balance = parse_dollars(self.balance_dollars)
        previous = {d.name: d for d in load_manifest(self.data_dir)}
        keys_dir = self.data_dir / "keys"
        keys_dir.mkdir(parents=True, exist_ok=True)
        demo = []
        for name in DEMO_ACCOUNTS:
            path = keys_dir / f"{name}.pem"
            old = previous.get(name)
            if old is not None and path.exists():
                private_pem = path.read_text()
                created = await self.accounts.create_account(
                    name, balance, public_key_pem=public_pem_of(private_pem),
                    key_id=old.key_id, user_id=old.user_id)
                keys[name] = (True, private_pem)
            else:
                created = await self.accounts.create_account(name, balance)
                assert created.private_key_pem is not None
                path.write_text(created.private_key_pem)
                os.chmod(path, 0o600)
                keys[name] = (False, created.private_key_pem)
            demo.append(DemoAccount(name, created.account.user_id, created.key.key_id,
                                    str(path), self.balance_dollars))
        self.demo = demo
        (self.data_dir / MANIFEST).write_text(json.dumps([asdict(d) for d in demo], indent=2))
        return {"markets": [m.ticker for m in DEMO_MARKETS],
                "accounts": [asdict(d) for d in demo]}


__all__ = ["DEMO_ACCOUNTS", "DEMO_MARKETS", "MANIFEST", "DemoAccount", "DemoSeed",
           "load_manifest"]
