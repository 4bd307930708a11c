"""The domain model: frozen records (cpudb.record) shared by scrapers, store, queries
and decisions.

A *feature* is a location (CPUID leaf/subleaf/register/bit or MSR index/bit); its QEMU
name is a label that belongs to one release. A *CPU name* is what QEMU accepts after
`-cpu` in one release, with its resolved feature set.
"""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Literal

    WordType = Literal["cpuid", "msr"]
    CpuKind = Literal["model", "version", "alias", "bare"]
    Props = tuple[tuple[str, str], ...]  # (property, value) pairs: ("vme", "off")
    AccelDefaults = tuple[tuple[str, Props], ...]  # (accelerator, its props), by name

    from collections.abc import Iterable, Mapping, Sequence


# CPUID leaves indexed by ECX (subleaves). A location on one of them always names its
# subleaf (`cpuid.0x7.0.ebx.5`), also where a source leaves it implicit (subleaf 0).
SUBLEAF_LEAVES = frozenset(
    {
        0x4,
        0x7,
        0xB,
        0xD,
        0xF,
        0x10,
        0x12,
        0x14,
        0x17,
        0x18,
        0x1D,
        0x1E,
        0x1F,
        0x20,
        0x23,
        0x24,
        0x29,
        0x8000001D,
        0x80000020,
        0x80000026,
    }
)


class FeatureWord(Record):
    """One of QEMU's feature words (`FEAT_8000_0001_EDX`) and where it lives."""

    name: str
    type: WordType
    leaf: int | None = None
    subleaf: int | None = None
    register: str | None = None
    msr: int | None = None

    def location(self, bit: int) -> str:
        """A stable, release-independent id for one bit of this word."""
        if self.type == "msr":
            return f"msr.{self.msr:#x}.{bit}"
        sub = "" if self.subleaf is None else f".{self.subleaf}"
        return f"cpuid.{self.leaf:#x}{sub}.{self.register}.{bit}"

    def describe(self, bit: int) -> str:
        """Human form, as QEMU prints it: `CPUID.80000001H:EDX[26]`."""
        if self.type == "msr":
            return f"MSR {self.msr:#x} bit {bit}"
        sub = "" if self.subleaf is None else f".{self.subleaf:X}"
        return f"CPUID.{self.leaf:02X}H{sub}:{(self.register or '').upper()}[{bit}]"


class Feature(Record):
    """A named bit of one release's catalogue."""

    name: str
    word: str
    bit: int
    location: str
    aliases: tuple[str, ...] = ()


class Dependency(Record):
    """QEMU's `feature_dependencies[]`: if none of `requires` is set, `clears` is cleared."""

    requires: tuple[str, ...]
    clears: tuple[str, ...]
    clears_all_of: str | None = None  # set when the mask covers the whole word


class VersionDef(Record):
    version: int
    alias: str | None = None
    note: str | None = None
    props: tuple[tuple[str, str], ...] = ()
    cache_info: str | None = None


class ModelDef(Record):
    """One entry of `builtin_x86_defs[]` as written (features by name, before runtime rules)."""

    name: str
    vendor: str
    family: int
    model: int
    stepping: int
    level: int
    xlevel: int
    model_id: str
    features: frozenset[str]
    xlevel2: int = 0
    cache_info: str | None = None
    deprecation_note: str | None = None
    versions: tuple[VersionDef, ...] = ()
    line: int = 0


class CpuName(Record):
    """A name QEMU accepts after `-cpu`, with its resolved (runtime-rule applied) features."""

    name: str
    kind: CpuKind
    model: str
    features: frozenset[str]
    vendor: str
    family: int
    model_number: int
    stepping: int
    model_id: str
    version: int | None = None
    alias_of: str | None = None
    note: str | None = None
    deprecation_note: str | None = None
    cache_info: str | None = None


class Release(Record):
    """Everything one QEMU release (or capture of a binary) says about x86 CPU models."""

    version: str
    upstream: bool
    origin: str
    words: tuple[FeatureWord, ...]
    features: tuple[Feature, ...]
    dependencies: tuple[Dependency, ...] = ()
    # kvm_default_props / tcg_default_props: ((accel, ((prop, value), ...)), ...), sorted
    # by accelerator (build it with accel_defaults_of); a tuple, so a Release hashes
    accel_defaults: AccelDefaults = ()
    models: tuple[ModelDef, ...] = ()
    cpus: tuple[CpuName, ...] = ()
    default_version: str | None = None  # "1", "latest", or None before 4.1
    source: str = "source"  # "source" (parsed) or "qmp" (asked a binary)
    # what qemu-system-x86_64's TCG can give a guest (the .tcg_features masks of cpu.c);
    # None when the snapshot cannot tell (releases before 2.1, QMP captures)
    tcg_features: frozenset[str] | None = None

    def feature(self, name: str) -> Feature | None:
        return self._names().get(name)

    def default_props(self, accel: str) -> Props:
        """The props an accelerator applies to every CPU name (`kvm_default_props`)."""
        for a, props in self.accel_defaults:
            if a == accel:
                return props
        return ()

    def cpu(self, name: str) -> CpuName | None:
        for c in self.cpus:
            if c.name == name:
                return c
        return None

    def word(self, name: str) -> FeatureWord | None:
        for w in self.words:
            if w.name == name:
                return w
        return None

    def _names(self) -> dict[str, Feature]:
        """Feature by name or alias, built once per instance. It lives in `__dict__` beside
        the fields, which equality, hashing, repr and `replace` never read or copy."""
        table: dict[str, Feature] | None = self.__dict__.get("_feature_index")
        if table is None:
            table = {}
            for f in self.features:
                table.setdefault(f.name, f)
            for f in self.features:
                for a in f.aliases:
                    table.setdefault(a, f)
            self.__dict__["_feature_index"] = table
        return table


def accel_defaults_of(by_accel: Mapping[str, Iterable[Sequence[str]]]) -> AccelDefaults:
    """`Release.accel_defaults` from {accel: [(prop, value), ...]}, sorted by accelerator."""
    return tuple(
        (accel, tuple((p, v) for p, v in props)) for accel, props in sorted(by_accel.items())
    )
