"""Kalshi request signing as an ``httpx.Auth`` (https://docs.kalshi.com/getting_started/api_keys).

Kalshi authenticates each request by three headers: the API key id, the time in milliseconds,
and a base64 RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) signature over
``timestamp + METHOD + path``, where the path is the URL path from the host root (with the
``/trade-api/v2`` prefix) and without the query string. The WebSocket handshake signs
``timestamp + "GET" + "/trade-api/ws/v2"`` the same way.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Generator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
"""A private key Kalshi accepts: RSA (the usual kind) or Ed25519."""

KeySource = PrivateKey | str | bytes | Path
"""A private key, its PEM text (str or bytes), or the path of a PEM file."""

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_PEM_MARKER = "-----BEGIN"


def load_private_key(pem: KeySource) -> PrivateKey:
    """Load an RSA or Ed25519 private key from PEM text, PEM bytes or a file path.

    A ``str`` holding PEM text is read as the key itself; any other ``str`` is a file path.
    """
    if isinstance(pem, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return pem
    if isinstance(pem, str) and _PEM_MARKER not in pem:
        pem = Path(pem).expanduser()
    if isinstance(pem, Path):
        try:
            data = pem.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read the private key file {str(pem)!r}: "
                             f"{exc.strerror or exc}") from None
    elif isinstance(pem, str):
        data = pem.encode()
    else:
        data = pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("Kalshi keys are RSA (or Ed25519) private keys")
    return key


def signing_message(timestamp_ms: int | str, method: str, url_or_path: str) -> bytes:
    """Return the exact bytes Kalshi expects to be signed for a request.

    ``url_or_path`` may be a full URL or a path; the host and the query string are left out.
    """
    path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]
    return f"{timestamp_ms}{method.upper()}{path}".encode()


def sign_request(key: PrivateKey, timestamp_ms: int | str, method: str,
                 url_or_path: str) -> str:
    """Return the base64 signature header value for a request."""
    message = signing_message(timestamp_ms, method, url_or_path)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(message, _PSS, hashes.SHA256())
    else:
        signature = key.sign(message)
    return base64.b64encode(signature).decode()


def now_ms() -> int:
    """Return the current wall-clock time in milliseconds."""
    return time.time_ns() // 1_000_000


class KalshiAuth(httpx.Auth):
    """Sign every request with a Kalshi API key.

    ``clock`` returns the timestamp in milliseconds. Kalshi (and the sandbox) measure a
    signature's freshness against the wall clock, so the default is right for both.
    """

    def __init__(self, key_id: str, private_key: KeySource,
                 clock: Callable[[], int] = now_ms) -> None:
        self.key_id = key_id
        self.private_key = load_private_key(private_key)
        self.clock = clock

    def headers(self, method: str, url: str) -> dict[str, str]:
        """Return the three Kalshi headers for a request to ``url`` (a URL or a path)."""
        timestamp = str(self.clock())
        return {
            KEY_HEADER: self.key_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_request(self.private_key, timestamp, method, url),
        }

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the signature headers, signing the path exactly as it goes on the wire."""
        path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        request.headers.update(self.headers(request.method, path))
        yield request
