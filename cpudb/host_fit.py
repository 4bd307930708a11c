"""Which of a release's CPU models a decoded host can run: blockers under KVM (the
decision core's rule), unknowns, and the best-fitting models. Pure (no I/O)."""

from __future__ import annotations

from cpudb.model import CpuName, Release
from cpudb.record import Record
from cpudb.resolve import with_accel

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.decide.offer import Offer
    from cpudb.host_cpu import HostCpu
    from cpudb.host_features import HostFeatures


def offer(host: HostFeatures, name: str = "host", vendor: str = "") -> Offer:
    """What KVM offers a guest on this host (`cpudb.decide.offer`)."""
    from cpudb.decide.offer import kvm_offer

    return kvm_offer(name, vendor, host)


def blockers(
    release: Release, cpu: CpuName, host: HostFeatures, accel: str = "kvm"
) -> tuple[str, ...]:
    """Features `cpu` enables under `accel` (its defaults applied) that KVM on the host
    cannot give a guest (the decision core's rule: `Offer.lacks`). Unknown features are
    not blockers (callers report them apart: `unknown_of`); features KVM provides anyway
    (`HostFeatures.kvm_supplied`) are not either. Under TCG the host does not matter, so
    only the host's own features count."""
    if accel != "kvm":
        wanted = with_accel(release, cpu.features, accel)
        return tuple(sorted(wanted - host.present - host.unknown))
    from cpudb.decide.offer import name_blockers

    return name_blockers(release, cpu, offer(host))


def unknown_of(
    release: Release, cpu: CpuName, host: HostFeatures, accel: str = "kvm"
) -> tuple[str, ...]:
    """Features `cpu` enables whose presence the host's source cannot tell."""
    wanted = with_accel(release, cpu.features, accel)
    extra = host.kvm_supplied if accel == "kvm" else frozenset()
    return tuple(sorted((wanted & host.unknown) - host.present - extra))


class ModelFit(Record):
    name: str
    usable: bool
    blockers: tuple[str, ...]
    unknown: tuple[str, ...]
    alias_of: str | None = None


def model_fits(release: Release, host: HostFeatures, accel: str = "kvm") -> tuple[ModelFit, ...]:
    """Every CPU name of the release: usable, or its blockers (libvirt's `<blockers>`)."""
    out = []
    for c in release.cpus:
        b = blockers(release, c, host, accel)
        out.append(ModelFit(c.name, not b, b, unknown_of(release, c, host, accel), c.alias_of))
    return tuple(out)


def usable_models(release: Release, host: HostFeatures, accel: str = "kvm") -> tuple[str, ...]:
    return tuple(f.name for f in model_fits(release, host, accel) if f.usable)


def best_models(
    release: Release, cpu: HostCpu, host: HostFeatures, limit: int | None = 5
) -> tuple[str, ...]:
    """The host's vendor's CPU names with no blockers under KVM, ranked by the decision
    core's `closest` policy (fewest of the host's model features left out of the guest,
    then the newest version). Aliases and bare names are left out: they name the same
    features as their target."""
    from cpudb.decide.core import choose

    o = offer(host, cpu.brand or "host", cpu.vendor)
    names = tuple(c.name for c in choose(release, offers=(o,), vendors=(cpu.vendor,)).candidates)
    return names if limit is None else names[:limit]


def aliases_of(release: Release, name: str) -> tuple[str, ...]:
    """Other names of the same CPU (`Haswell-v2` -> `Haswell-noTSX`)."""
    return tuple(c.name for c in release.cpus if c.alias_of == name and c.kind == "alias")
