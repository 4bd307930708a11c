"""Control registers decoded: CR0, CR3, CR4, EFER -> flags and the paging mode.

Bit positions per Intel SDM vol. 3 §2.5 (CR0/CR4), §2.2.1 (EFER) and AMD APM vol. 2 §3.1.
Which CR4/EFER bits KVM refuses unless the guest CPU has a CPUID feature follows KVM's
`__cr4_reserved_bits()` and `__kvm_valid_efer()`; the features are named by CPUID
location, so they resolve in any QEMU release (or are reported as unnamed there).
"""

from __future__ import annotations

from cpudb.record import Record

CR0_BITS = {
    0: "PE",
    1: "MP",
    2: "EM",
    3: "TS",
    4: "ET",
    5: "NE",
    16: "WP",
    18: "AM",
    29: "NW",
    30: "CD",
    31: "PG",
}
CR4_BITS = {
    0: "VME",
    1: "PVI",
    2: "TSD",
    3: "DE",
    4: "PSE",
    5: "PAE",
    6: "MCE",
    7: "PGE",
    8: "PCE",
    9: "OSFXSR",
    10: "OSXMMEXCPT",
    11: "UMIP",
    12: "LA57",
    13: "VMXE",
    14: "SMXE",
    16: "FSGSBASE",
    17: "PCIDE",
    18: "OSXSAVE",
    19: "KL",
    20: "SMEP",
    21: "SMAP",
    22: "PKE",
    23: "CET",
    24: "PKS",
    25: "UINTR",
    28: "LAM_SUP",
}
EFER_BITS = {
    0: "SCE",
    8: "LME",
    10: "LMA",
    11: "NXE",
    12: "SVME",
    13: "LMSLE",
    14: "FFXSR",
    15: "TCE",
    21: "AUTOIBRS",
}


class Gate(Record):
    """A control-register bit that is reserved unless the guest CPU has one of `locations`."""

    register: str  # "CR4" or "EFER"
    bit: int
    flag: str
    locations: tuple[str, ...]  # any one of these CPUID bits makes the flag legal
    label: str  # the feature's usual name, for releases that have no name for it

    @property
    def cpuid(self) -> str:
        return self.locations[0]


# KVM: arch/x86/kvm/x86.h __cr4_reserved_bits()
CR4_GATES = (
    Gate("CR4", 18, "OSXSAVE", ("cpuid.0x1.ecx.26",), "xsave"),
    Gate("CR4", 20, "SMEP", ("cpuid.0x7.0.ebx.7",), "smep"),
    Gate("CR4", 21, "SMAP", ("cpuid.0x7.0.ebx.20",), "smap"),
    Gate("CR4", 16, "FSGSBASE", ("cpuid.0x7.0.ebx.0",), "fsgsbase"),
    Gate("CR4", 22, "PKE", ("cpuid.0x7.0.ecx.3",), "pku"),
    Gate("CR4", 12, "LA57", ("cpuid.0x7.0.ecx.16",), "la57"),
    Gate("CR4", 11, "UMIP", ("cpuid.0x7.0.ecx.2",), "umip"),
    Gate("CR4", 13, "VMXE", ("cpuid.0x1.ecx.5",), "vmx"),
    Gate("CR4", 17, "PCIDE", ("cpuid.0x1.ecx.17",), "pcid"),
    Gate("CR4", 24, "PKS", ("cpuid.0x7.0.ecx.31",), "pks"),
    Gate("CR4", 28, "LAM_SUP", ("cpuid.0x7.1.eax.26",), "lam"),
    Gate("CR4", 23, "CET", ("cpuid.0x7.0.ecx.7", "cpuid.0x7.0.edx.20"), "cet-ss"),
)
# KVM: arch/x86/kvm/x86.c __kvm_valid_efer()
EFER_GATES = (
    Gate("EFER", 11, "NXE", ("cpuid.0x80000001.edx.20",), "nx"),
    Gate("EFER", 8, "LME", ("cpuid.0x80000001.edx.29",), "lm"),
    Gate("EFER", 10, "LMA", ("cpuid.0x80000001.edx.29",), "lm"),
    Gate("EFER", 12, "SVME", ("cpuid.0x80000001.ecx.2",), "svm"),
    Gate("EFER", 14, "FFXSR", ("cpuid.0x80000001.edx.25",), "fxsr-opt"),
    Gate("EFER", 21, "AUTOIBRS", ("cpuid.0x80000021.eax.8",), "auto-ibrs"),
)
MSR_EFER = 0xC0000080


def flags(value: int, table: dict[int, str]) -> tuple[str, ...]:
    """Names of the set bits, low to high; unknown set bits as `bitN`."""
    out = []
    for bit in range(64):
        if value >> bit & 1:
            out.append(table.get(bit, f"bit{bit}"))
    return tuple(out)


def gates_set(value: int, gates: tuple[Gate, ...]) -> list[Gate]:
    return [g for g in gates if value >> g.bit & 1]


class GuestState(Record):
    """The paging-relevant state of a vCPU from a register dump."""

    cr0: int | None
    cr3: int | None
    cr4: int | None
    efer: int | None

    @property
    def known(self) -> bool:
        return self.cr0 is not None and self.cr4 is not None

    def has(self, reg: str, flag: str) -> bool | None:
        table = {"CR0": CR0_BITS, "CR4": CR4_BITS, "EFER": EFER_BITS}[reg]
        value = {"CR0": self.cr0, "CR4": self.cr4, "EFER": self.efer}[reg]
        if value is None:
            return None
        bit = next(b for b, n in table.items() if n == flag)
        return bool(value >> bit & 1)

    @property
    def mode(self) -> str | None:
        """`off`, `32-bit`, `PAE`, `4-level` or `5-level` (SDM vol. 3 §4.1.1)."""
        if self.cr0 is None or self.cr4 is None:
            return None
        if not self.cr0 >> 31 & 1:
            return "off"
        if not self.cr4 >> 5 & 1:
            return "32-bit"
        lma = self.efer is not None and (self.efer >> 10 & 1 or self.efer >> 8 & 1)
        if not lma:
            return "PAE"
        return "5-level" if self.cr4 >> 12 & 1 else "4-level"

    @property
    def table_base(self) -> int | None:
        """Physical address of the top-level paging structure named by CR3."""
        if self.cr3 is None:
            return None
        if self.mode == "PAE":
            return self.cr3 & 0xFFFFFFE0
        return self.cr3 & ~0xFFF & ((1 << 52) - 1)

    def describe(self) -> list[str]:
        out = []
        for name, value, table in (
            ("CR0", self.cr0, CR0_BITS),
            ("CR4", self.cr4, CR4_BITS),
            ("EFER", self.efer, EFER_BITS),
        ):
            if value is not None:
                out.append(f"{name}={value:#x} ({' '.join(flags(value, table)) or 'none'})")
        mode = self.mode
        if mode is not None:
            top = {
                "32-bit": "page directory",
                "PAE": "PDPT",
                "4-level": "PML4",
                "5-level": "PML5",
            }.get(mode)
            text = "paging off" if mode == "off" else f"{mode} paging"
            if top and self.table_base is not None:
                text += f", CR3 -> {top} at {self.table_base:#x}"
            out.append(text)
        return out


def guest_state(regs: dict[str, int]) -> GuestState:
    return GuestState(regs.get("CR0"), regs.get("CR3"), regs.get("CR4"), regs.get("EFER"))
