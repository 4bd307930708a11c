"""A fleet split into live-migration pools, each with a model every member runs.

Pure: Release + hosts (KVM offers) + needs -> Pools. The rules:
  - never across vendors: a KVM guest sees its host's CPUID vendor, and QEMU/KVM do not
    migrate between vendors, so each vendor's hosts are pooled apart;
  - identical CPUs (equal offers) are decided once, whatever their number;
  - within a vendor, hosts start grouped by the model family of their own best CPU name
    (Skylake-Server, Cascadelake-Server, EPYC-Rome, ...); a group lighter than `min_pool`
    (a pool of one host has nowhere to migrate to) joins the group where the merge loses
    the fewest guest features, summed over the hosts;
  - each pool's model and flags are `cpudb.baseline` of its members: every member runs
    them (the decision core's blockers, QEMU's own verdicts where the host data has them);
  - for each pool, what leaving out its weakest hosts (up to `leave_out` of its distinct
    CPUs) would gain: the features the baseline of the rest adds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cpudb.advise import Candidate, Need
from cpudb.baseline import Baseline, baseline
from cpudb.decide.offer import Offer, distinct, same_cpu
from cpudb.decide.plan import VENDOR_GROUPS, vendor_group
from cpudb.model import Release
from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.decide.offer import SameCpu

    Base = Callable[[Sequence[Offer]], Baseline]  # a group's baseline (memoised)
    WeightOf = Callable[[Offer], int]  # hosts a distinct CPU stands for


class Without(Record):
    """The pool's baseline with some of its hosts left out."""

    left_out: tuple[str, ...]  # host names
    weight: int  # how many hosts that is (weights counted)
    cpu: str | None
    gains: tuple[str, ...]  # guest features the rest would get that the pool does not


class Pool(Record):
    vendor: str
    hosts: tuple[str, ...]
    weight: int
    baseline: Baseline
    without: tuple[Without, ...] = ()

    @property
    def model(self) -> str | None:
        return self.baseline.best.name if self.baseline.best else None

    @property
    def features(self) -> frozenset[str]:
        return guest_features(self.baseline)


class Pools(Record):
    qemu: str
    pools: tuple[Pool, ...]
    together: tuple[tuple[str, Baseline], ...]  # vendor -> the baseline of all its hosts
    distinct: int  # distinct CPUs decided
    notes: tuple[str, ...] = ()


def guest_features(b: Baseline) -> frozenset[str]:
    if b.best is None:
        return frozenset()
    return b.best.features | {a.name for a in b.extras}


def _models_of(release: Release, vendor: str) -> tuple[str, ...]:
    """The vendor strings of the models a pool of `vendor` hosts takes: its vendor
    group's; any model when the release has none of that group (Zhaoxin before 9.x)."""
    group = vendor_group(vendor)
    strings = tuple(v for v, g in VENDOR_GROUPS.items() if g == group) or (vendor,)
    return strings if any(c.vendor in strings for c in release.cpus) else ()


def pools(
    release: Release,
    hosts: Sequence[Offer],
    needs: Sequence[Need] = (),
    *,
    weights: dict[str, int] | None = None,
    min_pool: int = 2,
    leave_out: int = 2,
    linux_deps: Sequence[tuple[str, str]] = (),
    accept: Callable[[Candidate], bool] | None = None,
) -> Pools:
    weights = weights or {}
    kinds = distinct(hosts)
    reps = [members[0] for members in kinds.values()]

    weight = {k: sum(weights.get(h.name, 1) for h in members) for k, members in kinds.items()}

    def weight_of(rep: Offer) -> int:
        return weight[same_cpu(rep)]

    memo: dict[frozenset[SameCpu], Baseline] = {}

    def base(group: Sequence[Offer]) -> Baseline:
        k = frozenset(same_cpu(o) for o in group)
        if k not in memo:
            memo[k] = baseline(
                release,
                group,
                needs,
                vendors=_models_of(release, group[0].vendor),
                linux_deps=linux_deps,
                accept=accept,
            )
        return memo[k]

    out: list[Pool] = []
    together: list[tuple[str, Baseline]] = []
    for vendor in sorted({r.vendor for r in reps}):
        mine = [r for r in reps if r.vendor == vendor]
        together.append((vendor, base(mine)))
        groups: dict[str, list[Offer]] = {}
        for r in mine:
            b = base([r])
            groups.setdefault(b.best.model if b.best else "(none)", []).append(r)
        parts = sorted(groups.values(), key=lambda g: -len(guest_features(base(g))))
        parts = _merge_light(parts, base, weight_of, min_pool)
        for g in parts:
            b = base(g)
            names = tuple(h.name for r in g for h in kinds[same_cpu(r)])
            out.append(
                Pool(
                    vendor=vendor,
                    hosts=names,
                    weight=sum(weight_of(r) for r in g),
                    baseline=b,
                    without=_without(g, b, base, weight_of, kinds, leave_out),
                )
            )
    notes = []
    if len({vendor_group(r.vendor) for r in reps}) > 1 or len({r.vendor for r in reps}) > 1:
        notes.append(
            "hosts of different CPU vendors are never pooled together: a KVM guest sees "
            "its host's vendor, and QEMU/KVM do not live-migrate between vendors"
        )
    out.sort(key=lambda p: (p.vendor, -p.weight, p.hosts))
    return Pools(release.version, tuple(out), tuple(together), len(reps), tuple(notes))


def _merge_light(
    groups: Sequence[Sequence[Offer]], base: Base, weight_of: WeightOf, min_pool: int
) -> list[list[Offer]]:
    """Groups lighter than `min_pool` join another, lightest first, until none is light or
    one group is left: the one where the merge loses the fewest guest features summed
    over the hosts (each host of both groups counts what its pool's model loses)."""
    parts = [list(g) for g in groups]

    def w(g: list[Offer]) -> int:
        return sum(weight_of(r) for r in g)

    def n(g: list[Offer]) -> int:
        return len(guest_features(base(g)))

    while len(parts) > 1:
        light = [g for g in parts if w(g) < min_pool]
        if not light:
            break
        g = min(light, key=lambda g: (w(g), n(g)))
        rest = [p for p in parts if p is not g]

        def loss(p: list[Offer], g: list[Offer] = g) -> tuple[int, int]:
            merged = n(p + g)
            return (w(p) * (n(p) - merged) + w(g) * (n(g) - merged), -merged)

        into = min(rest, key=loss)
        parts = [p for p in rest if p is not into] + [into + g]
    return sorted(parts, key=lambda g: -len(guest_features(base(g))))


def _without(
    group: Sequence[Offer],
    b: Baseline,
    base: Base,
    weight_of: WeightOf,
    kinds: dict[SameCpu, list[Offer]],
    leave_out: int,
) -> tuple[Without, ...]:
    """Greedily leave out the distinct CPU whose absence gains the rest the most, up to
    `leave_out` of them (never the last one)."""
    out: list[Without] = []
    have = guest_features(b)
    rest = list(group)
    left: list[Offer] = []
    for _ in range(min(leave_out, len(group) - 1)):
        best: tuple[tuple[int, int], Offer, list[Offer], frozenset[str]] | None = None
        for r in rest:
            others = [x for x in rest if x is not r]
            gain = guest_features(base(others)) - have
            score = (len(gain), -weight_of(r))
            if best is None or score > best[0]:
                best = (score, r, others, gain)
        if best is None or not best[3]:
            break
        _, r, rest, gain = best
        left.append(r)
        nb = base(rest)
        out.append(
            Without(
                left_out=tuple(h.name for x in left for h in kinds[same_cpu(x)]),
                weight=sum(weight_of(x) for x in left),
                cpu=nb.cpu(enforce=True),
                gains=tuple(sorted(gain)),
            )
        )
    return tuple(out)
