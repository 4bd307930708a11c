"""What a host CPU has, and which CPU models it can run under KVM: one import for the
whole surface (scripts, tests). cpudb's own modules import from the homes below, so a
command loads only what it uses.

    host_cpu       HostCpu (a host as its source tells it) and its JSON form
    host_features  HostFeatures (a host decoded against one release)
    host_decode    the CPUID, /proc/cpuinfo and QMP decoding back-ends
    host_libvirt   the libvirt decoding back-end (libvirt's names -> QEMU's)
    host_kvm       what KVM gives a guest beyond the host's bits, in a release's names
    host_build     HostCpu from a parsed dump, /proc/cpuinfo, QMP answers, a live capture
    host_load      loading hosts (I/O): stored, files, catalogue, this machine
    host_fit       blockers, unknowns, usable and best models
"""

from __future__ import annotations

from cpudb.host_build import (
    from_cpuinfo,
    from_dump,
    from_live,
    from_qmp,
    from_text,
    identify,
    linux_flag_map,
    signature_fms,
)
from cpudb.host_cpu import FORMAT, HostCpu, same_reading
from cpudb.host_decode import CENTAUR_VENDORS
from cpudb.host_features import HostFeatures
from cpudb.host_fit import (
    ModelFit,
    aliases_of,
    best_models,
    blockers,
    model_fits,
    offer,
    unknown_of,
    usable_models,
)
from cpudb.host_kvm import host_model_supplied, raw_cpu_supplied
from cpudb.host_load import (
    HOST_FILE_LIMIT,
    kvm_device,
    kvm_host,
    load_host,
    load_hosts,
    qmp_host,
    this_host,
)

__all__ = [
    "CENTAUR_VENDORS",
    "FORMAT",
    "HOST_FILE_LIMIT",
    "HostCpu",
    "HostFeatures",
    "ModelFit",
    "aliases_of",
    "best_models",
    "blockers",
    "from_cpuinfo",
    "from_dump",
    "from_live",
    "from_qmp",
    "from_text",
    "host_model_supplied",
    "identify",
    "kvm_device",
    "kvm_host",
    "linux_flag_map",
    "load_host",
    "load_hosts",
    "model_fits",
    "offer",
    "qmp_host",
    "raw_cpu_supplied",
    "same_reading",
    "signature_fms",
    "this_host",
    "unknown_of",
    "usable_models",
]
