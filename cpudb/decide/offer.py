"""What an accelerator can give a guest on one host: an `Offer`.

Under KVM the offer is the host's, as KVM itself reports it (KVM_GET_SUPPORTED_CPUID, or
QEMU's `host` model under KVM), or as derived from the CPU's raw CPUID with KVM's rules
(`cpudb.decide.kvm`), which can be more than KVM really gives when the host is itself a
VM. Under TCG the offer is what that QEMU release's TCG emulates (the feature masks its
cpu.c applies), whatever the host. A CPU name runs with `enforce` on an offer when every
feature it enables is in it; the rest are its blockers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.host_features import HostFeatures
    from cpudb.model import CpuName, Release

    # accel, vendor, present, unknown, verdicts: what two offers must share to decide alike
    SameCpu = tuple[
        str, str, frozenset[str], frozenset[str], tuple[tuple[str, tuple[str, ...]], ...]
    ]


class Offer(Record):
    """The features a guest can have in one place (a host under KVM, or TCG)."""

    name: str  # the host's name, or "TCG"
    accel: str  # "kvm" or "tcg"
    present: frozenset[str]  # QEMU names of the release the guest can have
    unknown: frozenset[str] = frozenset()  # names the source cannot tell (not blockers)
    vendor: str = ""  # the host's CPUID vendor (what a KVM guest sees); "" under TCG
    source: str = ""  # how it was read: "cpuid dump", "KVM_GET_SUPPORTED_CPUID", ...
    notes: tuple[str, ...] = ()
    # QEMU's own verdicts on this host (CPU name -> features it said block it; () usable)
    verdicts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def lacks(self, features: Iterable[str]) -> tuple[str, ...]:
        """Features the guest would ask for that this place cannot give (blockers)."""
        return tuple(sorted(set(features) - self.present - self.unknown))

    def blockers_for(
        self, names: Sequence[str], features: Iterable[str], adds: Iterable[str] = ()
    ) -> tuple[str, ...]:
        """The blockers of a CPU name (`names`: it and its aliases) giving `features`,
        `adds` of them added as flags. QEMU's verdict on the name, where the source has
        one, is the answer for the model (QEMU checked it on that host itself); the
        added flags are checked against the offer. Otherwise: `lacks(features)`."""
        if self.verdicts:
            judged = dict(self.verdicts)
            for n in names:
                if n in judged:
                    return tuple(sorted(set(judged[n]) | set(self.lacks(adds))))
        return self.lacks(features)

    def unsure(self, features: Iterable[str]) -> tuple[str, ...]:
        """Features whose presence the source cannot tell (`enforce` checks them)."""
        return tuple(sorted((set(features) & self.unknown) - self.present))


def name_blockers(release: Release, cpu: CpuName, offer: Offer) -> tuple[str, ...]:
    """The blockers of one CPU name of `release` under KVM on `offer`: what it enables
    with KVM's defaults that the offer lacks, QEMU's verdict on the name (or the name it
    is an alias of) where the offer has one."""
    from cpudb.resolve import with_accel

    names = (cpu.name, *((cpu.alias_of,) if cpu.alias_of else ()))
    return offer.blockers_for(names, with_accel(release, cpu.features, "kvm"))


def kvm_offer(name: str, vendor: str, host: HostFeatures, source: str = "") -> Offer:
    """A host decoded for a release (`HostCpu.features_in`) -> what KVM offers there."""
    return Offer(
        name=name,
        accel="kvm",
        present=host.present | host.kvm_supplied,
        unknown=host.unknown - host.present - host.kvm_supplied,
        vendor=vendor,
        source=source,
        notes=host.notes,
        verdicts=host.verdicts,
    )


def tcg_offer(release: Release) -> Offer | None:
    """What this release's TCG emulates (None when the snapshot does not say)."""
    if release.tcg_features is None:
        return None
    return Offer(
        name=f"TCG of QEMU {release.version}",
        accel="tcg",
        present=release.tcg_features,
        source="the TCG feature masks of QEMU's cpu.c",
    )


def same_cpu(o: Offer) -> SameCpu:
    """What makes two hosts' offers decide alike (the name and source aside)."""
    return (o.accel, o.vendor, o.present, o.unknown, o.verdicts)


def distinct(offers: Sequence[Offer]) -> dict[SameCpu, list[Offer]]:
    """Offers grouped by `same_cpu`, in first-seen order: identical CPUs are decided once."""
    out: dict[SameCpu, list[Offer]] = {}
    for o in offers:
        out.setdefault(same_cpu(o), []).append(o)
    return out


def common(offers: Sequence[Offer]) -> frozenset[str]:
    """Features every offer has for sure (what a pool of hosts shares)."""
    if not offers:
        return frozenset()
    return frozenset.intersection(*(o.present for o in offers))
