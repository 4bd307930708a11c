"""Read-only views built from a Release: filtered model lists, one CPU name in detail,
one feature across releases. Pure; returns frozen records."""

from __future__ import annotations

from cpudb import levels
from cpudb.errors import CpudbError
from cpudb.model import CpuName, Feature, FeatureWord, Release
from cpudb.names import FeatureNames, extra_names, lookup_cpu
from cpudb.record import Record
from cpudb.resolve import with_accel

VENDORS = {
    "intel": ("GenuineIntel",),
    "amd": ("AuthenticAMD",),
    "hygon": ("HygonGenuine",),
    "zhaoxin": ("CentaurHauls", "  Shanghai  "),
}


def vendor_strings(vendor: str) -> tuple[str, ...]:
    v = vendor.lower()
    if v in VENDORS:
        return VENDORS[v]
    for strings in VENDORS.values():
        if vendor in strings:
            return strings
    raise CpudbError(f"unknown vendor {vendor!r}", hint="use intel, amd, hygon or zhaoxin")


def filter_models(
    release: Release,
    *,
    has: list[str] | None = None,
    vendor: str | None = None,
    min_level: int | None = None,
    accel: str | None = None,
) -> list[tuple[CpuName, frozenset[str]]]:
    """CPU names (with their features, accel defaults applied if asked) that pass filters."""
    needs = []
    names: FeatureNames | None = None
    for h in has or []:
        f = release.feature(h)  # QEMU's own spellings: no need for the full index
        if f is None:
            names = names or FeatureNames(release)
            f = names.lookup(h)
        needs.append(f.name)
    vendors = vendor_strings(vendor) if vendor else None
    out = []
    for c in release.cpus:
        feats = with_accel(release, c.features, accel)
        if vendors and c.vendor not in vendors:
            continue
        if any(n not in feats for n in needs):
            continue
        if min_level and levels.level(release, feats) < min_level:
            continue
        out.append((c, feats))
    return out


class FeatureRow(Record):
    name: str
    bit: int
    location: str
    linux_name: str | None
    description: str | None


class WordGroup(Record):
    word: FeatureWord
    title: str  # "CPUID.80000001H:EDX" or "MSR 0x10a (FEAT_ARCH_CAPABILITIES)"
    features: tuple[FeatureRow, ...]


class CpuView(Record):
    release: str
    cpu: CpuName
    features: frozenset[str]
    accel: str | None
    groups: tuple[WordGroup, ...]
    level: int
    aliases: tuple[str, ...]  # other names for the same definition
    previous: str | None  # previous version of the same model
    added: tuple[str, ...]  # vs previous
    removed: tuple[str, ...]


def word_title(w: FeatureWord) -> str:
    if w.type == "msr":
        return f"MSR {w.msr:#x} ({w.name})"
    sub = "" if w.subleaf is None else f".{w.subleaf}"
    return f"CPUID.{w.leaf:02X}H{sub}:{(w.register or '').upper()}"


def group_features(release: Release, feats: frozenset[str]) -> tuple[WordGroup, ...]:
    info = extra_names()
    words = {w.name: w for w in release.words}
    seen: set[tuple[str, str]] = set()
    by_word: dict[str, list[FeatureRow]] = {}
    for f in release.features:
        if f.name in feats and (f.name, f.word) not in seen:
            seen.add((f.name, f.word))
            extra = info.get(f.location, {})
            by_word.setdefault(f.word, []).append(
                FeatureRow(
                    f.name, f.bit, f.location, extra.get("linux_name"), extra.get("description")
                )
            )
    return tuple(
        WordGroup(words[w.name], word_title(w), tuple(sorted(by_word[w.name], key=lambda r: r.bit)))
        for w in release.words
        if w.name in by_word
    )


def describe_cpu(release: Release, name: str | CpuName, accel: str | None = None) -> CpuView:
    """A CPU name of the release (or a CpuName made elsewhere: libvirt's model)."""
    cpu = name if isinstance(name, CpuName) else lookup_cpu(release, name)
    feats = with_accel(release, cpu.features, accel)
    target = cpu.alias_of or cpu.name
    aliases = tuple(
        c.name
        for c in release.cpus
        if c.name != cpu.name and (c.alias_of == target or c.name == target)
    )
    prev = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    if cpu.version and cpu.version > 1:
        p = release.cpu(f"{cpu.model}-v{cpu.version - 1}")
        if p is not None:
            prev = p.name
            pf = with_accel(release, p.features, accel)
            added = tuple(sorted(feats - pf))
            removed = tuple(sorted(pf - feats))
    return CpuView(
        release.version,
        cpu,
        feats,
        accel,
        group_features(release, feats),
        levels.level(release, feats),
        aliases,
        prev,
        added,
        removed,
    )


class FeatureView(Record):
    name: str
    feature: Feature
    word: FeatureWord
    aliases: tuple[str, ...]
    linux_name: str | None
    description: str | None
    release: str
    cpus: tuple[str, ...]  # CPU names of `release` that have it
    first_known: str | None  # first release whose catalogue has the location
    spellings: tuple[tuple[str, str], ...]  # (release, name) where the QEMU name changed
    first_gained: tuple[tuple[str, str], ...]  # (model, release) first release it had it


def describe_feature(
    release: Release,
    text: str,
    timeline: list[tuple[str, str, str]],
    catalogue: list[tuple[str, str]],
) -> FeatureView:
    """`timeline`: (release, cpu name, model) rows having the location, oldest release first;
    `catalogue`: (release, QEMU name) of the location in every release, oldest first."""
    f = FeatureNames(release).lookup(text)
    word = release.word(f.word)
    assert word is not None
    extra = extra_names().get(f.location, {})
    cpus = tuple(c.name for c in release.cpus if f.name in c.features)
    first: dict[str, str] = {}
    for rel, _cpu, model in timeline:
        first.setdefault(model, rel)
    spellings: list[tuple[str, str]] = []
    for rel, n in catalogue:
        if not spellings or spellings[-1][1] != n:
            spellings.append((rel, n))
    return FeatureView(
        name=f.name,
        feature=f,
        word=word,
        aliases=f.aliases,
        linux_name=extra.get("linux_name"),
        description=extra.get("description"),
        release=release.version,
        cpus=cpus,
        first_known=catalogue[0][0] if catalogue else None,
        spellings=tuple(spellings),
        first_gained=tuple(first.items()),
    )
