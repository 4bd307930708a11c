"""What changed: release vs release, CPU name vs CPU name (in one release or across two).

Pure functions over `Release` records. Features are compared by location, never by
spelling (the identity rules are cpudb.locations'): a feature spelled anew is a rename,
not one removal plus one addition.
"""

from __future__ import annotations

from collections.abc import Iterable

from cpudb.errors import NotFound
from cpudb.locations import (
    Catalog,
    FeatureRef,
    Rename,
    compare_features,
    location_key,
    sorted_refs,
    subleafed_leaves,
)
from cpudb.model import CpuName, Release
from cpudb.record import Record
from cpudb.resolve import with_accel


class FeatureChange(Record):
    """Features a CPU name gained and lost between two releases."""

    name: str
    added: tuple[FeatureRef, ...]
    removed: tuple[FeatureRef, ...]


class NatureChange(Record):
    """A CPU name whose kind changed, e.g. a full model (4.0) became an alias (4.1)."""

    name: str
    old_kind: str
    new_kind: str
    old_alias_of: str | None
    new_alias_of: str | None

    @property
    def message(self) -> str:
        return (
            f"{self.name}: {describe_kind(self.old_kind, self.old_alias_of)} -> "
            f"{describe_kind(self.new_kind, self.new_alias_of)}"
        )


class AliasMove(Record):
    name: str
    old: str
    new: str


class NoteChange(Record):
    name: str
    field: str  # "note" or "deprecation"
    old: str | None
    new: str | None


class ReleaseDiff(Record):
    old: str
    new: str
    names: tuple[str, ...] | None  # the CPU names asked about, None = all
    accel: str | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    nature: tuple[NatureChange, ...]
    changed: tuple[FeatureChange, ...]
    aliases_moved: tuple[AliasMove, ...]
    notes: tuple[NoteChange, ...]
    renamed: tuple[Rename, ...]
    features_new: tuple[FeatureRef, ...]
    features_dropped: tuple[FeatureRef, ...]

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.nature
            or self.changed
            or self.aliases_moved
            or self.notes
            or self.renamed
            or self.features_new
            or self.features_dropped
        )


class Side(Record):
    """One side of a CPU-name comparison."""

    name: str
    version: str
    kind: str
    alias_of: str | None
    feature_count: int


class CpuDiff(Record):
    first: Side
    second: Side
    accel: str | None
    only_in_first: tuple[FeatureRef, ...]
    only_in_second: tuple[FeatureRef, ...]
    common: tuple[FeatureRef, ...]  # spelled as in the second release
    renamed: tuple[Rename, ...]  # common features spelled differently on the two sides


def describe_kind(kind: str, alias_of: str | None) -> str:
    if kind == "alias":
        return f"alias of {alias_of}"
    if kind == "bare":
        return f"bare name for {alias_of}"
    if kind == "version":
        return "versioned model"
    return "full model"


def features_of(release: Release, cpu: CpuName, accel: str | None) -> frozenset[str]:
    return with_accel(release, cpu.features, accel) if accel else cpu.features


# ------------------------------------------------------------------ release diff


def diff_releases(
    old: Release,
    new: Release,
    names: Iterable[str] | None = None,
    *,
    accel: str | None = None,
) -> ReleaseDiff:
    """Everything that changed for guests between two releases (optionally for some names)."""
    leaves = subleafed_leaves((old, new))
    cat_old, cat_new = Catalog(old, leaves), Catalog(new, leaves)
    by_old = {c.name: c for c in old.cpus}
    by_new = {c.name: c for c in new.cpus}
    wanted = _select(names, old, new, by_old, by_new)

    def keep(n: str) -> bool:
        return wanted is None or n in wanted

    added = tuple(n for n in by_new if n not in by_old and keep(n))
    removed = tuple(n for n in by_old if n not in by_new and keep(n))
    nature: list[NatureChange] = []
    changed: list[FeatureChange] = []
    moved: list[AliasMove] = []
    notes: list[NoteChange] = []
    used: set[str] = set()
    for n, b in by_new.items():
        a = by_old.get(n)
        if a is None or not keep(n):
            continue
        if a.kind != b.kind:
            nature.append(NatureChange(n, a.kind, b.kind, a.alias_of, b.alias_of))
        elif a.alias_of and b.alias_of and a.alias_of != b.alias_of:
            moved.append(AliasMove(n, a.alias_of, b.alias_of))
        if (a.note or None) != (b.note or None):
            notes.append(NoteChange(n, "note", a.note, b.note))
        if (a.deprecation_note or None) != (b.deprecation_note or None):
            notes.append(NoteChange(n, "deprecation", a.deprecation_note, b.deprecation_note))
        fa = cat_old.refs(features_of(old, a, accel))
        fb = cat_new.refs(features_of(new, b, accel))
        used.update(fa)
        used.update(fb)
        plus, minus = compare_features(fa, fb)
        if plus or minus:
            changed.append(FeatureChange(n, plus, minus))
    if wanted is not None:
        for n in (*added, *removed):
            c = by_new.get(n) or by_old[n]
            cat = cat_new if n in by_new else cat_old
            used.update(cat.refs(c.features))

    renamed = tuple(
        Rename(loc, ref.name, cat_new.by_location[loc].name)
        for loc, ref in cat_old.by_location.items()
        if loc in cat_new.by_location
        and cat_new.by_location[loc].name != ref.name
        and (wanted is None or loc in used)
    )
    if wanted is None:
        new_feats = sorted_refs(
            r for k, r in cat_new.by_location.items() if k not in cat_old.by_location
        )
        dropped = sorted_refs(
            r for k, r in cat_old.by_location.items() if k not in cat_new.by_location
        )
    else:
        new_feats = dropped = ()
    return ReleaseDiff(
        old=old.version,
        new=new.version,
        names=tuple(sorted(wanted)) if wanted is not None else None,
        accel=accel,
        added=added,
        removed=removed,
        nature=tuple(nature),
        changed=tuple(changed),
        aliases_moved=tuple(moved),
        notes=tuple(notes),
        renamed=tuple(sorted(renamed, key=lambda r: location_key(r.location))),
        features_new=new_feats,
        features_dropped=dropped,
    )


def _select(
    names: Iterable[str] | None,
    old: Release,
    new: Release,
    by_old: dict[str, CpuName],
    by_new: dict[str, CpuName],
) -> set[str] | None:
    if names is None:
        return None
    out: set[str] = set()
    for text in names:
        if text in by_old or text in by_new:
            out.add(text)
            continue
        lower = {n.lower(): n for n in (*by_old, *by_new)}
        if text.lower() in lower:
            out.add(lower[text.lower()])
            continue
        import difflib

        close = difflib.get_close_matches(
            text, list(dict.fromkeys((*by_new, *by_old))), n=3, cutoff=0.6
        )
        hint = (
            ("did you mean " + " or ".join(close) + "?")
            if close
            else "`cpudb history NAME` shows the releases a name exists in"
        )
        raise NotFound(
            f"neither QEMU {old.version} nor {new.version} has a CPU model {text!r}", hint=hint
        )
    return out or None


# ------------------------------------------------------------------ CPU name diff


def diff_cpus(
    old: Release,
    first: str | CpuName,
    new: Release,
    second: str | CpuName,
    *,
    accel: str | None = None,
) -> CpuDiff:
    """Two CPU names side by side, in one release (`old is new`) or across two. A side
    may be a CpuName already (libvirt's model, as `cpudb.libvirt_releases.as_cpu` makes)."""
    from cpudb.names import lookup_cpu

    a = first if isinstance(first, CpuName) else lookup_cpu(old, first)
    b = second if isinstance(second, CpuName) else lookup_cpu(new, second)
    leaves = subleafed_leaves((old, new))
    cat_a = Catalog(old, leaves)
    cat_b = cat_a if new is old else Catalog(new, leaves)
    fa = cat_a.refs(features_of(old, a, accel))
    fb = cat_b.refs(features_of(new, b, accel))
    plus, minus = compare_features(fa, fb)
    common = [fb[k] for k in fa.keys() & fb.keys()]
    renamed = [
        Rename(k, fa[k].name, fb[k].name) for k in fa.keys() & fb.keys() if fa[k].name != fb[k].name
    ]
    return CpuDiff(
        first=Side(a.name, old.version, a.kind, a.alias_of, len(fa)),
        second=Side(b.name, new.version, b.kind, b.alias_of, len(fb)),
        accel=accel,
        only_in_first=minus,
        only_in_second=plus,
        common=sorted_refs(common),
        renamed=tuple(sorted(renamed, key=lambda r: r.old.lower())),
    )
