"""One host decoded against one release's feature catalogue: what it has, what its
source cannot tell, and what KVM gives a guest anyway. Made by `cpudb.host_decode`."""

from __future__ import annotations

from cpudb.record import Record


class HostFeatures(Record):
    """One host decoded against one release's feature catalogue."""

    present: frozenset[str]  # QEMU canonical names of that release present on the host
    unknown: frozenset[str]  # names whose bits the source cannot tell (MSR words, missing rows)
    missing_leaves: tuple[str, ...]  # leaves within the CPU's range that the dump lacks
    kvm_supplied: frozenset[str] = frozenset()  # names KVM gives a guest anyway (not blockers)
    differing: frozenset[str] = frozenset()  # names whose bit differs between CPU 0 and others
    notes: tuple[str, ...] = ()
    # QEMU's own verdicts where the source has them (QMP unavailable-features, libvirt's
    # domcapabilities usable/blockers, KubeVirt's cpu-model labels): CPU name -> the
    # features QEMU said block it, () = usable. The decision core honours them.
    verdicts: tuple[tuple[str, tuple[str, ...]], ...] = ()
