"""Decoding libvirt's view of a host (`virsh domcapabilities` host-model, `virsh
capabilities` host CPU, KubeVirt labels): libvirt's names, of any shipped libvirt
release, mapped to QEMU's through their CPUID locations; libvirt's model to its features
as the oldest shipped cpu_map that defines it has them (cpudb.libvirt_releases). Pure
but for reading the shipped libvirt data."""

from __future__ import annotations

from cpudb.host_features import HostFeatures
from cpudb.host_kvm import host_model_supplied, raw_cpu_supplied

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.host_cpu import HostCpu
    from cpudb.model import Release


def libvirt_features(host: HostCpu, release: Release) -> HostFeatures:
    """libvirt's model (as its cpu_map defines it) plus or minus the listed features, in
    the release's names. Bits libvirt has no name for are unknown: libvirt cannot say."""
    from cpudb import libvirt_releases

    loc_of = libvirt_releases.any_spelling()
    known = set(loc_of.values())
    defined = libvirt_releases.first_definition(host.libvirt_model or "")
    model_locs = list(defined[1]) if defined else None
    notes = list(host.notes)
    if model_locs is None:
        cpu = release.cpu(host.libvirt_model) if host.libvirt_model else None
        if cpu is not None:
            model_locs = [f.location for f in release.features if f.name in cpu.features]
            notes.append(
                f"libvirt model {host.libvirt_model} unknown to cpudb's libvirt data: "
                f"QEMU {release.version}'s model of that name used"
            )
        else:
            model_locs = []
            known = {loc_of[n] for n, _ in host.libvirt_features if n in loc_of}
            if host.libvirt_model:
                notes.append(f"libvirt model {host.libvirt_model} unknown: only listed features")
    have = set(model_locs)
    unnamed = []
    for n, on in host.libvirt_features:
        loc = loc_of.get(n)
        if loc is None:
            unnamed.append(n)
        elif on:
            have.add(loc)
        else:
            have.discard(loc)
    if unnamed:
        notes.append(f"libvirt features cpudb cannot place: {', '.join(unnamed)}")
    present = frozenset(f.name for f in release.features if f.location in have)
    unknown = frozenset(f.name for f in release.features if f.location not in known) - present
    by_loc = {f.location: f.name for f in release.features}

    def qemu_name(n: str) -> str:
        return by_loc.get(loc_of.get(n, ""), n)

    verdicts = tuple((m, tuple(qemu_name(n) for n in fs)) for m, fs in host.qemu_unavailable)
    if host.kind == "libvirt-cpu":
        supplied = raw_cpu_supplied(release, present, host.vendor, host.family)
    else:
        supplied = host_model_supplied(release, present)
    return HostFeatures(
        present, unknown - supplied, (), supplied, notes=tuple(notes), verdicts=verdicts
    )
