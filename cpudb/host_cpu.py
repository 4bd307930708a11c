"""A host CPU as a source tells it (`HostCpu`), release-independent, and its JSON form.

The raw CPUID registers of CPU 0 (from a `cpuid` dump or /dev/cpu/0/cpuid), or the CPUID
bits /proc/cpuinfo can express, or QEMU's own `host` model expansion, or libvirt's view.
`HostCpu.features_in(release)` decodes it against one release's catalogue
(`cpudb.host_decode`). Pure (no I/O).
"""

from __future__ import annotations

from cpudb.errors import ParseError
from cpudb.record import Record, field
from cpudb.scrapers.cpuid_dump import CpuidLeaf

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from collections.abc import Hashable
    from typing import Any, Literal

    from cpudb.host_features import HostFeatures
    from cpudb.model import Release

    # libvirt: a host-model (QEMU's and KVM's view); libvirt-cpu: libvirt's host CPU
    # (`virsh capabilities`, the CPU's own CPUID, to which KVM's rules apply)
    HostKind = Literal["cpuid", "cpuinfo", "qmp", "kvm", "libvirt", "libvirt-cpu"]

FORMAT = 1


class HostCpu(Record):
    """A host CPU as a source tells it; decode with `features_in(release)`."""

    vendor: str
    family: int
    model: int
    stepping: int
    brand: str
    hypervisor: bool
    source: str  # e.g. "cpuid -1 -r dump intel-xeon-e5-2650-v3.cpuid"
    kind: HostKind = "cpuid"
    signature: int | None = None  # CPUID.1:EAX
    leaves: tuple[CpuidLeaf, ...] = ()  # cpuid: CPU 0's registers
    other_leaves: tuple[CpuidLeaf, ...] = ()  # cpuid: other CPUs' rows that differ from CPU 0
    cpu_count: int = 1
    bits: tuple[tuple[str, bool], ...] = ()  # cpuinfo: location -> set, where Linux shows it
    qemu_props: tuple[tuple[str, bool], ...] = ()  # qmp: `host` expansion
    qemu_unavailable: tuple[tuple[str, tuple[str, ...]], ...] = ()  # qmp: model -> features
    qemu_version: str = ""  # qmp: label of the binary (7.2.22-debian)
    msrs: tuple[tuple[int, int], ...] = ()  # kvm: feature MSR index -> value KVM allows
    # libvirt (domcapabilities host-model, capabilities host CPU, KubeVirt labels): its
    # model plus (True) or minus (False) features, libvirt's spellings; the verdicts are
    # in qemu_unavailable, libvirt's spellings too
    libvirt_model: str = ""
    libvirt_features: tuple[tuple[str, bool], ...] = ()
    notes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------ decoding

    def features_in(self, release: Release) -> HostFeatures:
        """This host decoded against one release's catalogue (`cpudb.host_decode`)."""
        from cpudb.host_decode import decode

        return decode(self, release)

    # ------------------------------------------------------------ storage

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": FORMAT,
            "kind": self.kind,
            "source": self.source,
            "vendor": self.vendor,
            "family": self.family,
            "model": self.model,
            "stepping": self.stepping,
            "brand": self.brand,
            "hypervisor": self.hypervisor,
            "cpu_count": self.cpu_count,
        }
        if self.signature is not None:
            d["signature"] = f"{self.signature:#010x}"
        if self.leaves:
            d["cpuid"] = [_row_text(r) for r in self.leaves]
        if self.other_leaves:
            d["cpuid_other_cpus"] = [_row_text(r) for r in self.other_leaves]
        if self.bits:
            d["bits"] = {loc: on for loc, on in self.bits}
        if self.qemu_props or self.qemu_unavailable or self.qemu_version:
            d["qemu_props"] = {k: v for k, v in self.qemu_props}
            d["qemu_version"] = self.qemu_version
            d["qemu_unavailable"] = {k: list(v) for k, v in self.qemu_unavailable}
        if self.kind in ("libvirt", "libvirt-cpu"):
            d["libvirt_model"] = self.libvirt_model
            d["libvirt_features"] = {k: v for k, v in self.libvirt_features}
        if self.msrs:
            d["msrs"] = {f"{i:#x}": f"{v:#018x}" for i, v in self.msrs}
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any], name: str = "stored host") -> HostCpu:
        from cpudb.scrapers import cpuid_dump

        if d.get("format") != FORMAT:
            raise ParseError(
                f"{name}: stored host data of format {d.get('format')!r}, "
                f"this cpudb reads {FORMAT}",
                hint="remove it (`cpudb host rm NAME`) and add it again",
            )

        def rows(key: str) -> tuple[CpuidLeaf, ...]:
            text = "\n".join(d.get(key, ()))
            return cpuid_dump.parse(text, f"{name}:{key}").cpu0.leaves if text else ()

        sig = d.get("signature")
        return cls(
            vendor=d["vendor"],
            family=int(d["family"]),
            model=int(d["model"]),
            stepping=int(d["stepping"]),
            brand=d["brand"],
            hypervisor=bool(d["hypervisor"]),
            source=d["source"],
            kind=d["kind"],
            signature=int(sig, 16) if sig else None,
            leaves=rows("cpuid"),
            other_leaves=rows("cpuid_other_cpus"),
            cpu_count=int(d.get("cpu_count", 1)),
            bits=tuple(sorted(d.get("bits", {}).items())),
            qemu_props=tuple(sorted(d.get("qemu_props", {}).items())),
            qemu_unavailable=tuple(
                (k, tuple(v)) for k, v in sorted(d.get("qemu_unavailable", {}).items())
            ),
            qemu_version=d.get("qemu_version", ""),
            msrs=tuple(sorted((int(i, 16), int(v, 16)) for i, v in d.get("msrs", {}).items())),
            libvirt_model=d.get("libvirt_model", ""),
            libvirt_features=tuple(sorted(d.get("libvirt_features", {}).items())),
            notes=tuple(d.get("notes", ())),
        )


def _row_text(r: CpuidLeaf) -> str:
    return (
        f"0x{r.leaf:08x} 0x{r.subleaf:02x}: eax=0x{r.eax:08x} ebx=0x{r.ebx:08x} "
        f"ecx=0x{r.ecx:08x} edx=0x{r.edx:08x}"
    )


def same_reading(cpu: HostCpu) -> tuple[Hashable, ...]:
    """What decodes alike (`features_in`), source and notes aside: a fleet's identical
    CPUs are decoded once. Plain tuples, which hash in C."""
    return (
        cpu.kind, cpu.vendor, cpu.family, cpu.model, cpu.stepping, cpu.leaves,
        cpu.other_leaves, cpu.bits, cpu.qemu_props, cpu.qemu_unavailable, cpu.qemu_version,
        cpu.msrs, cpu.libvirt_model, cpu.libvirt_features, cpu.hypervisor,
    )  # fmt: skip
