"""Identifier generation, injectable so that replays and tests can be deterministic."""

from __future__ import annotations

import random
import uuid


class IdGenerator:
    """Hand out UUIDv4 strings; with a seed, the same sequence every time."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def new(self) -> str:
        """Return a fresh UUID string."""
        if self._random is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def token(self, length: int = 8) -> str:
        """Return ``length`` lowercase hex characters."""
        return self.new().replace("-", "")[:length]
