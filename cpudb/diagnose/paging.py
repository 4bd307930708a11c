"""x86 page-walk rules: which bits of a paging-structure entry are reserved, and why.

Sources: Intel SDM vol. 3 ch. 4 (tables 4-6..4-8 for PAE, 4-14..4-20 for 4/5-level
paging) and AMD APM vol. 2 ch. 5 (figures 5-17..5-25), as KVM implements them
(`__reset_rsvds_bits_mask()` in arch/x86/kvm/mmu/mmu.c, which the guest walker checks
and reports as `kvm_mmu_walker_error: pferr 9 P|RSVD`).

A rule says which bits it covers, in words, and what makes them legal:

- `always`: reserved whatever the CPU (a guest bug or corrupt page tables);
- `pdpe1gb`: PS at level 3 (a 1 GiB page) is reserved unless CPUID 0x80000001 EDX[26];
- `nxe`: bit 63 (XD/NX) is reserved unless EFER.NXE, which the guest can only set when
  its CPU has `nx` (CPUID 0x80000001 EDX[20]);
- `maxphyaddr`: address bits at or above the guest's MAXPHYADDR (CPUID 0x80000008
  EAX[7:0], QEMU's `phys-bits`) are reserved;
- `amd`: bit 8 of a PML5E/PML4E is reserved on AMD CPUs only (KVM since 2020 follows the
  APM here: PDPEs and PDEs ignore it).

Pure functions; levels are numbered as KVM's trace prints them (1 = PTE ... 5 = PML5E).
"""

from __future__ import annotations

from cpudb.record import Record

PS = 1 << 7
NX = 1 << 63
LEVEL_NAMES = {
    "5-level": {5: "PML5E", 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE"},
    "4-level": {4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE"},
    "PAE": {3: "PDPTE", 2: "PDE", 1: "PTE"},
    "32-bit": {2: "PDE", 1: "PTE"},
}
TOP_LEVEL = {"5-level": 5, "4-level": 4, "PAE": 3, "32-bit": 2}
PAGE_SIZE = {
    (3, "long"): "1 GiB",
    (2, "long"): "2 MiB",
    (2, "PAE"): "2 MiB",
    (2, "32-bit"): "4 MiB",
}


def bits(lo: int, hi: int) -> int:
    """Mask of bits lo..hi inclusive."""
    return ((1 << (hi - lo + 1)) - 1) << lo


def bit_list(mask: int) -> list[int]:
    return [b for b in range(64) if mask >> b & 1]


def bit_text(mask: int) -> str:
    """`bit 7`, `bits 13-29`, `bits 40, 41`."""
    bl = bit_list(mask)
    if len(bl) == 1:
        return f"bit {bl[0]}"
    if bl == list(range(bl[0], bl[-1] + 1)):
        return f"bits {bl[0]}-{bl[-1]}"
    return "bits " + ", ".join(str(b) for b in bl)


class Rule(Record):
    mask: int
    condition: str  # "always", "pdpe1gb", "nxe", "maxphyaddr", "amd"
    why: str  # what the bits mean at this level, and what makes them legal


class Hit(Record):
    """A rule whose bits are set in the entry: those bits are (or may be) reserved."""

    rule: Rule
    set_bits: int

    @property
    def condition(self) -> str:
        return self.rule.condition


def infer_mode(levels: list[int]) -> str | None:
    """The paging mode from the levels of one walk (the first entry read is the top level)."""
    if not levels:
        return None
    return {5: "5-level", 4: "4-level", 3: "PAE", 2: "32-bit"}.get(max(levels))


def is_leaf(entry: int, level: int, mode: str, *, pse: bool = True) -> bool:
    if level == 1:
        return True
    if not entry & PS:
        return False
    if mode == "32-bit":
        return level == 2 and pse
    if mode == "PAE":
        return level == 2
    return level in (2, 3)


def rules(level: int, entry: int, mode: str, maxphyaddr: int, *, pse: bool = True) -> list[Rule]:
    """Reserved-bit rules for an entry read at `level` in paging `mode`.

    `maxphyaddr` is the guest's physical-address width to assume (the caller says how sure
    it is); `pse` is CR4.PSE (32-bit paging only).
    """
    out: list[Rule] = []
    leaf = is_leaf(entry, level, mode, pse=pse)
    name = LEVEL_NAMES.get(mode, {}).get(level, f"level-{level} entry")
    if mode == "32-bit":
        if level == 2 and leaf:
            out.append(
                Rule(
                    bits(17, 21),
                    "always",
                    "bits 17-21 of a 4 MiB PDE are reserved (PSE-36 page frame)",
                )
            )
        return out
    long_mode = mode in ("4-level", "5-level")
    high = 51 if long_mode else 62
    if maxphyaddr <= high:
        out.append(
            Rule(
                bits(maxphyaddr, high),
                "maxphyaddr",
                f"bits {maxphyaddr}-{high} of a {name} are reserved: they address physical "
                f"memory above the guest's MAXPHYADDR ({maxphyaddr} bits, QEMU's phys-bits)",
            )
        )
    if mode == "PAE" and level == 3:
        out.append(
            Rule(bits(1, 2) | bits(5, 8), "always", "bits 1-2 and 5-8 of a PAE PDPTE are reserved")
        )
        out.append(Rule(NX, "always", "bit 63 of a PAE PDPTE is reserved (no XD at this level)"))
        return out
    out.append(
        Rule(
            NX,
            "nxe",
            f"bit 63 (XD/NX) of a {name} is reserved unless EFER.NXE=1, which the guest can set "
            "only if its CPU has nx (CPUID 0x80000001 EDX bit 20)",
        )
    )
    if long_mode and level == 5 and entry & PS:
        out.append(
            Rule(PS, "always", "bit 7 (PS) of a PML5E is reserved: there are no 256 TiB pages")
        )
    if long_mode and level == 4 and entry & PS:
        out.append(
            Rule(PS, "always", "bit 7 (PS) of a PML4E is reserved: there are no 512 GiB pages")
        )
    if long_mode and level == 3 and entry & PS:
        out.append(
            Rule(
                PS,
                "pdpe1gb",
                "bit 7 (PS) of a PDPTE maps a 1 GiB page; it is reserved unless the guest CPU has "
                "pdpe1gb (CPUID 0x80000001 EDX bit 26)",
            )
        )
        out.append(
            Rule(
                bits(13, 29),
                "always",
                "bits 13-29 of a 1 GiB PDPTE are reserved (the page must be 1 GiB aligned)",
            )
        )
    if level == 2 and leaf:
        out.append(
            Rule(
                bits(13, 20),
                "always",
                "bits 13-20 of a 2 MiB PDE are reserved (the page must be 2 MiB aligned)",
            )
        )
    if long_mode and level >= 4:
        out.append(
            Rule(
                1 << 8,
                "amd",
                f"bit 8 of a {name} is reserved on AMD CPUs (MBZ in the APM; Intel ignores it)",
            )
        )
    return out


def check(level: int, entry: int, mode: str, maxphyaddr: int, *, pse: bool = True) -> list[Hit]:
    """The rules whose bits are set in `entry`: the candidates for a reserved-bit fault."""
    return [
        Hit(r, entry & r.mask)
        for r in rules(level, entry, mode, maxphyaddr, pse=pse)
        if entry & r.mask
    ]


def address(entry: int, level: int, mode: str) -> int:
    """The physical address an entry points to (next table or page frame)."""
    if mode == "32-bit":
        return entry & 0xFFFFF000
    leaf = is_leaf(entry, level, mode)
    mask = bits(12, 51)
    if leaf and level == 3:
        mask = bits(30, 51)
    elif leaf and level == 2:
        mask = bits(21, 51)
    return entry & mask
