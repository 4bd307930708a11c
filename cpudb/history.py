"""Timelines over every release in the database: a CPU name's life, a feature's life.

Pure functions over `Release` records (no I/O). Each upstream release is compared
with the previous upstream release in the database. Releases the database lacks are
*gaps*, shown in the timeline rather than skipped: the expected releases are every
X.Y.0 from the first to the last upstream release, where Y runs from 0 to the last
minor of major X in QEMU's release history (1.7, 2.12, 3.1, then X.2), or higher if the
database has a higher one. A series is covered by any upstream release of it (10.0.13 covers
10.0). Downstream releases (upstream=false) are left out of the chain; asked for, they
appear as branches compared with the newest upstream release not newer than them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cpudb.diff import describe_kind
from cpudb.errors import NotFound
from cpudb.locations import (
    Catalog,
    FeatureRef,
    compare_features,
    describe_location,
    subleafed_leaves,
)
from cpudb.model import Release
from cpudb.record import Record
from cpudb.versions import version_key


class Event(Record):
    """One thing that happened in a release, as a sentence plus the features involved."""

    kind: str
    message: str
    names: tuple[str, ...] = ()  # CPU names concerned (feature history)
    added: tuple[FeatureRef, ...] = ()
    removed: tuple[FeatureRef, ...] = ()


class Step(Record):
    """One row of a timeline: a release (or a gap) and what happened in it."""

    version: str
    gap: bool = False
    upstream: bool = True
    since: str | None = None  # the release this one is compared with
    present: bool = False  # the CPU name exists / the feature has a QEMU name
    label: str | None = None  # kind of the CPU name, or the feature's name, in this release
    count: int = 0  # features of the CPU name / CPU names having the feature
    have: tuple[str, ...] = ()  # feature history: the CPU names that have it
    events: tuple[Event, ...] = ()
    note: str | None = None


class History(Record):
    subject: str  # CPU name, or the feature's newest QEMU name
    what: str  # "cpu" or "feature"
    location: str | None
    model: str | None  # feature history restricted to one CPU name or model family
    family: tuple[str, ...]
    steps: tuple[Step, ...]
    gaps: tuple[str, ...]
    downstream: bool

    @property
    def releases(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if not s.gap)

    @property
    def cpuid(self) -> str | None:
        return describe_location(self.location) if self.location else None


# ------------------------------------------------------------------ releases and gaps


def _series(version: str) -> tuple[int, int] | None:
    key = version_key(version)[0]
    return (key[0], key[1]) if len(key) >= 2 else None


# The last minor of each major, from QEMU's release history: 1.0-1.7, 2.0-2.12, 3.0-3.1,
# and since 2019 three releases a year, X.0-X.2 (4.0 ... 10.2). A release in
# the database with a higher minor wins, should the cadence change.
LAST_MINOR = {0: 15, 1: 7, 2: 12, 3: 1}
LAST_MINOR_SINCE_4 = 2


def gaps(releases: Iterable[Release]) -> tuple[str, ...]:
    """Expected X.Y.0 releases (see module doc) that no upstream release covers."""
    rels = list(releases)
    ups = [s for s in (_series(r.version) for r in rels if r.upstream) if s]
    if not ups:
        return ()
    first, last = min(ups), max(ups)
    top = {m: LAST_MINOR.get(m, LAST_MINOR_SINCE_4) for m in range(first[0], last[0] + 1)}
    for s in (_series(r.version) for r in rels):
        if s:
            top[s[0]] = max(top.get(s[0], 0), s[1])
    covered = set(ups)
    out = []
    for major in range(first[0], last[0] + 1):
        lo = first[1] if major == first[0] else 0
        hi = last[1] if major == last[0] else top[major]
        out += [
            f"{major}.{minor}.0" for minor in range(lo, hi + 1) if (major, minor) not in covered
        ]
    return tuple(out)


def _slots(
    releases: Sequence[Release], downstream: bool
) -> list[tuple[str, Release | None, Release | None]]:
    """(version, release or None for a gap, release compared with) in timeline order."""
    rels = sorted(releases, key=lambda r: version_key(r.version))
    items: list[tuple[str, Release | None]] = [(g, None) for g in gaps(rels)]
    items += [(r.version, r) for r in rels if r.upstream or downstream]
    items.sort(key=lambda t: version_key(t[0]))
    out: list[tuple[str, Release | None, Release | None]] = []
    prev: Release | None = None
    for v, r in items:
        if r is None:
            out.append((v, None, None))
        elif r.upstream:
            out.append((v, r, prev))
            prev = r
        else:
            base = [
                u
                for u in rels
                if u.upstream and version_key(u.version)[0] <= version_key(r.version)[0]
            ]
            out.append((v, r, base[-1] if base else None))
    return out


def _gap_note(version: str, releases: Sequence[Release]) -> str:
    s = _series(version)
    down = [r.version for r in releases if not r.upstream and _series(r.version) == s]
    note = "not in the database; changes shown in the next release may have happened here"
    if down:
        note += f" (downstream {', '.join(down)} is)"
    return note


def find_name(releases: Sequence[Release], text: str) -> str:
    """A CPU name as some release spells it; NotFound with suggestions otherwise."""
    names = list(dict.fromkeys(c.name for r in reversed(releases) for c in r.cpus))
    if text in names:
        return text
    lower = {n.lower(): n for n in names}
    if text.lower() in lower:
        return lower[text.lower()]
    import difflib  # only on the error path

    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    hint = ("did you mean " + " or ".join(close) + "?") if close else "`cpudb models` lists them"
    raise NotFound(f"no release in the database has a CPU model {text!r}", hint=hint)


# ------------------------------------------------------------------ CPU name history


def cpu_history(releases: Sequence[Release], name: str, *, downstream: bool = False) -> History:
    """When `name` appeared, what it gained and lost, when it became versioned or deprecated."""
    rels = sorted(releases, key=lambda r: version_key(r.version))
    name = find_name(rels, name)
    leaves = subleafed_leaves(rels)
    cache: dict[str, Catalog] = {}

    def cat(rel: Release) -> Catalog:
        if rel.version not in cache:
            cache[rel.version] = Catalog(rel, leaves)
        return cache[rel.version]

    seen_before = False
    steps: list[Step] = []
    for version, rel, base in _slots(rels, downstream):
        if rel is None:
            steps.append(Step(version, gap=True, note=_gap_note(version, rels)))
            continue
        cpu = rel.cpu(name)
        events = _cpu_events(base, rel, name, cat, seen_before=seen_before)
        if rel.upstream and cpu is not None:
            seen_before = True
        steps.append(
            Step(
                version,
                upstream=rel.upstream,
                since=base.version if base else None,
                present=cpu is not None,
                label=cpu.kind if cpu else None,
                count=len(cat(rel).refs(cpu.features)) if cpu else 0,
                events=tuple(events),
                note=describe_kind(cpu.kind, cpu.alias_of) if cpu else None,
            )
        )
    return History(name, "cpu", None, None, (name,), tuple(steps), gaps(rels), downstream)


def _cpu_events(
    old: Release | None,
    new: Release,
    name: str,
    cat: Callable[[Release], Catalog],
    *,
    seen_before: bool,
) -> list[Event]:
    a = old.cpu(name) if old else None
    b = new.cpu(name)
    if b is None:
        if a is None:
            return []
        return [Event("removed", f"{name} is no longer accepted by -cpu")]
    feats_b = cat(new).refs(b.features)
    if a is None:
        kind = describe_kind(b.kind, b.alias_of)
        if seen_before:
            return [Event("reappeared", f"{name} is accepted again ({kind})")]
        return [Event("appeared", f"{name} appeared: {kind}, {len(feats_b)} features")]
    assert old is not None
    out: list[Event] = []
    if a.kind != b.kind:
        if b.kind == "bare":
            msg = f"became versioned: {name} now means {b.alias_of} (PC machine types >= 4.1)"
        else:
            msg = f"{describe_kind(a.kind, a.alias_of)} became {describe_kind(b.kind, b.alias_of)}"
        out.append(Event("nature", msg))
    elif a.alias_of and b.alias_of and a.alias_of != b.alias_of:
        out.append(Event("alias_moved", f"now an alias of {b.alias_of} (was {a.alias_of})"))
    if b.kind == "bare":
        fresh = [
            c
            for c in new.cpus
            if c.kind == "version" and c.model == b.model and old.cpu(c.name) is None
        ]
        if fresh:
            labels = ", ".join(c.name + (f" ({c.note})" if c.note else "") for c in fresh)
            out.append(
                Event(
                    "versions",
                    f"new version{'s' if len(fresh) > 1 else ''}: {labels}",
                    names=tuple(c.name for c in fresh),
                )
            )
    if (a.deprecation_note or None) != (b.deprecation_note or None):
        if b.deprecation_note:
            out.append(Event("deprecated", f"deprecated: {b.deprecation_note}"))
        else:
            out.append(Event("undeprecated", "no longer deprecated"))
    if (a.note or None) != (b.note or None) and b.kind != "bare":
        out.append(Event("note", f"note: {b.note or '(none)'} (was: {a.note or '(none)'})"))
    added, removed = compare_features(cat(old).refs(a.features), feats_b)
    if added or removed:
        out.append(
            Event(
                "features",
                f"{len(added)} feature(s) added, {len(removed)} removed",
                added=added,
                removed=removed,
            )
        )
    return out


# ------------------------------------------------------------------ feature history


def family(releases: Sequence[Release], name: str) -> tuple[str, ...]:
    """A model name covers every CPU name built from it (`Skylake-Server`, `-v1`.., the
    `-IBRS` siblings that became its aliases); any other name covers only itself."""
    if not any((c := r.cpu(name)) is not None and c.model == name for r in releases):
        return (name,)
    names = [c.name for r in releases for c in r.cpus if c.model == name]
    return tuple(dict.fromkeys([name, *names]))


def feature_history(
    releases: Sequence[Release],
    location: str,
    *,
    model: str | None = None,
    downstream: bool = False,
) -> History:
    """When QEMU named the bit at `location`, and which CPU names gained and lost it."""
    rels = sorted(releases, key=lambda r: version_key(r.version))
    leaves = subleafed_leaves(rels)
    members: tuple[str, ...] = ()
    if model is not None:
        model = find_name(rels, model)
        members = family(rels, model)
    scope = set(members)

    memo: dict[str, tuple[FeatureRef | None, set[str], set[str]]] = {}

    def state(rel: Release) -> tuple[FeatureRef | None, set[str], set[str]]:
        if rel.version not in memo:
            memo[rel.version] = _state(rel)
        return memo[rel.version]

    def _state(rel: Release) -> tuple[FeatureRef | None, set[str], set[str]]:
        cat = Catalog(rel, leaves)
        ref = cat.by_location.get(location)
        spellings = {n for n, r in cat.by_name.items() if r.location == location}
        cpus = [c for c in rel.cpus if not scope or c.name in scope]
        return ref, {c.name for c in cpus if c.features & spellings}, {c.name for c in cpus}

    steps: list[Step] = []
    subject = None
    ever_known = False
    for version, rel, base in _slots(rels, downstream):
        if rel is None:
            steps.append(Step(version, gap=True, note=_gap_note(version, rels)))
            continue
        ref, have, names = state(rel)
        if ref is not None and rel.upstream:
            subject = ref.name
        prev = state(base) if base is not None else None
        events = _feature_events(
            prev,
            (ref, have, names),
            ever_known=ever_known,
            family=model is not None,
            location=location,
        )
        ever_known = ever_known or (ref is not None and rel.upstream)
        order = {c.name: i for i, c in enumerate(rel.cpus)}
        steps.append(
            Step(
                version,
                upstream=rel.upstream,
                since=base.version if base else None,
                present=ref is not None,
                label=ref.name if ref else None,
                count=len(have),
                have=tuple(sorted(have, key=order.__getitem__)),
                events=tuple(events),
            )
        )
    if subject is None:
        raise NotFound(f"no release in the database names a feature at {location}")
    return History(
        subject, "feature", location, model, members, tuple(steps), gaps(rels), downstream
    )


def _feature_events(
    old: tuple[FeatureRef | None, set[str], set[str]] | None,
    new: tuple[FeatureRef | None, set[str], set[str]],
    *,
    ever_known: bool,
    family: bool,
    location: str,
) -> list[Event]:
    ref, have, names = new
    out: list[Event] = []
    old_ref, old_have, old_names = old if old else (None, set(), set())
    where = describe_location(location)
    if ref is not None and old_ref is None:
        if ever_known:
            out.append(Event("named", f"QEMU names {where} again: {ref.name}"))
        else:
            out.append(Event("named", f"QEMU first names {where}: {ref.name}"))
    elif ref is None and old_ref is not None:
        out.append(Event("unnamed", f"QEMU no longer names {where} (was {old_ref.name})"))
    elif ref is not None and old_ref is not None and ref.name != old_ref.name:
        out.append(Event("renamed", f"renamed {old_ref.name} -> {ref.name} (same bit)"))

    def ev(kind: str, text: str, group: Iterable[str]) -> None:
        names_ = tuple(sorted(group))
        if names_:
            out.append(Event(kind, f"{text}: {', '.join(names_)}", names=names_))

    ev("gained", "gained by", (have & old_names) - old_have)
    ev("lost", "lost by", (old_have & names) - have)
    ev("new_with", "new CPU names with it", have - old_names)
    if family:
        ev("new_without", "new CPU names without it", (names - old_names) - have)
        ev("gone_with", "CPU names removed that had it", old_have - names)
    return out
