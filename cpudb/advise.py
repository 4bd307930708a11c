"""The advisor: which `-cpu` name, plus which extra flags, gives a guest what it needs.

Pure: a Release, the needs (already resolved to this release's names), the offers
(where the guest must run: hosts under KVM, or TCG) -> an `Advice` whose candidates
carry their reasons. The planning and the ranking are the decision core's
(`cpudb.decide`); this module adds what only advice has: QEMU's recommended flags,
the notes, and why nothing works when nothing does. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cpudb.decide import rank
from cpudb.decide.core import Candidate, Choice, Context, Need, Rejection, choose
from cpudb.decide.offer import Offer, tcg_offer
from cpudb.decide.plan import Add, Planner, vendor_group
from cpudb.model import Release
from cpudb.record import Record, field, replace

__all__ = ["Add", "Advice", "Candidate", "Need", "Offer", "Rejection", "advise"]

ENFORCE_NOTE = (
    "append ,enforce: QEMU then refuses to start when a host lacks a flag, instead of "
    "silently dropping it with a warning"
)


class RecommendedFlag(Record):
    """A flag QEMU's documentation recommends for one vendor's models."""

    name: str  # QEMU name in this release
    summary: str
    excludes: tuple[str, ...] = ()


class Impossible(Record):
    """One reason why no CPU name can work, for scripts (`impossible_reasons` in JSON)."""

    kind: str  # host-lacks | accel-lacks | instead | no-names | all-rejected
    text: str  # the sentence `impossible` carries
    need: str | None = None  # the QEMU name of the need it is about
    hosts: tuple[str, ...] = ()  # host-lacks: the hosts that cannot give it
    cpu: str | None = None  # instead: the -cpu that works elsewhere (under TCG)
    accel: str | None = None
    count: int | None = None  # all-rejected: how many names fail for this reason


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
        made = [_with_recommended(c, recommended, ctx.planner, offers) for c in made]
    reasons: tuple[Impossible, ...] = ()
    if not made:
        reasons = _impossible(release, needs, accel, offers, choice, ctx.planner, vendors)
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
        notes=_notes(release, hosts, accel, offers, recommended, choice, catalogue),
        ranking=choice.ranking,
        recommended=tuple(
            r for group in sorted(recommended or {}) for r in (recommended or {})[group]
        ),
        policy=choice.policy,
        unreachable=_unreachable(needs, offers, choice),
        lacking=tuple(n.name for n in needs if ctx.planner.lacking(n.name)),
    )


def _unreachable(needs: Sequence[Need], offers: Sequence[Offer], choice: Choice) -> tuple[str, ...]:
    """Needs that no catalogued CPU can give (portable ranking only)."""
    best = choice.best
    if offers or best is None or best.coverage is None or best.coverage.able:
        return ()
    return tuple(n.name for n in needs)


def _with_recommended(
    c: Candidate,
    recommended: dict[str, tuple[RecommendedFlag, ...]],
    planner: Planner,
    offers: Sequence[Offer],
) -> Candidate:
    extras, skipped = _recommended(c, recommended, planner, offers)
    if not extras and not skipped:
        return c
    feats = planner.builder.guest(c.features, [a.name for a in extras]) if extras else c.features
    return replace(c, extras=extras, extras_skipped=skipped, features=feats)


def _recommended(
    c: Candidate,
    recommended: dict[str, tuple[RecommendedFlag, ...]],
    planner: Planner,
    offers: Sequence[Offer],
) -> tuple[tuple[Add, ...], tuple[tuple[str, str], ...]]:
    flags = recommended.get(vendor_group(c.vendor), ())
    guest = c.features
    if not offers:
        return (), tuple(
            (r.name, "no host given to check it against") for r in flags if r.name not in guest
        )
    cpu = planner.release.cpu(c.name)
    assert cpu is not None
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


def _notes(
    release: Release,
    hosts: Sequence[Offer],
    accel: str,
    offers: Sequence[Offer],
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None,
    choice: Choice,
    catalogue: Sequence[rank.CatalogOffer] | None = None,
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
        best = choice.best
        if best is not None and best.coverage is not None and catalogue:
            notes.append(
                "no host given: ranked for the most real hosts, over a catalogue of "
                f"{sum(len(o.cpus) for o in catalogue)} real CPUs (what KVM offers on "
                "each, from libvirt's public CPUID dumps; `cpudb host list --catalogue`); "
                "--host FILE|NAME, --this-host or --qmp rank for yours"
            )
        else:
            notes.append(
                "no host given: under KVM a model runs only where the host CPU has every "
                "feature it enables; pass --host FILE|NAME or --this-host to keep only those"
            )
    elif accel != "kvm":
        if offers:
            notes.append(
                f"under {accel.upper()} QEMU emulates the CPU: what it can give is what "
                f"QEMU {release.version}'s {accel.upper()} emulates (hosts do not matter)"
            )
        else:
            notes.append(
                f"the snapshot of QEMU {release.version} does not say what {accel.upper()} "
                "emulates: the answers are not checked against it (with ,enforce QEMU is)"
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
    accel: str,
    offers: Sequence[Offer],
    choice: Choice,
    planner: Planner,
    vendors: Sequence[str],
) -> tuple[Impossible, ...]:
    """Why exactly no CPU name can work."""
    out: list[Impossible] = []
    hopeless = []
    for n in needs:
        lacking = planner.lacking(n.name)
        if not lacking:
            continue
        what = n.where + (f", {n.description}" if n.description else "")
        if accel == "kvm":
            if len(offers) == 1:
                who = f"{offers[0].name} cannot give"
            elif len(lacking) == len(offers):
                who = "no host can give"
            else:
                who = f"{', '.join(lacking)} cannot give"
            out.append(
                Impossible(
                    "host-lacks",
                    f"{who} {n.name} ({what}): impossible under KVM there, since KVM cannot "
                    "give a guest a CPU feature the host lacks",
                    need=n.name,
                    hosts=tuple(lacking),
                    accel=accel,
                )
            )
        else:
            out.append(
                Impossible(
                    "accel-lacks",
                    f"QEMU {release.version}'s {accel.upper()} does not emulate {n.name} ({what})",
                    need=n.name,
                    accel=accel,
                )
            )
        hopeless.append(n)
    if hopeless:
        if accel == "kvm":
            tcg = advise(release, needs, accel="tcg", vendors=vendors)
            if tcg.best is not None:
                cpu = tcg.best.cpu(enforce=True)
                out.append(
                    Impossible(
                        "instead",
                        f"under TCG (emulation, much slower): -accel tcg -cpu {cpu}",
                        cpu=cpu,
                        accel="tcg",
                    )
                )
        return tuple(out)
    if not choice.rejected:
        if vendors:
            text = "no CPU name of the vendor asked for exists in QEMU " + release.version
        else:
            text = f"QEMU {release.version} has no CPU names"
        return (Impossible("no-names", text),)
    counts: dict[str, int] = {}
    for r in choice.rejected:
        counts[r.reason] = counts.get(r.reason, 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    head = f"all {len(choice.rejected)} CPU names fail; most common reasons:"
    out.append(Impossible("all-rejected", head, count=len(choice.rejected)))
    out += [
        Impossible("all-rejected", f"{n} name{'s' if n > 1 else ''}: {reason}", count=n)
        for reason, n in top
    ]
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
