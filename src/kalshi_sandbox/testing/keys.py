"""RSA key pairs for test accounts, generated once per process and reused across sandboxes.

Generating a 2048-bit key takes tens of milliseconds; a test suite that creates two accounts
per test would spend most of its time there. Accounts in one sandbox get distinct keys from
the pool, and a reset sandbox hands the same keys out again under new key ids.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A private key (PKCS#1 PEM, as Kalshi issues it), its public PEM and its file."""

    private_key_pem: str
    public_key_pem: str
    path: Path


class KeyPool:
    """Key pairs by index, generated on first use; each private key also written to a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._keys: list[KeyPair] = []
        self._lock = threading.Lock()

    def __getitem__(self, index: int) -> KeyPair:
        with self._lock:
            while len(self._keys) <= index:
                self._keys.append(self._generate(len(self._keys)))
            return self._keys[index]

    def __len__(self) -> int:
        return len(self._keys)

    def _generate(self, index: int) -> KeyPair:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"key-{index}.pem"
        path.write_text(private)
        os.chmod(path, 0o600)
        return KeyPair(private, public, path)
