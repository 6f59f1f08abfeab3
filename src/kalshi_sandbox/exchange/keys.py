"""API key material: generating RSA key pairs and loading public keys."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from kalshi_sandbox.domain.errors import InvalidParameters

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def generate_rsa_key(bits: int = 2048) -> tuple[str, str]:
    """Return (private PEM in PKCS#1, as Kalshi issues it, public PEM) of a new RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return private, public_pem_of(private)


def public_pem_of(private_pem: str) -> str:
    """Return the public PEM matching a private key PEM."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: str) -> PublicKey:
    """Parse a PEM public key (RSA, at least 2048 bits, or Ed25519); raise if unusable."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise InvalidParameters(f"public_key_pem is not a PEM public key: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 1024:
            raise InvalidParameters("RSA keys must have at least 1024 bits")
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise InvalidParameters("public_key_pem must be an RSA or Ed25519 public key")
