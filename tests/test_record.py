"""cpudb.record.Record behaves like a frozen dataclass."""

from __future__ import annotations

import pickle

import pytest

from cpudb.record import FrozenInstanceError, Record, field, replace


class Point(Record):
    x: int
    y: int = 0
    tags: dict[str, int] = field(default_factory=dict)


class Point3(Point):
    z: int = 9


def test_construction_defaults_and_factory() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, {})
    assert Point(1).tags is not Point(1).tags
    assert Point(x=1, y=2) == Point(1, 2)
    assert Point3(1, 2).z == 9 and Point3.__fields__ == ("x", "y", "tags", "z")


def test_errors_like_dataclasses() -> None:
    # the wrong calls and writes are the point: mypy rejects them too
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, nope=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, 2, {}, 4)  # type: ignore[call-arg]
    p = Point(1)
    with pytest.raises(FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del p.x


class Pair(Record):
    a: int
    b: tuple[int, ...] = ()


def test_value_semantics_and_replace() -> None:
    assert Pair(1, (2,)) == Pair(1, (2,)) and hash(Pair(1)) == hash(Pair(1))
    assert {Pair(1), Pair(1)} == {Pair(1)}
    a, b = Point(1, 2), Point(1, 2)
    assert a == b and a != Point(1, 3)
    assert Point(1) != Point3(1)
    c = replace(a, y=5)
    assert c == Point(1, 5) and a.y == 2
    with pytest.raises(TypeError):
        replace(a, nope=1)
    assert repr(a) == "Point(x=1, y=2, tags={})"
    assert pickle.loads(pickle.dumps(Point3(1, 2))) == Point3(1, 2)


def test_replace_copies_the_fields_only() -> None:
    a = Pair(1, (2,))
    a.__dict__["_cache"] = "of a's own fields"  # what Release keeps its feature index in
    b = replace(a, b=(3,))
    assert "_cache" not in b.__dict__ and b == Pair(1, (3,)) and a == Pair(1, (2,))
    assert repr(a) == "Pair(a=1, b=(2,))" and hash(a) == hash(Pair(1, (2,)))
    with pytest.raises(TypeError):
        replace(object())  # type: ignore[type-var]
