"""Mapping between domain dataclasses and flat table rows, shared by every SQL backend."""

from __future__ import annotations

import dataclasses
import json
import operator
import typing
from collections.abc import Callable, Sequence
from enum import Enum
from itertools import compress
from operator import ne
from types import NoneType, UnionType
from typing import Any, Generic, TypeVar

from kalshi_sandbox.domain.market import PriceRange

T = TypeVar("T")


def _encode_ranges(ranges: tuple[PriceRange, ...]) -> str:
    return json.dumps([[r.start, r.end, r.step] for r in ranges])


def _decode_ranges(text: str) -> tuple[PriceRange, ...]:
    return tuple(PriceRange(*band) for band in json.loads(text))


def _enum_decoder(cls: type[Enum]) -> Callable[[Any], Any]:
    # A dict lookup is several times cheaper than calling the enum class.
    members = {member.value: member for member in cls}

    def decode(value: Any) -> Any:
        member = members.get(value)
        return cls(value) if member is None else member

    return decode


def _plain(hint: Any) -> Callable[[Any], Any] | None:
    """Return how to make a field of type ``hint`` a plain str or int for the driver, if needed.

    Drivers bind exact ints and strs directly; an enum member (a str subclass) or a bool (an
    int subclass) sends sqlite3 through its adaptation protocol, which probes the object for
    hooks and formats an error message for each one it lacks, on every parameter.
    """
    args = typing.get_args(hint)
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        inner = next(a for a in args if a is not NoneType)
        plain = _plain(inner)
        if plain is None:
            return None
        return lambda value: None if value is None else plain(value)
    if hint is bool:
        return int
    if isinstance(hint, type) and issubclass(hint, Enum):
        return operator.attrgetter("value")
    return None


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
        return _enum_decoder(hint)
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
        self.index = {name: i for i, name in enumerate(self.columns)}
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
        plain: dict[int, Callable[[Any], Any]] = {
            index: convert
            for index, name in enumerate(self.columns)
            if (convert := _plain(hints[name])) is not None
        }
        for index in self._encoders:
            plain[index] = _encode_ranges
        self._plain = plain
        """Per column index, what turns its value into one the driver binds as is."""
        self._values = operator.attrgetter(*self.columns)
        self._indices = range(len(self.columns))
        self.select = f"SELECT {', '.join(self.columns)} FROM {table}"
        self._update_sql: dict[tuple[tuple[str, ...], tuple[str, ...], str], str] = {}
        self._changed_sql: dict[tuple[tuple[int, ...], tuple[str, ...], str], str] = {}

    def insert_sql(self, placeholder: str) -> str:
        """Return an INSERT statement for every column."""
        marks = ", ".join([placeholder] * len(self.columns))
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})"

    def update_sql(self, placeholder: str, key: Sequence[str],
                   columns: Sequence[str] | None = None) -> str:
        """Return an UPDATE of ``columns`` (default: every non-key column), keyed by ``key``.

        Its parameters are the new values of those columns, then the key's values.
        """
        names = tuple(c for c in self.columns if c not in key) if columns is None \
            else tuple(columns)
        cache_key = (names, tuple(key), placeholder)
        sql = self._update_sql.get(cache_key)
        if sql is None:
            sets = ", ".join(f"{c} = {placeholder}" for c in names)
            where = " AND ".join(f"{c} = {placeholder}" for c in key)
            sql = self._update_sql[cache_key] = f"UPDATE {self.table} SET {sets} WHERE {where}"
        return sql

    def to_row(self, obj: T) -> Sequence[Any]:
        """Return the column values of ``obj``, as plain strs, ints and None."""
        values: tuple[Any, ...] = self._values(obj)
        if not self._plain:
            return values
        row = list(values)
        for index, convert in self._plain.items():
            row[index] = convert(row[index])
        return row

    def update_params(self, obj: T, key: Sequence[str]) -> list[Any]:
        """Return the parameters for ``update_sql``: non-key values then key values."""
        row = self.to_row(obj)
        named = dict(zip(self.columns, row, strict=True))
        return [named[c] for c in self.columns if c not in key] + [named[c] for c in key]

    def changes(self, old: T, new: T, key: Sequence[str],
                placeholder: str) -> tuple[str, list[Any]] | None:
        """Return an UPDATE of only the columns in which ``new`` differs from ``old``.

        ``old`` is the stored version of the row ``new`` updates (the same key). Return None
        when nothing differs. Writing fewer columns spares the database from rewriting
        index entries whose columns did not change.
        """
        after = self._values(new)
        # Compared in C (map, compress): a Python loop over 33 columns cost more than the
        # UPDATE it shortens. Unchanged values are mostly the very same objects, which
        # compare at once.
        changed = tuple(compress(self._indices, map(ne, self._values(old), after)))
        if not changed:
            return None
        sql = self._changed_sql.get((changed, tuple(key), placeholder))
        if sql is None:
            sql = self.update_sql(placeholder, key, [self.columns[i] for i in changed])
            self._changed_sql[(changed, tuple(key), placeholder)] = sql
        plain = self._plain
        params = [plain[i](after[i]) if i in plain else after[i] for i in changed]
        params.extend(self.key_values(new, key))
        return sql, params

    def key_values(self, obj: T, key: Sequence[str]) -> list[Any]:
        """Return the values of ``obj``'s key columns."""
        return [getattr(obj, name) for name in key]

    def from_row(self, row: Sequence[Any]) -> T:
        """Rebuild the dataclass from a row selected with ``select``."""
        if not self._decoders:
            return self.cls(*row)
        values = list(row)
        for index, decode in self._decoders:
            values[index] = decode(values[index])
        return self.cls(*values)
