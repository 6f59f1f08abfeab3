"""Kalshi's request signing, verified (docs/behaviour.md, "Authentication").

A request carries ``KALSHI-ACCESS-KEY``, ``KALSHI-ACCESS-TIMESTAMP`` (milliseconds) and
``KALSHI-ACCESS-SIGNATURE`` (base64 RSA-PSS/SHA-256 over timestamp + METHOD + path, the path
as sent on the wire, without the query string). Failures answer 401 with the bodies Kalshi
sends. An unknown key id, a signature that is not base64 and one that does not verify get one
and the same answer, so a caller cannot learn which key ids exist; with ``verbose`` (the
``verbose_auth`` setting, for local debugging) the answer says which it was, and for a
signature that does not verify tries the usual mistakes and says which one was made, since
signing the wrong string is the commonest failure.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kalshi_sandbox.domain.clock import Clock
from kalshi_sandbox.domain.errors import SignatureMissing, TimestampExpired, Unauthorized
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.keys import PublicKey, load_public_key

KEY_HEADER = "kalshi-access-key"
SIGNATURE_HEADER = "kalshi-access-signature"
TIMESTAMP_HEADER = "kalshi-access-timestamp"

_KEY_HEADER_BYTES = KEY_HEADER.encode()
_SIGNATURE_HEADERS = {name.encode(): name for name in (KEY_HEADER, SIGNATURE_HEADER,
                                                       TIMESTAMP_HEADER)}

BAD_SIGNATURE = "INCORRECT_API_KEY_SIGNATURE"
"""The ``details`` of every signature refusal, unknown key ids included, unless verbose."""

_PSS_AUTO = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
_SHA256 = hashes.SHA256()


@dataclass(frozen=True, slots=True)
class Credential:
    """A verified key: its public key and the account acting through it."""

    key_id: str
    public_key: PublicKey
    actor: Actor
    is_rsa: bool = True
    """Decided once: asking on every request means an abstract-class check each time."""


def signature_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Return the signature headers among an ASGI scope's ``raw`` (lower-case) headers.

    The first of each, as Starlette's ``Headers.get`` would find it, read in one pass
    instead of a pass per header.
    """
    found: dict[str, str] = {}
    for name, value in raw:
        key = _SIGNATURE_HEADERS.get(name)
        if key is not None and key not in found:
            found[key] = value.decode("latin-1")
    return found


def scope_header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """Return the first ASGI header ``name`` (lower-case bytes) of ``scope``, or None."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def key_id_of(scope: Mapping[str, Any]) -> str | None:
    """Return the request's ``KALSHI-ACCESS-KEY`` header, unverified, or None."""
    return scope_header(scope, _KEY_HEADER_BYTES)


def verify(public_key: PublicKey, signature: bytes, message: bytes,
           is_rsa: bool | None = None) -> bool:
    """Return True if ``signature`` signs ``message`` (RSA-PSS with any salt, or Ed25519)."""
    if is_rsa is None:
        is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    try:
        if is_rsa:
            cast(rsa.RSAPublicKey, public_key).verify(signature, message, _PSS_AUTO, _SHA256)
        else:
            cast(ed25519.Ed25519PublicKey, public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


class Authenticator:
    """Verifies signed requests; caches public keys by key id."""

    def __init__(self, accounts: Accounts, clock: Clock, past_tolerance_ms: int,
                 future_tolerance_ms: int, *, verbose: bool = False) -> None:
        self.accounts = accounts
        self.clock = clock
        self.past_ms = past_tolerance_ms
        self.future_ms = future_tolerance_ms
        self.verbose = verbose
        self._cache: dict[str, Credential] = {}

    def clear(self) -> None:
        """Forget cached keys (after a reset)."""
        self._cache.clear()

    async def credential(self, key_id: str) -> Credential | None:
        """Return the cached or stored credential of ``key_id``."""
        credential = self._cache.get(key_id)
        if credential is None:
            found = await self.accounts.identify(key_id)
            if found is None:
                return None
            key, account = found
            public_key = load_public_key(key.public_key_pem)
            credential = Credential(
                key_id, public_key, Actor(account.user_id, account.communications_id),
                is_rsa=isinstance(public_key, rsa.RSAPublicKey),
            )
            self._cache[key_id] = credential
        return credential

    async def authenticate(self, headers: Mapping[str, str], method: str, raw_path: str,
                           query: str = "") -> Actor:
        """Return the actor of a correctly signed request, or raise ``Unauthorized``."""
        key_id = headers.get(KEY_HEADER)
        signature_text = headers.get(SIGNATURE_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        if not key_id:
            raise Unauthorized("KALSHI-ACCESS-KEY header is missing: send your API key id")
        if not signature_text:
            raise SignatureMissing()
        if not timestamp:
            raise Unauthorized(
                "KALSHI-ACCESS-TIMESTAMP header is missing: send the current time in "
                "milliseconds since the epoch"
            )
        # isdigit() alone admits non-ASCII digits such as '²' that int() rejects.
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise Unauthorized(
                f"KALSHI-ACCESS-TIMESTAMP must be an integer number of milliseconds, "
                f"got {timestamp!r}"
            )
        if len(timestamp) > 30:
            # Far past any instant; int() and float() would fail on thousands of digits.
            raise TimestampExpired(f"timestamp has {len(timestamp)} digits; send the "
                                   "milliseconds since the epoch (13 digits)")
        stamp = int(timestamp)
        now_ms = self.clock.now() // 1000
        if not now_ms - self.past_ms <= stamp <= now_ms + self.future_ms:
            hint = ""
            if stamp < 10**11:
                hint = "; it looks like seconds, but Kalshi expects milliseconds"
            raise TimestampExpired(
                f"timestamp {stamp} is {(stamp - now_ms) / 1000:+.1f}s from server time "
                f"{now_ms}; accepted window is -{self.past_ms / 1000:g}s/"
                f"+{self.future_ms / 1000:g}s{hint}"
            )
        credential = await self.credential(key_id)
        if credential is None:
            raise Unauthorized("NOT_FOUND") if self.verbose else Unauthorized(BAD_SIGNATURE)
        try:
            signature = base64.b64decode(signature_text, validate=True)
        except (binascii.Error, ValueError) as exc:
            if not self.verbose:
                raise Unauthorized(BAD_SIGNATURE) from None
            raise Unauthorized(
                f"{BAD_SIGNATURE}: KALSHI-ACCESS-SIGNATURE is not standard base64"
            ) from exc
        message = f"{timestamp}{method}{raw_path}".encode()
        if not verify(credential.public_key, signature, message, credential.is_rsa):
            if not self.verbose:
                raise Unauthorized(BAD_SIGNATURE)
            raise Unauthorized(_diagnose(credential.public_key, signature, timestamp, method,
                                         raw_path, query))
        return credential.actor


def _diagnose(public_key: PublicKey, signature: bytes, timestamp: str, method: str,
              path: str, query: str) -> str:
    """Explain a bad signature by trying the messages people sign by mistake."""
    expected = f"{timestamp}{method}{path}"
    base = f"{BAD_SIGNATURE}: sign the string {expected!r} (timestamp + METHOD + path)"
    candidates: list[tuple[str, str]] = []
    if query:
        candidates.append((f"{expected}?{query}", "you included the query string; leave it out"))
    for prefix in ("/trade-api/v2", "/trade-api/ws/v2"):
        if path.startswith(prefix):
            candidates.append((f"{timestamp}{method}{path[len(prefix):]}",
                               f"you left out the {prefix} prefix; sign the full path"))
    candidates.append((f"{timestamp}{method.lower()}{path}", "the method must be upper case"))
    if path.endswith("/"):
        candidates.append((f"{timestamp}{method}{path.rstrip('/')}",
                           "you signed the path without its trailing slash"))
    else:
        candidates.append((f"{timestamp}{method}{path}/",
                           "you signed the path with a trailing slash it does not have"))
    for message, mistake in candidates:
        if verify(public_key, signature, message.encode()):
            return f"{base}; {mistake}"
    if isinstance(public_key, rsa.RSAPublicKey):
        try:
            public_key.verify(signature, expected.encode(), padding.PKCS1v15(), _SHA256)
        except (InvalidSignature, ValueError):
            pass
        else:
            return f"{base}; you used PKCS#1 v1.5 padding, Kalshi requires RSA-PSS"
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        return (f"{base}, RSA-PSS with SHA-256 and MGF1-SHA-256, with the key registered "
                "for this key id")
    return f"{base}, with the key registered for this key id"
