"""Frozen, typed records: what `@dataclass(frozen=True)` gives, at a fraction of the cost.

Why not dataclasses: `cpudb show`/`models`/`advise` must run in about twice the time of
`python -c "import sqlite3"` (~35 ms here). Importing `dataclasses` (it imports
`inspect`) costs ~11 ms and each frozen dataclass ~1 ms to create (it `exec`s six
generated methods); the fast paths define about 25 of them. A `Record` subclass costs
microseconds to create; instances behave like frozen dataclasses: keyword/positional
construction with defaults, equality and hashing by value, a readable repr, and
`replace()`. `typing.dataclass_transform` tells type checkers the same.

    class Feature(Record):
        name: str
        bit: int
        aliases: tuple[str, ...] = ()
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar, dataclass_transform

    R = TypeVar("R", bound="Record")

else:

    def dataclass_transform(**_kw: Any):  # the real one only informs type checkers
        return lambda cls: cls


_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a record."""


class Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any = _MISSING, default_factory: Any = None) -> None:
        self.default = default
        self.default_factory = default_factory


def field(*, default: Any = _MISSING, default_factory: Any = None) -> Any:
    """`field(default_factory=dict)` for mutable defaults, as with dataclasses."""
    return Field(default, default_factory)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    __fields__: ClassVar[tuple[str, ...]] = ()
    __defaults__: ClassVar[dict[str, Any]] = {}
    __fieldset__: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        defaults: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            own = klass.__dict__
            for name, ann in own.get("__annotations__", {}).items():
                if "ClassVar" in str(ann):
                    continue
                if name not in names:
                    names.append(name)
                if name in own:
                    defaults[name] = own[name]
                elif name in own.get("__defaults__", {}):  # a Field marker removed below
                    defaults[name] = own["__defaults__"][name]
        for name, d in defaults.items():
            if isinstance(d, Field) and name in cls.__dict__:
                delattr(cls, name)  # the instance value must not be shadowed by the marker
        cls.__fields__ = tuple(names)
        cls.__defaults__ = defaults
        cls.__fieldset__ = frozenset(names)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self.__fields__
        # fast paths: every field given, all by keyword or all by position (loading a
        # snapshot builds a thousand records this way)
        if not args:
            if kwargs.keys() == self.__fieldset__:
                self.__dict__.update(kwargs)
                return
        elif not kwargs and len(args) == len(fields):
            self.__dict__.update(zip(fields, args, strict=True))
            return
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments")
        d = self.__dict__
        for name, value in zip(fields, args, strict=False):
            d[name] = value
        defaults = self.__defaults__
        for name in fields[len(args) :]:
            if name in kwargs:
                d[name] = kwargs.pop(name)
            elif name in defaults:
                v = defaults[name]
                if isinstance(v, Field):
                    v = v.default_factory() if v.default_factory is not None else v.default
                d[name] = v
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected {sorted(kwargs)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        d = self.__dict__
        return tuple(d[n] for n in self.__fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={self.__dict__[n]!r}" for n in self.__fields__)
        return f"{type(self).__name__}({inner})"


def replace(obj: R, **changes: Any) -> R:
    """A copy of a record with some fields changed (`dataclasses.replace` for records)."""
    if not isinstance(obj, Record):
        raise TypeError(f"replace() takes a Record, not {type(obj).__name__}")
    unknown = set(changes) - set(obj.__fields__)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)}")
    new = object.__new__(type(obj))
    d = obj.__dict__
    # the fields only: a value an instance caches beside them (Release's feature index)
    # belongs to its own fields and must not reach a copy with other ones
    new.__dict__.update({n: d[n] for n in obj.__fields__})
    new.__dict__.update(changes)
    return new


def fields(obj_or_cls: Record | type[Record]) -> tuple[str, ...]:
    return obj_or_cls.__fields__


def asdict(obj: Record) -> dict[str, Any]:
    return {n: obj.__dict__[n] for n in obj.__fields__}
