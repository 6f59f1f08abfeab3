"""``copier``: changed copies of frozen dataclasses, as ``dataclasses.replace`` makes them."""

from __future__ import annotations

import dataclasses

import pytest

from kalshi_sandbox.domain.copies import copier


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int
    label: str = "p"

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("x must not be negative")


def test_a_copy_changes_only_the_named_fields_and_leaves_the_original() -> None:
    changed = copier(Point)
    original = Point(1, 2)
    copy = changed(original, y=5, label="q")
    assert copy == dataclasses.replace(original, y=5, label="q") == Point(1, 5, "q")
    assert original == Point(1, 2)
    assert changed(original) == original


def test_a_copy_goes_through_init_and_its_checks() -> None:
    with pytest.raises(ValueError, match="negative"):
        copier(Point)(Point(1, 2), x=-1)


def test_a_class_with_fields_init_does_not_take_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class Derived:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="__init__ does not take"):
        copier(Derived)
