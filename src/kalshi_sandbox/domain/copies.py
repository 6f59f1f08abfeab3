"""Changed copies of frozen dataclasses, cheaper than ``dataclasses.replace``.

``replace`` walks the class's fields in Python on every call (about 7 us for a Quote's 34
fields); ``copier`` reads every value at once with ``attrgetter`` and builds the copy
positionally, so each copy costs little more than the constructor itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def copier(cls: type[T]) -> Callable[..., T]:
    """Return ``changed(obj, **changes)``: a copy of ``obj`` with ``changes`` applied.

    ``cls`` must be a dataclass whose fields are all ``__init__`` parameters, in order;
    the copy goes through ``__init__`` as ``dataclasses.replace``'s does.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if not all(f.init for f in fields(cls)):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__} has fields that __init__ does not take")
    values = attrgetter(*names)
    position = {name: index for index, name in enumerate(names)}

    def changed(obj: T, /, **changes: Any) -> T:
        current = list(values(obj))
        for name, value in changes.items():
            current[position[name]] = value
        return cls(*current)

    return changed


__all__ = ["copier"]
