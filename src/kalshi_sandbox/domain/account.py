"""Accounts and their API keys; the subaccounts a user may trade from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.errors import InvalidParameters

MAX_SUBACCOUNT = 63
"""Subaccounts are numbered 0 (the primary account) to 63."""


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
