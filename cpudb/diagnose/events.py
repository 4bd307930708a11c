"""The events a KVM/QEMU failure log holds (`logparse` recognises them): each keeps its
1-based line number and text, so findings can quote their evidence; `Log` holds them."""

from __future__ import annotations

from cpudb.record import Record, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    E = TypeVar("E")


class Event(Record):
    line: int
    text: str


class InternalError(Event):
    """`KVM internal error. Suberror: N` (+ `emulation failure` on the next line)."""

    suberror: int
    detail: str | None = None


class EntryFailed(Event):
    """`KVM: entry failed, hardware error 0x80000021`: VM entry refused the guest state."""

    hardware_error: int


class RegisterDump(Event):
    """QEMU's register dump (x86_cpu_dump_state); `lines` are all the lines it spans."""

    regs: dict[str, int] = field(default_factory=dict)
    lines: tuple[tuple[int, str], ...] = ()
    code: tuple[int, ...] = ()  # the bytes of `Code=`, from the current instruction on


class ResetDump(Event):
    """A register dump QEMU printed at a CPU reset (`-d cpu_reset`): the power-on state,
    never the state of a failure."""


class Trace(Event):
    """One kvm/kvmmmu tracepoint line; `task` is `comm-pid` when trace-cmd printed it."""

    name: str
    payload: str
    task: str | None = None


class KvmExit(Trace):
    reason: str = ""
    rip: int | None = None


class WalkStart(Trace):
    """kvm_mmu_pagetable_walk: a guest page walk for `addr` with access bits `pferr`."""

    addr: int = 0
    pferr: int = 0


class PagingElement(Trace):
    """kvm_mmu_paging_element: the entry read at one level of the walk."""

    pte: int = 0
    level: int = 0


class WalkerError(Trace):
    """kvm_mmu_walker_error: the walk failed with this page-fault error code."""

    pferr: int = 0


class EmulateInsn(Trace):
    rip: int = 0
    insn: tuple[int, ...] = ()
    mode: str | None = None
    failed: bool = False


class UserspaceExit(Trace):
    reason: str = ""


class CrAccess(Trace):
    write: bool = True
    cr: int = 0
    value: int = 0


class MsrAccess(Trace):
    write: bool = True
    msr: int = 0
    value: int = 0
    gp: bool = False  # the access raised #GP (`... (#GP)`)


class InjectedException(Trace):
    vector: str = ""  # "#GP", "#PF", ...
    error_code: int | None = None


class FeatureWarning(Event):
    """QEMU dropped a requested feature: `host|TCG doesn't support requested feature: ...`."""

    accel: str  # "host" (KVM/HVF/WHPX lack it), "TCG", or "dependency" (a prerequisite is off)
    leaf: int | None  # CPUID leaf, or None for an MSR feature word
    register: str | None  # "edx", ...; None when the old format left it out
    msr: int | None
    subleaf: int | None  # printed by QEMU >= 10.1 only
    name: str | None  # QEMU's name of the bit in the release that printed it
    bit: int


class FeaturesRefused(Event):
    """`Host doesn't support requested features` (enforce): QEMU refused to start."""

    accel: str


class PhysBitsMismatch(Event):
    """`Host physical bits (H) does not match phys-bits property (P)`."""

    host_bits: int
    guest_bits: int


class AddressSpaceLimit(Event):
    """`Address space limit 0x.. < 0x.. phys-bits too low (N)`: QEMU refused to start."""

    limit: int
    needed: int
    phys_bits: int


class LibvirtMismatch(Event):
    """`guest CPU doesn't match specification: missing features: a,b` (or `extra`)."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]


class LibvirtIncompatible(Event):
    """`the CPU is incompatible with host CPU: Host CPU does not provide required features`."""

    features: tuple[str, ...]


class CommandLine(Event):
    """A QEMU command line (joined across `\\` continuations)."""

    argv: tuple[str, ...]
    cpu: str | None
    machine: str | None
    accel: str | None


class QemuVersion(Event):
    version: str
    via: str  # "libvirt" (domain log header) or "qemu" (`QEMU emulator version`)


class Log(Record):
    """Everything recognised in one log, in line order."""

    source: str
    line_count: int
    events: tuple[Event, ...]
    plain_traces: int = 0  # trace lines only counted, not kept (a huge log's middle)
    dropped: int = 0  # events beyond what a log keeps (see parse_lines)

    @property
    def has_trace(self) -> bool:
        return self.plain_traces > 0 or any(isinstance(e, Trace) for e in self.events)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def from_libvirt(self) -> bool:
        return any(
            isinstance(e, LibvirtMismatch | LibvirtIncompatible)
            or (isinstance(e, QemuVersion) and e.via == "libvirt")
            for e in self.events
        )
