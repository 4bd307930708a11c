"""What an Advice says besides its candidates: the notes (how to read the answer for
this release, accelerator and hosts) and, when no CPU name works, exactly why.

Pure: the release, the needs, the offers and the decision core's `Choice` in; sentences
(and `Impossible` records for scripts) out.
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.decide import rank
from cpudb.decide.core import Choice, Need
from cpudb.decide.offer import Offer
from cpudb.decide.plan import Planner, vendor_group
from cpudb.model import Release
from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.recommended import RecommendedFlag

ENFORCE_NOTE = (
    "append ,enforce: QEMU then refuses to start when a host lacks a flag, instead of "
    "silently dropping it with a warning"
)


class Impossible(Record):
    """One reason why no CPU name can work, for scripts (`impossible_reasons` in JSON)."""

    kind: str  # host-lacks | accel-lacks | instead | no-names | all-rejected
    text: str  # the sentence `impossible` carries
    need: str | None = None  # the QEMU name of the need it is about
    hosts: tuple[str, ...] = ()  # host-lacks: the hosts that cannot give it
    cpu: str | None = None  # instead: the -cpu that works elsewhere (under TCG)
    accel: str | None = None
    count: int | None = None  # all-rejected: how many names fail for this reason


def notes(
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


def impossible(
    release: Release,
    needs: Sequence[Need],
    accel: str,
    offers: Sequence[Offer],
    choice: Choice,
    planner: Planner,
    vendors: Sequence[str],
) -> tuple[Impossible, ...]:
    """Why exactly no CPU name can work: the needs no offer can give (`host-lacks` under
    KVM, `accel-lacks` under TCG), else why every name was rejected. Where a host lacks
    a need, `advise` adds the answer under TCG (`instead`), which it alone can work out."""
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
