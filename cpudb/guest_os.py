"""What a guest operating system needs of the CPU, in the vendor's own words.

`--needs rhel9` expands to the x86-64 level or features below. "Fatal glibc error: CPU
does not support x86-64-v2" (a RHEL 9 guest on a `qemu64` CPU) is the CPU-model failure
people report most. Each entry quotes the vendor's statement and where it was made;
levels are those of the x86-64 psABI (`cpudb.levels`).
"""

from __future__ import annotations

from cpudb.record import Record


class GuestOs(Record):
    name: str
    title: str
    needs: tuple[str, ...]  # x86-64 levels and QEMU feature names
    source: str  # the vendor's statement and where


_RHEL9 = (
    "Red Hat: RHEL 9 is built for the x86-64-v2 microarchitecture level and requires a "
    "CPU that supports it (RHEL 9.0 release notes, 'Architectures'; Red Hat developer "
    "blog 'Building Red Hat Enterprise Linux 9 for the x86-64-v2 microarchitecture "
    "level', 2021)"
)
_RHEL10 = (
    "Red Hat: RHEL 10 requires x86-64-v3 on 64-bit x86 (RHEL 10.0 release notes, "
    "'Architectures'; CentOS Stream 10 likewise)"
)
_WIN81 = (
    "Microsoft: 64-bit Windows 8.1 and later require CMPXCHG16b, PrefetchW and LAHF/SAHF "
    "(Windows 8.1 system requirements), on top of PAE, NX and SSE2 (Windows 8); "
    "PrefetchW is not required as a CPUID bit: Intel CPUs before Broadwell execute "
    "PREFETCHW without reporting 3dnowprefetch, and run Windows 8.1 and later"
)
_WIN11_24H2 = (
    "Microsoft: Windows 11 version 24H2 requires SSE4.2 and POPCNT (Windows 11 "
    "specifications, processor requirements; 24H2 does not boot without them)"
)

GUESTS: tuple[GuestOs, ...] = (
    GuestOs("rhel9", "Red Hat Enterprise Linux 9", ("x86-64-v2",), _RHEL9),
    GuestOs("centos-stream9", "CentOS Stream 9", ("x86-64-v2",), _RHEL9),
    GuestOs("alma9", "AlmaLinux 9", ("x86-64-v2",), _RHEL9),
    GuestOs("rocky9", "Rocky Linux 9", ("x86-64-v2",), _RHEL9),
    GuestOs("rhel10", "Red Hat Enterprise Linux 10", ("x86-64-v3",), _RHEL10),
    GuestOs("centos-stream10", "CentOS Stream 10", ("x86-64-v3",), _RHEL10),
    GuestOs(
        "sles16",
        "SUSE Linux Enterprise Server 16",
        ("x86-64-v2",),
        "SUSE: SLES 16 requires an x86-64-v2 CPU (SLES 16.0 release notes, 'Supported hardware')",
    ),
    GuestOs(
        "windows10",
        "Windows 10 (64-bit), and 8.1",
        ("lm", "pae", "nx", "sse2", "cx16", "lahf-lm"),
        _WIN81,
    ),
    GuestOs(
        "windows11",
        "Windows 11 24H2 and later, Windows Server 2025",
        ("lm", "pae", "nx", "sse2", "cx16", "lahf-lm", "sse4.2", "popcnt"),
        f"{_WIN81}; {_WIN11_24H2}",
    ),
)

_BY_NAME = {g.name: g for g in GUESTS}


def lookup(text: str) -> GuestOs | None:
    """`rhel9`, `RHEL-9`, `windows11` -> the entry (None when it names no guest OS)."""
    key = text.lower().replace("-", "").replace("_", "").replace(" ", "")
    for g in GUESTS:
        if g.name.replace("-", "") == key:
            return g
    return _BY_NAME.get(text)
