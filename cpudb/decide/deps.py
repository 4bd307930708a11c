"""What a flag needs with it, by three rule sets:

- QEMU's `feature_dependencies[]` (5.0+): QEMU clears a feature when none of what it
  requires is set (`vmx-*` without `vmx`, `mds-no` without `arch-capabilities`);
- Linux's `cpuid_deps[]` (arch/x86/kernel/cpu/cpuid-deps.c, shipped as
  data/linux-cpuid-deps.json): a Linux guest clears a feature whose dependency is
  missing (avx512f without avx, avx without xsave), so adding it alone gives nothing;
- long mode: some features exist only in IA-32e (64-bit) mode, so they mean nothing on
  a CPU model without `lm` (a 1 GiB page is a 4/5-level paging entry).
"""

from __future__ import annotations

from collections.abc import Iterable

from cpudb.model import Release
from cpudb.resolve import missing_requirements

LM = "cpuid.0x80000001.edx.29"
# location -> why it exists only in long mode (Intel SDM vol. 3A / vol. 2).
LONG_MODE_ONLY: dict[str, str] = {
    "cpuid.0x80000001.edx.26": "1-GByte pages exist only in 4- and 5-level paging, "
    "which needs IA-32e mode (SDM vol. 3A, 4.5)",
    "cpuid.0x7.0.ecx.16": "5-level paging is a form of IA-32e paging (SDM vol. 3A, 4.5)",
    "cpuid.0x1.ecx.17": "CR4.PCIDE can be set only in IA-32e mode (SDM vol. 3A, 4.10.1)",
    "cpuid.0x7.0.ebx.0": "RDFSBASE/WRFSBASE are #UD outside 64-bit mode (SDM vol. 2)",
    "cpuid.0x80000001.ecx.0": "the bit means LAHF/SAHF in 64-bit mode (SDM vol. 2)",
    "cpuid.0x1.ecx.13": "CMPXCHG16B can be encoded only in 64-bit mode (SDM vol. 2)",
}


class Deps:
    """One release's dependency rules, indexed by canonical QEMU name."""

    def __init__(self, release: Release, linux: Iterable[tuple[str, str]] = ()) -> None:
        """`linux`: (feature location, location it requires) pairs of Linux's table."""
        by_loc: dict[str, str] = {}
        for f in release.features:
            by_loc.setdefault(f.location, f.name)
        self.release = release
        self.lm = by_loc.get(LM)
        self.linux: dict[str, list[str]] = {}
        for loc, req in linux:
            a, b = by_loc.get(loc), by_loc.get(req)
            if a is not None and b is not None and a != b:
                self.linux.setdefault(a, []).append(b)
        self.long_mode: dict[str, str] = {
            by_loc[loc]: why for loc, why in LONG_MODE_ONLY.items() if loc in by_loc
        }

    def requirements(self, feature: str, have: frozenset[str]) -> list[tuple[tuple[str, ...], str]]:
        """What adding `feature` to a guest that has `have` needs too: (alternatives, why)
        for every rule it would otherwise break."""
        out = [
            (requires, f"QEMU clears {feature} without {' or '.join(requires)}")
            for requires in missing_requirements(feature, have, self.release.dependencies)
        ]
        out += [
            ((r,), f"a Linux guest clears {feature} without {r} (cpuid-deps)")
            for r in self.linux.get(feature, ())
            if r not in have
        ]
        return out

    def needs_long_mode(self, feature: str) -> str | None:
        """Why `feature` exists only in long mode (None when it does not)."""
        return self.long_mode.get(feature)
