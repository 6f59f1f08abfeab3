"""Accounts and their API keys; the subaccounts a user may trade from."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.errors import InvalidParameters

MAX_SUBACCOUNT = 63
"""Subaccounts are numbered 0 (the primary account) to 63."""
MAX_NAME = 64
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""An account's name: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit,
so that it is safe as a file name (the demo seed keeps keys as ``<name>.pem``)."""


def check_account_name(name: object) -> str:
    """Return ``name`` if it is a valid account name; refuse it otherwise."""
    if not isinstance(name, str) or not ACCOUNT_NAME.fullmatch(name):
        raise InvalidParameters(f"name must be 1-{MAX_NAME} letters, digits, '_', '.' or '-', "
                                "starting with a letter or digit")
    return name


def check_subaccount(subaccount: int) -> None:
    """Refuse a subaccount number outside 0..63."""
    if not 0 <= subaccount <= MAX_SUBACCOUNT:
        raise InvalidParameters(f"subaccount must be between 0 and {MAX_SUBACCOUNT}")


def communications_id(salt: str, user_id: str) -> str:
    """Derive the public, pseudonymous communications id of a user (docs/behaviour.md)."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Account:
    """A sandbox user: a private ``user_id`` and a public ``communications_id``."""

    user_id: str
    name: str
    communications_id: str
    created_ts: Instant


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An RSA public key registered for an account."""

    key_id: str
    user_id: str
    public_key_pem: str
    created_ts: Instant
