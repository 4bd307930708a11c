"""One ranking of planned CPU names, with named policies.

- `portable` (no host given, KVM): the answer should run on the most real hosts. Each
  candidate is checked against a catalogue of real CPUs (what KVM would offer on each,
  from public CPUID dumps): among the catalogued CPUs of the model's vendor that can give
  the needs at all, on how many does it run? (A guest is never moved across vendors,
  and an AMD host gets an AMD model: a Haswell is not judged by Opterons.) Of the
  candidates that run on at least `share` of them, the highest x86-64 level comes
  first, then the fewest added flags, then the most CPUs it runs on, then the fewest
  features (by inclusion, the smaller model runs wherever the larger does); newest is
  not best.
- `closest` (hosts given, this machine, or TCG): every candidate runs on every offer
  (blocked ones last, or dropped); the closest to what the offers share comes first
  (fewest of their common model features left out of the guest), then fewer added flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    SortKey = tuple[int | str, ...]  # compared element by element; bools are ints

PORTABLE = "portable"
CLOSEST = "closest"
DEFAULT_SHARE = 0.8

RANKINGS = {
    PORTABLE: (
        "deprecated models last",
        "runs on at least {share} of the catalogued CPUs of its vendor that can give the "
        "needs (under KVM a guest gets only what the host CPU has)",
        "among those: the highest x86-64 level, then fewer added flags, then the most "
        "catalogued CPUs it runs on, then the fewest features (a model whose features are "
        "a subset of another's runs wherever that one does)",
        "the others by how many catalogued CPUs they run on, then fewer added flags",
        "newer version of the same model first",
    ),
    CLOSEST: (
        "runs on every host given (names with blockers are dropped, or last with --all)",
        "deprecated models last",
        "closeness: fewer of the model features that every host has are left out of the guest",
        "fewer added flags",
        "a model of the hosts' vendor",
        "newer version of the same model first",
    ),
}


class CatalogOffer(Record):
    """What KVM would offer on one catalogued real CPU (or several identical ones)."""

    present: frozenset[str]
    unknown: frozenset[str]
    vendor: str  # vendor group: Intel, AMD, Zhaoxin
    cpus: tuple[tuple[str, int | None], ...]  # (name, year) of the CPUs with this offer


class Coverage(Record):
    """On how many catalogued CPUs a guest runs under KVM."""

    runs: int  # CPUs that give every feature the guest asks for
    may: int  # CPUs where only features the dumps cannot tell (MSR bits) are in doubt
    able: int  # CPUs that can give the needs at all
    total: int  # CPUs in the catalogue (of the vendor when `vendor` is set)
    since: tuple[tuple[str, int], ...] = ()  # (vendor, year): every such CPU since runs it
    misses: tuple[str, ...] = ()  # a few CPUs it does not run on (for explanations)
    vendor: str = ""  # the vendor group counted ("" = every vendor)

    @property
    def share(self) -> float:
        return self.runs / self.able if self.able else 0.0

    def text(self) -> str:
        which = f"catalogued {self.vendor} CPUs" if self.vendor else "catalogued CPUs"
        if not self.able:
            return f"none of the {self.total} {which} can give the needs"
        pct = round(100 * self.share)
        since = "; ".join(f"{v} since {y}" for v, y in self.since)
        may = f" (+{self.may} more if their MSR bits allow)" if self.may else ""
        return (
            f"runs on {self.runs} of the {self.able} {which} that can give the needs "
            f"({pct}%){may}" + (f"; {since}" if since else "")
        )


class Coverer:
    """Coverage of guests against a catalogue (subset tests on frozensets, in C)."""

    def __init__(self, catalogue: Sequence[CatalogOffer], needs: Iterable[str]) -> None:
        need = frozenset(needs)
        self.total = sum(len(o.cpus) for o in catalogue)
        self.totals: dict[str, int] = {}
        for o in catalogue:
            self.totals[o.vendor] = self.totals.get(o.vendor, 0) + len(o.cpus)
        self.able = [(o.present, o.present | o.unknown, o) for o in catalogue if need <= o.present]

    def coverage(self, guest: frozenset[str], vendor: str | None = None) -> Coverage:
        """On how many catalogued CPUs (of vendor group `vendor`, else all) it runs."""
        runs = may = able = 0
        by_vendor: dict[str, list[tuple[int, bool]]] = {}
        misses: list[str] = []
        for present, known, o in self.able:
            if vendor is not None and o.vendor != vendor:
                continue
            ok = guest <= present
            maybe = not ok and guest <= known
            n = len(o.cpus)
            able += n
            runs += n if ok else 0
            may += n if maybe else 0
            if not ok and len(misses) < 3:
                misses.append(o.cpus[0][0])
            for _, year in o.cpus:
                if year is not None:
                    by_vendor.setdefault(o.vendor, []).append((year, ok))
        total = self.total if vendor is None else self.totals.get(vendor, 0)
        return Coverage(
            runs, may, able, total, _since(by_vendor), tuple(misses), vendor=vendor or ""
        )


def _since(by_vendor: dict[str, list[tuple[int, bool]]]) -> tuple[tuple[str, int], ...]:
    """Per vendor, the earliest year from which every catalogued CPU runs the guest."""
    out = []
    for vendor, rows in sorted(by_vendor.items()):
        first: int | None = None
        for year, ok in sorted(rows, reverse=True):
            if not ok:
                break
            first = year
        if first is not None:
            out.append((vendor, first))
    return tuple(out)


class Scores(Record):
    """What the ranking reads of one candidate."""

    name: str
    version: int
    adds: int
    deprecated: bool
    blocked: bool
    level: int
    richness: int  # CPUID model features the guest gets
    closeness: int | None  # common offer features left out (None: no offer)
    other_vendor: bool
    coverage: Coverage | None


def key(s: Scores, policy: str, share: float = DEFAULT_SHARE) -> SortKey:
    """The sort key of a candidate under a policy (smaller first)."""
    if policy == CLOSEST:
        return (
            s.blocked,
            s.deprecated,
            s.closeness or 0,
            s.adds,
            s.other_vendor,
            -s.version,
            s.name,
        )
    cov = s.coverage
    if cov is None:  # no catalogue to count hosts with: natives, then the richest
        return (s.deprecated, s.adds, -s.richness, -s.version, s.name)
    meets = cov.able > 0 and cov.runs >= share * cov.able
    return (
        s.deprecated,
        not meets,
        -s.level if meets else 0,
        s.adds if meets else 0,
        -cov.runs if meets else 0,
        s.richness if meets else 0,
        -cov.runs,
        s.adds,
        -s.version,
        s.name,
    )


def ranking_text(policy: str, share: float = DEFAULT_SHARE) -> tuple[str, ...]:
    return tuple(r.format(share=f"{round(share * 100)}%") for r in RANKINGS[policy])
