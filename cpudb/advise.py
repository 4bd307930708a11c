"""The advisor: which `-cpu` name, plus which extra flags, gives a guest what it needs.

Pure: a Release, the needs (already resolved to this release's names), the hosts
(already decoded) -> an `Advice` whose candidates carry their reasons. No I/O.

How a candidate is built, for every CPU name QEMU accepts (versioned names; aliases and
bare names are folded into the versioned name they resolve to):
  - the guest's features = the name's resolved features with the accelerator's
    defaults (KVM: x2apic on, svm/monitor off, ...), as QEMU builds them;
  - each need the name lacks becomes a flag to add (`pdpe1gb=on`); a flag that QEMU's
    `feature_dependencies[]` would clear unless another feature is present brings that
    feature too (`arch-capabilities` for `mds-no`), or the name is rejected with why;
  - vendor rule: a feature that only models of one vendor have in this release (svm on
    AMD models, vmx on Intel ones) is not added to another vendor's model unless asked;
  - with hosts under KVM: a flag is added only if every host has it, and the name's own
    features missing on a host are its blockers (QEMU drops them, or refuses with
    `enforce`): blocked names are dropped (kept, last, with `keep_blocked`).

Ranking (printed with each answer, see `RANKING`): runs on every host, then native
before added flags, fewer added flags, deprecated last, then closeness to the hosts
(the model features every host has that the guest would not see: fewer is closer;
a model of the hosts' own vendor first), or, without hosts, the newest generation
(the model whose newest version enables most features), then the newest version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cpudb.levels import LEVELS
from cpudb.model import CpuName, Release
from cpudb.record import Record, field, replace
from cpudb.resolve import missing_requirements, name_index

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:  # cpudb.host is imported only when there are hosts
    from cpudb.host import HostFeatures

RANKING = (
    "runs on every host given (names with blockers are dropped)",
    "native (no flag added) before names that need added flags",
    "fewer added flags",
    "deprecated models last",
    "with hosts: a model of the hosts' vendor, then closeness: fewer of the model "
    "features that every host has are left out of the guest",
    "without hosts: newest generation: the model whose newest version enables most features",
    "newer version of the same model first",
)

ENFORCE_NOTE = (
    "append ,enforce: QEMU then refuses to start when a host lacks a flag, instead of "
    "silently dropping it with a warning"
)

# Vendor strings -> vendor group for the vendor rule (Hygon's Dhyana is an AMD design).
VENDOR_GROUPS = {
    "GenuineIntel": "Intel",
    "AuthenticAMD": "AMD",
    "HygonGenuine": "AMD",
    "CentaurHauls": "Zhaoxin",
    "  Shanghai  ": "Zhaoxin",
}


def vendor_group(vendor: str) -> str:
    return VENDOR_GROUPS.get(vendor, vendor.strip() or "unknown")


class Need(Record):
    """One feature the guest needs, resolved in the release asked about."""

    text: str  # as the user wrote it
    name: str  # QEMU's name in this release
    location: str  # cpuid.0x80000001.edx.26
    where: str  # CPUID.80000001H:EDX[26]
    linux_name: str | None = None
    description: str | None = None
    via: str | None = None  # "x86-64-v3" when the need came from a level


class Host(Record):
    """One host the guest must run on: a name, its vendor, its features in this release."""

    name: str
    vendor: str
    features: HostFeatures

    @property
    def present(self) -> frozenset[str]:
        return self.features.present

    @property
    def unknown(self) -> frozenset[str]:
        return self.features.unknown


# (release, cpu with the features to check, host, accel) -> the features the host lacks.
BlockerFn = Callable[[Release, CpuName, Host, str], tuple[str, ...]]


def host_blockers(release: Release, cpu: CpuName, host: Host, accel: str) -> tuple[str, ...]:
    """`cpudb.host.blockers`: what the host lacks of the CPU's features, with KVM's rules
    (what KVM supplies by itself is no blocker; what the dump cannot tell is unknown)."""
    from cpudb.host import blockers

    return blockers(release, cpu, host.features, accel)


class Add(Record):
    """A flag added to a CPU name, and why."""

    name: str
    why: str


class RecommendedFlag(Record):
    """A flag QEMU's documentation recommends for one vendor's models."""

    name: str  # QEMU name in this release
    summary: str
    excludes: tuple[str, ...] = ()


class Candidate(Record):
    name: str  # the versioned CPU name (or the table name before QEMU 4.1)
    model: str
    version: int | None
    vendor: str
    aka: tuple[str, ...]  # aliases and bare names that resolve to it
    adds: tuple[Add, ...]  # flags for the needs (with their dependencies)
    extras: tuple[Add, ...]  # recommended flags the hosts support (--recommended)
    extras_skipped: tuple[tuple[str, str], ...]  # (flag, why not added)
    blockers: tuple[tuple[str, tuple[str, ...]], ...]  # (host, features it lacks)
    features: frozenset[str]  # what the guest gets
    level: int  # x86-64 psABI level of the guest
    generation: int  # features of the model's newest version
    closeness: int | None  # host model-features the guest would not see (None: no host)
    host_features: int | None  # model-features every host has
    deprecated: str | None
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def native(self) -> bool:
        return not self.adds

    def cpu(self, *, enforce: bool = False) -> str:
        """The `-cpu` argument: `Haswell-v4,pdpe1gb=on` (`,enforce` if asked)."""
        parts = [self.name] + [f"{a.name}=on" for a in (*self.adds, *self.extras)]
        if enforce:
            parts.append("enforce")
        return ",".join(parts)

    def all_adds(self) -> tuple[str, ...]:
        return tuple(a.name for a in (*self.adds, *self.extras))


class Rejection(Record):
    """Why one CPU name cannot be made to fit."""

    name: str
    reason: str


class Advice(Record):
    qemu: str
    accel: str
    needs: tuple[Need, ...]
    hosts: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...]
    dropped: int  # names dropped because of blockers
    impossible: tuple[str, ...]  # sentences, when there is no candidate
    notes: tuple[str, ...]
    ranking: tuple[str, ...] = RANKING
    recommended: tuple[RecommendedFlag, ...] = field(default=())

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


# --------------------------------------------------------------------- building blocks


class GuestBuilder:
    """The features a guest gets from a CPU name's features under an accelerator:
    the same as `resolve.with_accel`, with the accelerator's props indexed once."""

    def __init__(self, release: Release, accel: str | None) -> None:
        self.release = release
        self.accel = accel
        on: set[str] = set()
        off: set[str] = set()
        if accel:
            idx = name_index(release.features)
            for name, value in release.accel_defaults.get(accel, ()):
                canon = idx.get(name)
                if canon is None:
                    continue
                (on if value in ("on", "true") else off).add(canon)
                (off if value in ("on", "true") else on).discard(canon)
        self.deps = [(frozenset(d.requires), frozenset(d.clears)) for d in release.dependencies]
        self.on = frozenset(on)
        self.off = frozenset(off)
        self.not_here = frozenset(
            f.name for f in release.features if accel and accel != "kvm" and f.word == "FEAT_KVM"
        )

    def guest(self, features: frozenset[str], adds: Iterable[str] = ()) -> frozenset[str]:
        """Model features -> accel defaults -> user flags -> feature_dependencies[]
        (one pass, in order, as `resolve.apply_dependencies`)."""
        feats = set(features)
        if self.accel:
            feats = (feats - self.off) | self.on
        feats.update(adds)
        for requires, clears in self.deps:
            if requires.isdisjoint(feats):
                feats -= clears
        out = frozenset(feats)
        return out - self.not_here if self.not_here else out


def vendor_only(release: Release) -> dict[str, str]:
    """Feature -> vendor group, for features that models of only that vendor enable, at
    least two different models of it (one model alone is weak evidence: invtsc is only in
    Zhaoxin's YongFeng, la57 only in Icelake-Server in 7.2, yet both exist elsewhere)."""
    per_model: dict[tuple[str, str], set[str]] = {}
    for c in release.cpus:
        if c.kind in ("version", "model"):
            per_model.setdefault((vendor_group(c.vendor), c.model), set()).update(c.features)
    groups: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for (g, _), feats in per_model.items():
        groups.setdefault(g, set()).update(feats)
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    out: dict[str, str] = {}
    for g, feats in groups.items():
        others = set().union(*(v for k, v in groups.items() if k != g))
        for f in feats - others:
            if counts[f] > 1:
                out[f] = g
    return out


def model_features(release: Release) -> frozenset[str]:
    """Features some CPU model of the release enables: what a guest model is made of
    (host-only bits such as ht, ds, tm, acpi describe the host, not a guest)."""
    out: set[str] = set()
    for c in release.cpus:
        out |= c.features
    return frozenset(out)


class LevelIndex:
    """x86-64 psABI level (`cpudb.levels`, by CPUID location) of feature sets of one
    release, with the location -> name map built once."""

    def __init__(self, release: Release) -> None:
        by_loc = {f.location: f.name for f in release.features}
        self.levels = [(n, [by_loc.get(loc) for _, loc in LEVELS[n]]) for n in sorted(LEVELS)]

    def level(self, features: frozenset[str]) -> int:
        result = 0
        for n, names in self.levels:
            if not all(name in features for name in names):
                break
            result = n
        return result


def candidate_names(release: Release) -> list[tuple[CpuName, tuple[str, ...]]]:
    """(versioned or table CPU name, the aliases and bare names that resolve to it)."""
    aka: dict[str, list[str]] = {}
    for c in release.cpus:
        if c.alias_of:
            aka.setdefault(c.alias_of, []).append(c.name)
    return [(c, tuple(aka.get(c.name, ()))) for c in release.cpus if c.kind in ("version", "model")]


def generations(release: Release) -> dict[str, int]:
    """Model -> number of features of its newest version (how new a generation is)."""
    newest: dict[str, CpuName] = {}
    for c, _ in candidate_names(release):
        old = newest.get(c.model)
        if old is None or (c.version or 0) > (old.version or 0):
            newest[c.model] = c
    return {m: len(c.features) for m, c in newest.items()}


# --------------------------------------------------------------------- the advisor


def lacks_fn(release: Release, check: BlockerFn, accel: str) -> Callable[[str, Host], bool]:
    """(feature, host) -> does the host lack it under `accel` (by the blockers rules)."""
    probe = release.cpus[0] if release.cpus else None
    cache: dict[tuple[str, str], bool] = {}

    def host_lacks(feature: str, host: Host) -> bool:
        key = (feature, host.name)
        if key not in cache:
            if probe is None:
                return True
            # with what QEMU's feature_dependencies[] want, or it would clear the feature
            keep = {r for d in release.dependencies if feature in d.clears for r in d.requires}
            cpu = replace(probe, features=frozenset({feature} | keep))
            cache[key] = feature in check(release, cpu, host, accel)
        return cache[key]

    return host_lacks


class Planner:
    """Adds flags to one CPU name for the needs, respecting dependencies, vendor, hosts."""

    def __init__(
        self,
        release: Release,
        builder: GuestBuilder,
        hosts: Sequence[Host],
        host_lacks: Callable[[str, Host], bool],
        vendor_rule: dict[str, str],
        cross_vendor: bool,
    ) -> None:
        self.release = release
        self.builder = builder
        self.hosts = hosts
        self.host_lacks = host_lacks
        self.vendor_rule = vendor_rule
        self.cross_vendor = cross_vendor

    def why_not(self, feature: str, cpu: CpuName) -> str | None:
        """Why `feature` cannot be added to `cpu` (None: it can)."""
        owner = self.vendor_rule.get(feature)
        group = vendor_group(cpu.vendor)
        if owner and owner != group and not self.cross_vendor:
            return (
                f"{feature} is {owner}-only in QEMU {self.release.version} (only "
                f"{owner} models have it); --cross-vendor allows it"
            )
        lacking = [h.name for h in self.hosts if self.host_lacks(feature, h)]
        if lacking:
            return f"{', '.join(lacking)} lack{'s' if len(lacking) == 1 else ''} {feature}"
        return None

    def unknown_on(self, feature: str) -> list[str]:
        """Hosts whose data cannot tell whether they have `feature` (MSR bits, ...)."""
        return [
            h.name
            for h in self.hosts
            if feature in h.features.unknown
            and feature not in h.features.present
            and feature not in h.features.kvm_supplied
        ]

    def plan(
        self, cpu: CpuName, wanted: Sequence[tuple[str, str]], base: frozenset[str]
    ) -> tuple[list[Add], str | None]:
        """Flags to add so that the guest has every wanted feature, or why that fails.
        `wanted`: (feature, why) in order."""
        adds: list[Add] = []
        queue = [(f, why) for f, why in wanted if f not in base]
        while queue:
            f, why = queue.pop(0)
            if f in base or any(a.name == f for a in adds):
                continue
            bad = self.why_not(f, cpu)
            if bad:
                return adds, bad
            unsure = self.unknown_on(f)
            if unsure:
                why += (
                    f" (the data of {', '.join(unsure)} cannot tell whether it has "
                    f"{f}: with ,enforce QEMU checks when it starts)"
                )
            adds.append(Add(f, why))
            have = base | {a.name for a in adds}
            for requires in missing_requirements(f, have, self.release.dependencies):
                pick = next((r for r in requires if self.why_not(r, cpu) is None), None)
                if pick is None:
                    alts = "/".join(requires)
                    reason = self.why_not(requires[0], cpu)
                    return adds, (f"{f} needs {alts} (QEMU clears {f} without it), and {reason}")
                queue.insert(0, (pick, f"QEMU clears {f} without {pick}"))
        if not adds:
            return adds, None
        final = self.builder.guest(base, (a.name for a in adds))
        lost = [f for f, _ in wanted if f not in final]
        if lost:  # a dependency we could not see through; be explicit rather than wrong
            return adds, f"QEMU would still clear {', '.join(lost)}"
        return adds, None


def advise(
    release: Release,
    needs: Sequence[Need],
    *,
    hosts: Sequence[Host] = (),
    accel: str = "kvm",
    vendors: Sequence[str] = (),
    cross_vendor: bool = False,
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None = None,
    check: BlockerFn = host_blockers,
    keep_blocked: bool = False,
) -> Advice:
    """Rank every CPU name of `release` for the needs. See the module docstring.

    `vendors`: vendor strings to keep (empty: all). `recommended`: vendor group ("Intel",
    "AMD") -> flags QEMU's docs recommend; added when every host has them. `check`: the
    blocker rules (default: `cpudb.host.blockers`, KVM's rules).
    """
    builder = GuestBuilder(release, accel)
    use_hosts = tuple(hosts) if accel == "kvm" else ()
    host_lacks = lacks_fn(release, check, accel)
    planner = Planner(release, builder, use_hosts, host_lacks, vendor_only(release), cross_vendor)
    gens = generations(release)
    levels = LevelIndex(release)
    worthy = model_features(release)
    common: frozenset[str] | None = None
    if use_hosts:
        common = frozenset.intersection(*(h.present for h in use_hosts)) & worthy
    host_groups = {vendor_group(h.vendor) for h in use_hosts}
    wanted = [(n.name, "needed" + (f" ({n.via})" if n.via else "")) for n in needs]

    made: list[Candidate] = []
    rejected: list[Rejection] = []
    dropped = 0
    for cpu, aka in candidate_names(release):
        if vendors and cpu.vendor not in vendors:
            continue
        base = builder.guest(cpu.features)
        adds, bad = planner.plan(cpu, wanted, base)
        if bad:
            rejected.append(Rejection(cpu.name, bad))
            continue
        add_names = [a.name for a in adds]
        guest = builder.guest(cpu.features, add_names) if add_names else base
        blocked: list[tuple[str, tuple[str, ...]]] = []
        for h in use_hosts:
            with_adds = replace(cpu, features=cpu.features | set(add_names))
            b = check(release, with_adds, h, accel)
            if b:
                blocked.append((h.name, tuple(b)))
        if blocked and not keep_blocked:
            dropped += 1
            rejected.append(
                Rejection(
                    cpu.name,
                    "blocked: " + "; ".join(f"{h} lacks {', '.join(b)}" for h, b in blocked),
                )
            )
            continue
        extras, skipped = _recommended(cpu, guest, recommended, planner, use_hosts)
        if extras:
            guest = builder.guest(cpu.features, add_names + [a.name for a in extras])
        made.append(
            _candidate(
                release,
                cpu,
                aka,
                adds,
                extras,
                skipped,
                blocked,
                guest,
                gens,
                common,
                host_groups,
                bool(needs),
                levels,
            )
        )
    made.sort(key=lambda c: _rank_key(c, host_groups))
    impossible: tuple[str, ...] = ()
    if not made:
        impossible = _impossible(
            release, needs, hosts, accel, rejected, host_lacks, vendors, cross_vendor, recommended
        )
    return Advice(
        qemu=release.version,
        accel=accel,
        needs=tuple(needs),
        hosts=tuple(h.name for h in hosts),
        candidates=tuple(made),
        rejected=tuple(rejected),
        dropped=dropped,
        impossible=impossible,
        notes=_notes(release, hosts, accel, recommended),
        recommended=tuple(
            r for group in sorted(recommended or {}) for r in (recommended or {})[group]
        ),
    )


def _recommended(
    cpu: CpuName,
    guest: frozenset[str],
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None,
    planner: Planner,
    hosts: Sequence[Host],
) -> tuple[tuple[Add, ...], tuple[tuple[str, str], ...]]:
    if not recommended:
        return (), ()
    flags = recommended.get(vendor_group(cpu.vendor), ())
    if not hosts:
        return (), tuple(
            (r.name, "no host given to check it against") for r in flags if r.name not in guest
        )
    ok: list[RecommendedFlag] = []
    skipped: list[tuple[str, str]] = []
    for r in flags:
        if r.name in guest:
            continue
        unsure = planner.unknown_on(r.name)
        if unsure:
            skipped.append(
                (
                    r.name,
                    f"the data of {', '.join(unsure)} cannot tell whether it "
                    "has it (an MSR bit, or a leaf the dump lacks): add it by hand "
                    "if the host has it",
                )
            )
            continue
        bad = planner.why_not(r.name, cpu)
        if bad:
            skipped.append((r.name, bad))
        else:
            ok.append(r)
    excluded = {x for r in ok for x in r.excludes} | {
        x for r in flags if r.name in guest for x in r.excludes
    }
    adds: list[Add] = []
    for r in ok:
        if r.name in excluded:
            winner = next(o.name for o in (*ok, *flags) if r.name in o.excludes)
            skipped.append((r.name, f"QEMU's docs: mutually exclusive with {winner}"))
            continue
        more, bad = planner.plan(
            cpu, [(r.name, f"recommended: {r.summary}")], guest | {a.name for a in adds}
        )
        if bad:
            skipped.append((r.name, bad))
        else:
            adds.extend(more)
    return tuple(adds), tuple(skipped)


def _candidate(
    release: Release,
    cpu: CpuName,
    aka: tuple[str, ...],
    adds: list[Add],
    extras: tuple[Add, ...],
    skipped: tuple[tuple[str, str], ...],
    blocked: list[tuple[str, tuple[str, ...]]],
    guest: frozenset[str],
    gens: dict[str, int],
    common: frozenset[str] | None,
    host_groups: set[str],
    needs: bool,
    levels: LevelIndex,
) -> Candidate:
    reasons: list[str] = []
    if blocked:
        reasons.append("BLOCKED: " + "; ".join(f"{h} lacks {', '.join(b)}" for h, b in blocked))
    if adds:
        reasons.append(
            f"adds {len(adds)} flag{'s' if len(adds) > 1 else ''}: "
            + ", ".join(a.name for a in adds)
        )
    elif needs:
        reasons.append("native: has every need")
    closeness = None
    if common is not None:
        closeness = len(common - guest)
        group = vendor_group(cpu.vendor)
        if host_groups and group not in host_groups:
            reasons.append(f"{group} model on {'/'.join(sorted(host_groups))} host(s)")
        reasons.append(
            f"closeness: leaves out {closeness} of the {len(common)} model features every host has"
        )
    else:
        reasons.append(
            f"generation: {cpu.model}'s newest version enables {gens.get(cpu.model, 0)} features"
        )
    notes: list[str] = []
    if cpu.deprecation_note is not None:
        notes.append(f"deprecated: {cpu.deprecation_note or 'QEMU marks it deprecated'}")
    bare = [a for a in aka if a == cpu.model]
    named = [a for a in aka if a != cpu.model]
    if named:
        notes.append(f"also called {', '.join(named)} (fixed alias)")
    if bare:
        notes.append(
            f"bare name {bare[0]} = this version on PC machine types >= 4.1 only "
            "(it depends on the machine type)"
        )
    if cpu.note:
        notes.append(f"QEMU's note for this version: {cpu.note}")
    return Candidate(
        name=cpu.name,
        model=cpu.model,
        version=cpu.version,
        vendor=cpu.vendor,
        aka=aka,
        adds=tuple(adds),
        extras=extras,
        extras_skipped=skipped,
        blockers=tuple(blocked),
        features=guest,
        level=levels.level(guest),
        generation=gens.get(cpu.model, 0),
        closeness=closeness,
        host_features=None if common is None else len(common),
        deprecated=cpu.deprecation_note,
        reasons=tuple(reasons),
        notes=tuple(notes),
    )


def _rank_key(c: Candidate, host_groups: set[str]) -> tuple:
    other_vendor = bool(host_groups) and vendor_group(c.vendor) not in host_groups
    return (
        bool(c.blockers),
        len(c.adds),
        c.deprecated is not None,
        other_vendor,
        c.closeness or 0,
        -c.generation,
        -(c.version or 0),
        c.name,
    )


def _notes(
    release: Release,
    hosts: Sequence[Host],
    accel: str,
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None,
) -> tuple[str, ...]:
    notes = [ENFORCE_NOTE]
    if release.default_version is None:
        notes.append(
            f"QEMU {release.version} predates versioned CPU names (4.1): each name "
            "is its own table entry"
        )
    else:
        notes.append(
            "versioned names (Haswell-v4) mean the same on every machine type; a bare "
            "name (Haswell) is resolved by the machine type (-v1 on PC machine types "
            ">= 4.1), so prefer the versioned name"
        )
    if hosts and accel == "kvm":
        groups = sorted({vendor_group(h.vendor) for h in hosts})
        notes.append(
            f"under KVM the guest sees the host's vendor ({', '.join(groups)}), "
            "whatever the model's vendor"
        )
        if len(groups) > 1:
            notes.append(
                "the hosts are of different vendors: live migration between them is "
                "not supported by QEMU/KVM"
            )
        unknown = set().union(*(h.unknown for h in hosts))
        if unknown:
            notes.append(
                f"{len(unknown)} features cannot be read from the host data (MSR "
                "features such as mds-no, leaves the dump lacks): not counted as "
                "blockers; with ,enforce QEMU checks them when it starts"
            )
    elif not hosts and accel == "kvm":
        notes.append(
            "no host given: under KVM a model runs only where the host CPU has every "
            "feature it enables; pass --host FILE|NAME or --this-host to keep only those"
        )
    elif hosts:
        notes.append(
            f"under {accel.upper()} QEMU emulates the CPU: hosts are not consulted "
            "(cpudb does not model TCG's own feature limits)"
        )
    if recommended is not None and not (hosts and accel == "kvm"):
        notes.append(
            "--recommended adds QEMU's recommended flags only with hosts (--host) "
            "to check them against; they are listed, not added"
        )
    return tuple(notes)


def _impossible(
    release: Release,
    needs: Sequence[Need],
    hosts: Sequence[Host],
    accel: str,
    rejected: Sequence[Rejection],
    host_lacks: Callable[[str, Host], bool],
    vendors: Sequence[str],
    cross_vendor: bool,
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None,
) -> tuple[str, ...]:
    """Sentences that say exactly why no CPU name can work."""
    out: list[str] = []
    kvm_hosts = list(hosts) if accel == "kvm" else []
    hopeless = []
    for n in needs:
        lacking = [h.name for h in kvm_hosts if host_lacks(n.name, h)]
        if not lacking:
            continue
        what = n.where + (f", {n.description}" if n.description else "")
        who = "no host has" if len(lacking) == len(kvm_hosts) else f"{', '.join(lacking)} lack"
        out.append(
            f"{who} {n.name} ({what}): impossible under KVM here, since KVM cannot "
            "give a guest a CPU feature the host CPU lacks"
        )
        hopeless.append(n)
    if hopeless:
        tcg = advise(release, needs, accel="tcg", vendors=vendors, cross_vendor=cross_vendor)
        if tcg.best is not None:
            out.append(
                f"under TCG (emulation, much slower): -accel tcg -cpu {tcg.best.cpu(enforce=True)}"
            )
        return tuple(out)
    if not rejected:
        if vendors:
            return ("no CPU name of the vendor asked for exists in QEMU " + release.version,)
        return (f"QEMU {release.version} has no CPU names",)
    counts: dict[str, int] = {}
    for r in rejected:
        key = r.reason
        counts[key] = counts.get(key, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    out.append(f"all {len(rejected)} CPU names fail; most common reasons:")
    out += [f"{n} name{'s' if n > 1 else ''}: {reason}" for reason, n in top]
    return tuple(out)


def since_by_model(
    timeline: Iterable[tuple[str, str, str]], upstream: Iterable[str]
) -> dict[str, str]:
    """(release, cpu, model) rows of CPU names having a feature, oldest release first ->
    model -> the first upstream release in which one of its names had it."""
    ups = set(upstream)
    out: dict[str, str] = {}
    for rel, _cpu, model in timeline:
        if rel in ups:
            out.setdefault(model, rel)
    return out


def since_by_name(
    timeline: Iterable[tuple[str, str, str]], upstream: Iterable[str]
) -> dict[str, str]:
    """Same as `since_by_model`, per CPU name."""
    ups = set(upstream)
    out: dict[str, str] = {}
    for rel, cpu, _model in timeline:
        if rel in ups:
            out.setdefault(cpu, rel)
    return out


def pick_recommended(
    data: dict, version: str, resolve: Callable[[str], str | None]
) -> tuple[str | None, dict[str, tuple[RecommendedFlag, ...]]]:
    """From `data/qemu-recommended-flags.json` (parsed): the list of the newest release
    documented not after `version` (else the oldest), with names resolved in the release
    asked about (`resolve`: QEMU name -> this release's name, None when it has none)."""
    from cpudb.versions import version_key

    releases = data.get("releases", {})
    if not releases:
        return None, {}
    key = version_key(version)[0]
    ordered = sorted(releases, key=version_key)
    older = [v for v in ordered if version_key(v)[0] <= key]
    used = older[-1] if older else ordered[0]
    out: dict[str, tuple[RecommendedFlag, ...]] = {}
    for vendor, flags in releases[used].get("vendors", {}).items():
        group = {"intel": "Intel", "amd": "AMD"}.get(vendor, vendor)
        items = []
        for f in flags:
            name = resolve(f["name"])
            if name is not None:
                excludes = tuple(x for x in (resolve(e) for e in f.get("excludes", ())) if x)
                items.append(RecommendedFlag(name, f.get("summary", ""), excludes))
        out[group] = tuple(items)
    return used, out
