"""Mapping between domain dataclasses and flat table rows, shared by every SQL backend."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Sequence
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Generic, TypeVar

from kalshi_sandbox.domain.market import PriceRange

T = TypeVar("T")


def _encode_ranges(ranges: tuple[PriceRange, ...]) -> str:
    return json.dumps([[r.start, r.end, r.step] for r in ranges])


def _decode_ranges(text: str) -> tuple[PriceRange, ...]:
    return tuple(PriceRange(*band) for band in json.loads(text))


def _decoder(hint: Any) -> Callable[[Any], Any] | None:
    """Return how to turn a column value back into a field of type ``hint``, if needed."""
    args = typing.get_args(hint)
    optional = isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union
    if optional:
        inner = next(a for a in args if a is not NoneType)
        decode = _decoder(inner)
        if decode is None:
            return None
        return lambda value: None if value is None else decode(value)
    if hint is bool:
        return bool
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if typing.get_origin(hint) is tuple and args and args[0] is PriceRange:
        return _decode_ranges
    return None


class RowMapper(Generic[T]):
    """Convert instances of one dataclass to and from tuples in field order."""

    def __init__(self, cls: type[T], table: str) -> None:
        self.cls = cls
        self.table = table
        hints = typing.get_type_hints(cls)
        self.columns: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        self._decoders = [
            (index, decode)
            for index, name in enumerate(self.columns)
            if (decode := _decoder(hints[name])) is not None
        ]
        self._encoders = [
            index
            for index, name in enumerate(self.columns)
            if typing.get_origin(hints[name]) is tuple
        ]
        self.select = f"SELECT {', '.join(self.columns)} FROM {table}"

    def insert_sql(self, placeholder: str) -> str:
        """Return an INSERT statement for every column."""
        marks = ", ".join([placeholder] * len(self.columns))
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})"

    def update_sql(self, placeholder: str, key: Sequence[str]) -> str:
        """Return an UPDATE of every non-key column, keyed by ``key`` (params: row + key)."""
        sets = ", ".join(f"{c} = {placeholder}" for c in self.columns if c not in key)
        where = " AND ".join(f"{c} = {placeholder}" for c in key)
        return f"UPDATE {self.table} SET {sets} WHERE {where}"

    def to_row(self, obj: T) -> list[Any]:
        """Return the column values of ``obj``."""
        values = [getattr(obj, name) for name in self.columns]
        for index in self._encoders:
            values[index] = _encode_ranges(values[index])
        return values

    def update_params(self, obj: T, key: Sequence[str]) -> list[Any]:
        """Return the parameters for ``update_sql``: non-key values then key values."""
        row = self.to_row(obj)
        named = dict(zip(self.columns, row, strict=True))
        return [named[c] for c in self.columns if c not in key] + [named[c] for c in key]

    def from_row(self, row: Sequence[Any]) -> T:
        """Rebuild the dataclass from a row selected with ``select``."""
        values = list(row)
        for index, decode in self._decoders:
            values[index] = decode(values[index])
        return self.cls(*values)
