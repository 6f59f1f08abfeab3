"""API credentials from arguments, the environment, or a sandbox's demo accounts.

The conventional environment variables are ``KALSHI_API_KEY_ID`` and
``KALSHI_PRIVATE_KEY_PATH``; ``KALSHI_PRIVATE_KEY`` may hold the PEM text itself (handy in
CI secrets), and ``KALSHI_PRIVATE_KEY_PATH`` may too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kalshi_sandbox.client.auth import KalshiAuth, KeySource, PrivateKey, load_private_key

KEY_ID_ENV = "KALSHI_API_KEY_ID"
KEY_PATH_ENV = "KALSHI_PRIVATE_KEY_PATH"
KEY_PEM_ENV = "KALSHI_PRIVATE_KEY"
DEMO_MANIFEST = "demo-accounts.json"
DEFAULT_DATA_DIR = ".kalshi-sandbox"


class CredentialsError(ValueError):
    """Credentials are missing, incomplete or unreadable."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key id and its private key."""

    key_id: str
    private_key: PrivateKey

    @classmethod
    def load(cls, key_id: str, private_key: KeySource) -> Credentials:
        """Load ``private_key`` (a key, PEM text or a file path) for ``key_id``."""
        try:
            return cls(key_id, load_private_key(private_key))
        except ValueError as exc:
            raise CredentialsError(str(exc)) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials | None:
        """Read the conventional variables; return None if neither is set.

        Raise :class:`CredentialsError` if only one half of the pair is set.
        """
        environ = os.environ if environ is None else environ
        key_id = environ.get(KEY_ID_ENV, "").strip()
        key = environ.get(KEY_PEM_ENV, "").strip() or environ.get(KEY_PATH_ENV, "").strip()
        if not key_id and not key:
            return None
        if not key_id:
            raise CredentialsError(f"{KEY_PATH_ENV} (or {KEY_PEM_ENV}) is set but "
                                   f"{KEY_ID_ENV} is not")
        if not key:
            raise CredentialsError(f"{KEY_ID_ENV} is set but neither {KEY_PATH_ENV} nor "
                                   f"{KEY_PEM_ENV} is")
        return cls.load(key_id, key)

    @classmethod
    def resolve(cls, key_id: str | None = None, private_key: KeySource | None = None, *,
                use_env: bool = True) -> Credentials | None:
        """Use the arguments if given, else the environment; None when there are none."""
        if key_id is not None or private_key is not None:
            if key_id is None or private_key is None:
                raise CredentialsError("give both key_id and private_key")
            return cls.load(key_id, private_key)
        return cls.from_env() if use_env else None

    @classmethod
    def sandbox_demo(cls, name: str = "requester",
                     data_dir: str | Path = DEFAULT_DATA_DIR) -> Credentials:
        """Load a demo account that ``kalshi-sandbox serve`` seeded into ``data_dir``."""
        directory = Path(data_dir)
        manifest = directory / DEMO_MANIFEST
        try:
            accounts = json.loads(manifest.read_text())
        except OSError:
            raise CredentialsError(
                f"no credentials given and no demo accounts at {manifest}: pass --key-id and "
                f"--private-key, set {KEY_ID_ENV} and {KEY_PATH_ENV}, or start the sandbox "
                "with `kalshi-sandbox serve` (it seeds demo accounts)") from None
        except ValueError as exc:
            raise CredentialsError(f"{manifest} is not valid JSON: {exc}") from None
        for account in accounts if isinstance(accounts, list) else []:
            if isinstance(account, dict) and account.get("name") == name:
                key_path = Path(str(account["key_path"]))
                if not key_path.exists():
                    key_path = directory / "keys" / key_path.name
                return cls.load(str(account["key_id"]), key_path)
        names = ", ".join(str(a.get("name")) for a in accounts if isinstance(a, dict))
        raise CredentialsError(f"no demo account named {name!r} in {manifest} "
                               f"(found: {names or 'none'})")

    def auth(self) -> KalshiAuth:
        """Return an ``httpx.Auth`` that signs with these credentials."""
        return KalshiAuth(self.key_id, self.private_key)
