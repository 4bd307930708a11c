"""The advisor: which `-cpu` name, plus which extra flags, gives a guest what it needs.

Pure: a Release, the needs (already resolved to this release's names), the offers
(where the guest must run: hosts under KVM, or TCG) -> an `Advice` whose candidates
carry their reasons. The planning and the ranking are the decision core's
(`cpudb.decide`); advice adds QEMU's recommended flags (`cpudb.recommended`), the
notes and why nothing works when nothing does (`cpudb.advice_notes`). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cpudb import advice_notes
from cpudb.advice_notes import Impossible
from cpudb.decide import rank
from cpudb.decide.core import Candidate, Choice, Context, Need, Rejection, choose
from cpudb.decide.offer import Offer, tcg_offer
from cpudb.decide.plan import Add
from cpudb.model import Release
from cpudb.recommended import RecommendedFlag, with_recommended
from cpudb.record import Record, field

__all__ = ["Add", "Advice", "Candidate", "Need", "Offer", "Rejection", "advise"]


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
    ranking: tuple[str, ...] = ()
    recommended: tuple[RecommendedFlag, ...] = field(default=())
    policy: str = rank.PORTABLE
    unreachable: tuple[str, ...] = ()  # needs no offer (or no catalogued CPU) can give
    lacking: tuple[str, ...] = ()  # needs that some offer (host, TCG) cannot give at all
    reasons: tuple[Impossible, ...] = ()  # `impossible`, structured

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def offers_for(release: Release, accel: str, hosts: Sequence[Offer]) -> tuple[Offer, ...]:
    """Where the guest must run: the hosts under KVM; TCG's own offer under TCG."""
    if accel == "kvm":
        return tuple(hosts)
    tcg = tcg_offer(release)
    return (tcg,) if tcg is not None else ()


def advise(
    release: Release,
    needs: Sequence[Need],
    *,
    hosts: Sequence[Offer] = (),
    accel: str = "kvm",
    vendors: Sequence[str] = (),
    cross_vendor: bool = False,
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None = None,
    keep_blocked: bool = False,
    catalogue: Sequence[rank.CatalogOffer] | None = None,
    linux_deps: Sequence[tuple[str, str]] = (),
    share: float = rank.DEFAULT_SHARE,
) -> Advice:
    """Rank every CPU name of `release` for the needs (see `cpudb.decide.core`).

    `hosts`: KVM offers of the hosts (ignored under TCG, where TCG's offer counts).
    `vendors`: vendor strings to keep (empty: all). `recommended`: vendor group
    ("Intel", "AMD") -> flags QEMU's docs recommend; added when every host has them.
    `catalogue`: KVM offers of catalogued real CPUs, for the portable ranking."""
    offers = offers_for(release, accel, hosts)
    ctx = Context(release, accel, offers, linux_deps, cross_vendor)
    choice = choose(
        release,
        needs,
        accel=accel,
        catalogue=catalogue,
        vendors=vendors,
        keep_blocked=keep_blocked,
        share=share,
        context=ctx,
    )
    made = list(choice.candidates)
    if recommended:
        made = [with_recommended(c, recommended, ctx.planner, offers) for c in made]
    reasons: tuple[Impossible, ...] = ()
    if not made:
        reasons = advice_notes.impossible(
            release, needs, accel, offers, choice, ctx.planner, vendors
        )
        if any(r.kind == "host-lacks" for r in reasons):
            reasons += _under_tcg(release, needs, vendors)
    return Advice(
        qemu=release.version,
        accel=accel,
        needs=tuple(needs),
        hosts=tuple(o.name for o in hosts) if accel == "kvm" else (),
        candidates=tuple(made),
        rejected=choice.rejected,
        dropped=choice.dropped,
        impossible=tuple(r.text for r in reasons),
        reasons=reasons,
        notes=advice_notes.notes(release, hosts, accel, offers, recommended, choice, catalogue),
        ranking=choice.ranking,
        recommended=tuple(
            r for group in sorted(recommended or {}) for r in (recommended or {})[group]
        ),
        policy=choice.policy,
        unreachable=_unreachable(needs, offers, choice),
        lacking=tuple(n.name for n in needs if ctx.planner.lacking(n.name)),
    )


def _under_tcg(
    release: Release, needs: Sequence[Need], vendors: Sequence[str]
) -> tuple[Impossible, ...]:
    """What works instead when a host lacks a need: the answer under TCG."""
    tcg = advise(release, needs, accel="tcg", vendors=vendors)
    if tcg.best is None:
        return ()
    cpu = tcg.best.cpu(enforce=True)
    return (
        Impossible(
            "instead",
            f"under TCG (emulation, much slower): -accel tcg -cpu {cpu}",
            cpu=cpu,
            accel="tcg",
        ),
    )


def _unreachable(needs: Sequence[Need], offers: Sequence[Offer], choice: Choice) -> tuple[str, ...]:
    """Needs that no catalogued CPU can give (portable ranking only)."""
    best = choice.best
    if offers or best is None or best.coverage is None or best.coverage.able:
        return ()
    return tuple(n.name for n in needs)


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
