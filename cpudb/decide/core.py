"""Every CPU name of a release, planned for the needs and ranked: the one answer that
`advise`, `baseline`, `host`, `diagnose` and the TUI all ask for.

For each CPU name QEMU accepts (versioned names; aliases and bare names are folded
into the versioned name they resolve to):
  - the guest's features: the name's resolved features under the accelerator
    (`cpudb.decide.guest`);
  - the flags to add for the needs, with what they depend on (`cpudb.decide.plan`), or
    a rejection that says why the name cannot be made to fit;
  - on each offer (host under KVM, or TCG): the features it cannot give, the name's
    blockers (QEMU drops them with a warning, or refuses to start with `enforce`);
  - scores, ranked by one policy (`cpudb.decide.rank`).
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.decide import rank
from cpudb.decide.deps import Deps
from cpudb.decide.guest import GuestBuilder, candidate_names, model_features
from cpudb.decide.offer import Offer, common
from cpudb.decide.plan import Add, Planner, vendor_group
from cpudb.levels import level
from cpudb.model import CpuName, Release
from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.decide.rank import SortKey


class Need(Record):
    """One feature the guest needs, resolved in the release asked about."""

    text: str  # as the user wrote it
    name: str  # QEMU's name in this release
    location: str  # cpuid.0x80000001.edx.26
    where: str  # CPUID.80000001H:EDX[26]
    linux_name: str | None = None
    description: str | None = None
    via: str | None = None  # "x86-64-v3" when the need came from a level or a guest OS


class Candidate(Record):
    name: str  # the versioned CPU name (or the table name before QEMU 4.1)
    model: str
    version: int | None
    vendor: str
    aka: tuple[str, ...]  # aliases and bare names that resolve to it
    adds: tuple[Add, ...]  # flags for the needs (with their dependencies)
    extras: tuple[Add, ...]  # recommended flags the hosts support (--recommended)
    extras_skipped: tuple[tuple[str, str], ...]  # (flag, why not added)
    blockers: tuple[tuple[str, tuple[str, ...]], ...]  # (offer, features it lacks)
    features: frozenset[str]  # what the guest gets
    level: int  # x86-64 psABI level of the guest
    closeness: int | None  # offer model-features the guest would not see (None: no offer)
    host_features: int | None  # model features every offer has
    deprecated: str | None
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()
    coverage: rank.Coverage | None = None  # catalogued CPUs it runs on under KVM

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


class Choice(Record):
    """The ranked candidates of a release for a request, and the names that failed."""

    policy: str
    share: float
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...]
    dropped: int  # names dropped because of blockers
    ranking: tuple[str, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Context:
    """What every candidate of one request shares, built once."""

    def __init__(
        self,
        release: Release,
        accel: str,
        offers: Sequence[Offer],
        linux_deps: Sequence[tuple[str, str]] = (),
        cross_vendor: bool = False,
    ) -> None:
        self.release = release
        self.accel = accel
        self.offers = tuple(offers)
        self.builder = GuestBuilder(release, accel)
        self.deps = Deps(release, linux_deps)
        self.planner = Planner(
            release, self.builder, self.offers, self.deps, cross_vendor=cross_vendor
        )
        self.worthy = model_features(release)
        cpuid_words = {w.name for w in release.words if w.type == "cpuid"}
        self.cpuid_features = (
            frozenset(f.name for f in release.features if f.word in cpuid_words) & self.worthy
        )
        self.common = common(self.offers) & self.worthy if self.offers else None
        self.groups = {vendor_group(o.vendor) for o in self.offers if o.vendor}


def choose(
    release: Release,
    needs: Sequence[Need] = (),
    *,
    accel: str = "kvm",
    offers: Sequence[Offer] = (),
    catalogue: Sequence[rank.CatalogOffer] | None = None,
    vendors: Sequence[str] = (),
    cross_vendor: bool = False,
    keep_blocked: bool = False,
    linux_deps: Sequence[tuple[str, str]] = (),
    share: float = rank.DEFAULT_SHARE,
    context: Context | None = None,
) -> Choice:
    """Plan and rank every CPU name of `release` for the needs on the offers.

    `offers`: where the guest must run (each host under KVM, or TCG's offer); none: no
    host given, ranked for portability over `catalogue` (what KVM offers on catalogued
    real CPUs). `vendors`: CPUID vendor strings of the models to keep (empty: all)."""
    ctx = context or Context(release, accel, offers, linux_deps, cross_vendor)
    policy = rank.CLOSEST if ctx.offers else rank.PORTABLE
    wanted = [(n.name, "needed" + (f" ({n.via})" if n.via else "")) for n in needs]
    coverer = (
        rank.Coverer(catalogue, (n.name for n in needs)) if catalogue and accel == "kvm" else None
    )
    made: list[tuple[SortKey, Candidate]] = []
    rejected: list[Rejection] = []
    dropped = 0
    for cpu, aka in candidate_names(release):
        if vendors and cpu.vendor not in vendors:
            continue
        base = ctx.builder.guest(cpu.features)
        adds, bad = ctx.planner.plan(cpu, wanted, base)
        if bad:
            rejected.append(Rejection(cpu.name, bad))
            continue
        guest = ctx.builder.guest(cpu.features, [a.name for a in adds]) if adds else base
        names = (cpu.name, *aka)
        added = [a.name for a in adds]
        blocked = tuple(
            (o.name, b) for o in ctx.offers if (b := o.blockers_for(names, guest, added))
        )
        if blocked and not keep_blocked:
            dropped += 1
            why = "; ".join(f"{h} lacks {', '.join(b)}" for h, b in blocked)
            rejected.append(Rejection(cpu.name, f"blocked: {why}"))
            continue
        cand = _candidate(ctx, cpu, aka, adds, blocked, guest, bool(needs), coverer)
        made.append((rank.key(_scores(ctx, cand), policy, share), cand))
    made.sort(key=lambda kc: kc[0])
    return Choice(
        policy,
        share,
        tuple(c for _, c in made),
        tuple(rejected),
        dropped,
        rank.ranking_text(policy, share),
    )


def _scores(ctx: Context, c: Candidate) -> rank.Scores:
    other = bool(ctx.groups) and vendor_group(c.vendor) not in ctx.groups
    return rank.Scores(
        name=c.name,
        version=c.version or 0,
        adds=len(c.adds),
        deprecated=c.deprecated is not None,
        blocked=bool(c.blockers),
        level=c.level,
        richness=len(c.features & ctx.cpuid_features),
        closeness=c.closeness,
        other_vendor=other,
        coverage=c.coverage,
    )


def _candidate(
    ctx: Context,
    cpu: CpuName,
    aka: tuple[str, ...],
    adds: list[Add],
    blocked: tuple[tuple[str, tuple[str, ...]], ...],
    guest: frozenset[str],
    needs: bool,
    coverer: rank.Coverer | None,
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
    if ctx.common is not None:
        closeness = len(ctx.common - guest)
        group = vendor_group(cpu.vendor)
        if ctx.groups and group not in ctx.groups:
            reasons.append(f"{group} model on {'/'.join(sorted(ctx.groups))} host(s)")
        where = "every host has" if ctx.accel == "kvm" else f"{ctx.accel.upper()} emulates"
        reasons.append(
            f"closeness: leaves out {closeness} of the {len(ctx.common)} model features {where}"
        )
    coverage = coverer.coverage(guest, vendor_group(cpu.vendor)) if coverer is not None else None
    if coverage is not None and ctx.common is None:
        reasons.append(coverage.text())
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
        extras=(),
        extras_skipped=(),
        blockers=blocked,
        features=guest,
        level=level(ctx.release, guest),
        closeness=closeness,
        host_features=None if ctx.common is None else len(ctx.common),
        deprecated=cpu.deprecation_note,
        reasons=tuple(reasons),
        notes=tuple(notes),
        coverage=coverage,
    )
