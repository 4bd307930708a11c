"""Feature identity across releases: a feature is its CPUID/MSR *location*, its QEMU
name a label of one release. `fxsr_opt` (2.7) and `fxsr-opt` (2.8) are the same bit, so
a comparison reports a rename, never one removal plus one addition.

The rules, decided here once for the diffs (cpudb.diff) and the timelines (cpudb.history):
- a QEMU name stands for its first location in the release's catalogue. A few names
  cover several bits (`kvmclock` = KVM leaf bits 0 and 3; in 1.1-1.2 the AMD copies of
  the 1.EDX names in 0x80000001.EDX), and a CPU name lists names, not bits, so the
  other bits travel with the first;
- a CPUID word written without a subleaf (leaf 7 in QEMU 1.4 has no `needs_ecx`) is the
  same as subleaf 0 when another release being compared gives that leaf a subleaf.

Pure; `Catalog` is one release's names <-> locations, made comparable.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from cpudb.model import FeatureWord, Release
from cpudb.record import Record


class FeatureRef(Record):
    """A feature as one release spells it, at its release-independent location."""

    name: str
    location: str

    @property
    def cpuid(self) -> str:
        return describe_location(self.location)


class Rename(Record):
    location: str
    old: str
    new: str

    @property
    def cpuid(self) -> str:
        return describe_location(self.location)


def describe_location(location: str) -> str:
    """`cpuid.0x80000001.edx.26` -> `CPUID.80000001H:EDX[26]` (as `FeatureWord.describe`)."""
    parts = location.split(".")
    try:
        if parts[0] == "msr" and len(parts) == 3:
            return FeatureWord("", "msr", msr=int(parts[1], 16)).describe(int(parts[2]))
        if parts[0] == "cpuid" and len(parts) in (4, 5):
            sub = int(parts[2]) if len(parts) == 5 else None
            word = FeatureWord("", "cpuid", int(parts[1], 16), sub, parts[-2])
            return word.describe(int(parts[-1]))
    except ValueError:
        pass
    return location


def location_key(location: str) -> tuple[str, int, int, str, int]:
    """Sort key: kind, leaf (or MSR index), subleaf, register, bit."""
    parts = location.split(".")
    try:
        if parts[0] == "cpuid" and len(parts) in (4, 5):
            sub = int(parts[2]) if len(parts) == 5 else -1
            return ("cpuid", int(parts[1], 16), sub, parts[-2], int(parts[-1]))
        if parts[0] == "msr" and len(parts) == 3:
            return ("msr", int(parts[1], 16), -1, "", int(parts[2]))
    except ValueError:
        pass
    return (location, 0, 0, "", 0)


def subleafed_leaves(releases: Iterable[Release]) -> frozenset[int]:
    """CPUID leaves that some release reads with a subleaf (ECX)."""
    return frozenset(
        w.leaf
        for r in releases
        for w in r.words
        if w.type == "cpuid" and w.subleaf is not None and w.leaf is not None
    )


@lru_cache(maxsize=4096)
def canonical_location(location: str, subleafed: frozenset[int]) -> str:
    """`cpuid.0x7.ebx.5` -> `cpuid.0x7.0.ebx.5` when leaf 7 has subleaves elsewhere."""
    if not subleafed or location.count(".") != 3:
        return location
    parts = location.split(".")
    if parts[0] == "cpuid" and len(parts) == 4 and int(parts[1], 16) in subleafed:
        return ".".join([parts[0], parts[1], "0", parts[2], parts[3]])
    return location


class Catalog:
    """One release's names <-> locations, with locations made comparable."""

    def __init__(self, release: Release, subleafed: frozenset[int] = frozenset()) -> None:
        self.release = release
        self.by_name: dict[str, FeatureRef] = {}
        self.by_location: dict[str, FeatureRef] = {}
        for f in release.features:
            ref = FeatureRef(f.name, canonical_location(f.location, subleafed))
            self.by_name.setdefault(f.name, ref)
            self.by_location.setdefault(ref.location, ref)
        for f in release.features:
            for a in f.aliases:
                self.by_name.setdefault(a, self.by_name[f.name])

    def refs(self, names: Iterable[str]) -> dict[str, FeatureRef]:
        """location -> feature for a set of names of this release (unknown names skipped)."""
        out: dict[str, FeatureRef] = {}
        for n in sorted(names):
            ref = self.by_name.get(n)
            if ref is not None:
                out.setdefault(ref.location, ref)
        return out


def sorted_refs(refs: Iterable[FeatureRef]) -> tuple[FeatureRef, ...]:
    """By name (case-insensitively), then location: the order every list is shown in."""
    return tuple(sorted(refs, key=lambda r: (r.name.lower(), r.location)))


def compare_features(
    old: dict[str, FeatureRef], new: dict[str, FeatureRef]
) -> tuple[tuple[FeatureRef, ...], tuple[FeatureRef, ...]]:
    """(added, removed) between two location maps; added spelled as `new`, removed as `old`."""
    return (
        sorted_refs(new[k] for k in new.keys() - old.keys()),
        sorted_refs(old[k] for k in old.keys() - new.keys()),
    )
