"""Recognise what a KVM/QEMU failure log says, line by line (pure: text -> events).

One log may mix QEMU's stderr (`KVM internal error`, the register dump, feature warnings,
phys-bits messages), `trace-cmd report` output of the kvm/kvmmmu tracepoints, libvirt's
errors and its per-domain log (header with the QEMU version, the command line). Every
event keeps its 1-based line number and text, so findings can quote their evidence.
Unrecognised lines are skipped; nothing here decides anything.
"""

from __future__ import annotations

import re
import shlex
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

_HEX = r"(?:0x)?[0-9a-fA-F]+"


def _int(text: str) -> int:
    return int(text, 16)


@dataclass(frozen=True)
class Event:
    line: int
    text: str


@dataclass(frozen=True)
class InternalError(Event):
    """`KVM internal error. Suberror: N` (+ `emulation failure` on the next line)."""

    suberror: int
    detail: str | None = None


@dataclass(frozen=True)
class EntryFailed(Event):
    """`KVM: entry failed, hardware error 0x80000021`: VM entry refused the guest state."""

    hardware_error: int


@dataclass(frozen=True)
class RegisterDump(Event):
    """QEMU's register dump (x86_cpu_dump_state); `lines` are all the lines it spans."""

    regs: dict[str, int] = field(default_factory=dict)
    lines: tuple[tuple[int, str], ...] = ()
    code: tuple[int, ...] = ()  # the bytes of `Code=`, from the current instruction on


@dataclass(frozen=True)
class ResetDump(Event):
    """A register dump QEMU printed at a CPU reset (`-d cpu_reset`): the power-on state,
    never the state of a failure."""


@dataclass(frozen=True)
class Trace(Event):
    """One kvm/kvmmmu tracepoint line; `task` is `comm-pid` when trace-cmd printed it."""

    name: str
    payload: str
    task: str | None = None


@dataclass(frozen=True)
class KvmExit(Trace):
    reason: str = ""
    rip: int | None = None


@dataclass(frozen=True)
class WalkStart(Trace):
    """kvm_mmu_pagetable_walk: a guest page walk for `addr` with access bits `pferr`."""

    addr: int = 0
    pferr: int = 0


@dataclass(frozen=True)
class PagingElement(Trace):
    """kvm_mmu_paging_element: the entry read at one level of the walk."""

    pte: int = 0
    level: int = 0


@dataclass(frozen=True)
class WalkerError(Trace):
    """kvm_mmu_walker_error: the walk failed with this page-fault error code."""

    pferr: int = 0


@dataclass(frozen=True)
class EmulateInsn(Trace):
    rip: int = 0
    insn: tuple[int, ...] = ()
    mode: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class UserspaceExit(Trace):
    reason: str = ""


@dataclass(frozen=True)
class CrAccess(Trace):
    write: bool = True
    cr: int = 0
    value: int = 0


@dataclass(frozen=True)
class MsrAccess(Trace):
    write: bool = True
    msr: int = 0
    value: int = 0
    gp: bool = False  # the access raised #GP (`... (#GP)`)


@dataclass(frozen=True)
class InjectedException(Trace):
    vector: str = ""  # "#GP", "#PF", ...
    error_code: int | None = None


@dataclass(frozen=True)
class FeatureWarning(Event):
    """QEMU dropped a requested feature: `host|TCG doesn't support requested feature: ...`."""

    accel: str  # "host" (KVM/HVF/WHPX lack it), "TCG", or "dependency" (a prerequisite is off)
    leaf: int | None  # CPUID leaf, or None for an MSR feature word
    register: str | None  # "edx", ...; None when the old format left it out
    msr: int | None
    subleaf: int | None  # printed by QEMU >= 10.1 only
    name: str | None  # QEMU's name of the bit in the release that printed it
    bit: int


@dataclass(frozen=True)
class FeaturesRefused(Event):
    """`Host doesn't support requested features` (enforce): QEMU refused to start."""

    accel: str


@dataclass(frozen=True)
class PhysBitsMismatch(Event):
    """`Host physical bits (H) does not match phys-bits property (P)`."""

    host_bits: int
    guest_bits: int


@dataclass(frozen=True)
class AddressSpaceLimit(Event):
    """`Address space limit 0x.. < 0x.. phys-bits too low (N)`: QEMU refused to start."""

    limit: int
    needed: int
    phys_bits: int


@dataclass(frozen=True)
class LibvirtMismatch(Event):
    """`guest CPU doesn't match specification: missing features: a,b` (or `extra`)."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass(frozen=True)
class LibvirtIncompatible(Event):
    """`the CPU is incompatible with host CPU: Host CPU does not provide required features`."""

    features: tuple[str, ...]


@dataclass(frozen=True)
class CommandLine(Event):
    """A QEMU command line (joined across `\\` continuations)."""

    argv: tuple[str, ...]
    cpu: str | None
    machine: str | None
    accel: str | None


@dataclass(frozen=True)
class QemuVersion(Event):
    version: str
    via: str  # "libvirt" (domain log header) or "qemu" (`QEMU emulator version`)


@dataclass(frozen=True)
class Log:
    """Everything recognised in one log, in line order."""

    source: str
    line_count: int
    events: tuple[Event, ...]
    plain_traces: int = 0  # trace lines only counted, not kept (a huge log's middle)
    dropped: int = 0  # events beyond what a log keeps (see parse_lines)

    @property
    def has_trace(self) -> bool:
        return self.plain_traces > 0 or any(isinstance(e, Trace) for e in self.events)

    def of(self, kind: type) -> list:  # noqa: ANN001 - a list of `kind`
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def from_libvirt(self) -> bool:
        return any(
            isinstance(e, LibvirtMismatch | LibvirtIncompatible)
            or (isinstance(e, QemuVersion) and e.via == "libvirt")
            for e in self.events
        )


# --- single-line recognisers -------------------------------------------------------------

_INTERNAL = re.compile(r"KVM internal error\. Suberror: (\d+)")
_ENTRY_FAILED = re.compile(r"KVM: entry failed, hardware error (0x[0-9a-fA-F]+)")
_WARN = re.compile(
    r"(host doesn't support requested feature|TCG doesn't support requested feature|"
    r"This feature depends on other features that were not requested): "
    r"(?:CPUID\.([0-9A-Fa-f]+)H:E([ABCD]X)"  # 1.x-10.0: CPUID.80000001H:EDX
    r"|CPUID\[eax=([0-9A-Fa-f]+)h(?:,ecx=([0-9A-Fa-f]+)h)?\]\.E([ABCD]X)"  # 10.1+
    r"|MSR\(([0-9A-Fa-f]+)[hH]\))"
    r"(?:\.(\S+))? \[bit (\d+)\]"
)
_WARN_OLD = re.compile(
    r"host cpuid ([0-9a-fA-F]{4})_([0-9a-fA-F]{4}) lacks requested flag '([^']+)' "
    r"\[0x([0-9a-fA-F]+)\]"
)
_REFUSED = re.compile(r"(Host|TCG|Host's CPU) doesn't support requested features")
_PHYS_MISMATCH = re.compile(
    r"Host physical bits \((\d+)\) does not match phys-bits property \((\d+)\)"
)
_ADDR_LIMIT = re.compile(
    r"Address space limit (0x[0-9a-fA-F]+) < (0x[0-9a-fA-F]+) phys-bits too low \((\d+)\)"
)
_LV_MISMATCH = re.compile(r"guest CPU doesn't match specification")
_LV_MISSING = re.compile(r"missing features:\s*([\w.,\s-]+)")
_LV_EXTRA = re.compile(r"extra features:\s*([\w.,\s-]+)")
_LV_INCOMPAT = re.compile(
    r"the CPU is incompatible with host CPU"
    r"(?::\s*Host CPU does not provide required features:\s*([\w.,\s-]+))?"
)
_LV_VERSION = re.compile(r"qemu version: (\d+\.\d+(?:\.\d+)?)")
_QEMU_VERSION = re.compile(r"QEMU emulator version (\d+\.\d+(?:\.\d+)?)")

# trace-cmd: "  qemu-system-x86-31218 [000] 159269.806542: kvm_exit: reason ..."
# perf script / trace_pipe variants: "kvm:kvm_exit: ...", flags columns like "d..1."
_TRACE = re.compile(
    r"(?:\d\.\d+:\s+|(?:^|\s)kvm(?:mmu)?:)(kvm_[a-z0-9_]+):\s*(.*?)\s*$"  # timestamp or system
    r"|^\s*(kvm_[a-z0-9_]+):\s+(.*?)\s*$"  # a bare event line
)
_TASK = re.compile(r"^\s*(\S+-\d+)\s+(?:\(\s*\d+\)\s+)?\[\d+\]")

_REG_TOKEN = re.compile(
    r"\b(E?[ABCD]X|R[ABCD]X|E?[SD]I|R[SD]I|E?[BS]P|R[BS]P|R(?:8|9|1[0-5])|[ER]IP|EFL|"
    r"CR[0234]|EFER|CPL|II|A20|SMM|HLT|DR[0-7]|DR6|DR7)=([0-9a-fA-F]+)\b"
)
_RESET = re.compile(r"^CPU Reset \(CPU \d+\)")
_DUMP_START = re.compile(r"\b[ER]AX=[0-9a-fA-F]+")
_DUMP_LINE = re.compile(
    r"^\s*(?:[A-Z][A-Z0-9]{1,5}\s*=|Code=|\[[-A-Z]+\]|[A-Z]{2}\s+=)|\b(?:CR0|EFER|EIP|RIP)="
)
_CODE = re.compile(r"Code=(.*)$")


def _trace_event(n: int, text: str, name: str, payload: str) -> Trace:
    m_task = _TASK.match(text)
    task = m_task.group(1) if m_task else None
    base: dict = {"line": n, "text": text.strip(), "name": name, "payload": payload, "task": task}
    if name == "kvm_exit":
        r = re.search(r"reason (\S+)", payload)
        rip = re.search(r"rip (" + _HEX + ")", payload)
        return KvmExit(
            **base, reason=r.group(1) if r else "", rip=_int(rip.group(1)) if rip else None
        )
    if name == "kvm_mmu_pagetable_walk":
        m = re.search(r"addr (" + _HEX + r") pferr (" + _HEX + ")", payload)
        if m:
            return WalkStart(**base, addr=_int(m.group(1)), pferr=_int(m.group(2)))
    if name == "kvm_mmu_paging_element":
        m = re.search(r"pte (" + _HEX + r") level (\d+)", payload)
        if m:
            return PagingElement(**base, pte=_int(m.group(1)), level=int(m.group(2)))
    if name == "kvm_mmu_walker_error":
        m = re.search(r"pferr (" + _HEX + ")", payload)
        if m:
            return WalkerError(**base, pferr=_int(m.group(1)))
    if name == "kvm_emulate_insn":
        m = re.match(
            r"(" + _HEX + r"):(" + _HEX + r"):\s*((?:[0-9a-fA-F]{2}(?:\s+|$))*)(.*)$", payload
        )
        if m:
            mode = re.search(r"\((\w+)\)", m.group(4))
            return EmulateInsn(
                **base,
                rip=_int(m.group(2)),
                insn=tuple(int(b, 16) for b in m.group(3).split()),
                mode=mode.group(1) if mode else None,
                failed=payload.endswith("FAIL"),
            )
    if name == "kvm_userspace_exit":
        r = re.search(r"reason (\S+)", payload)
        return UserspaceExit(**base, reason=r.group(1) if r else "")
    if name == "kvm_cr":
        m = re.search(r"cr_(write|read) (\d+) = (" + _HEX + ")", payload)
        if m:
            return CrAccess(
                **base, write=m.group(1) == "write", cr=int(m.group(2)), value=_int(m.group(3))
            )
    if name == "kvm_msr":
        m = re.search(r"msr_(write|read) (" + _HEX + r") = (" + _HEX + ")", payload)
        if m:
            return MsrAccess(
                **base,
                write=m.group(1) == "write",
                msr=_int(m.group(2)),
                value=_int(m.group(3)),
                gp="#GP" in payload,
            )
    if name == "kvm_inj_exception":
        m = re.search(r"(#[A-Z]{2})(?:\s*\((" + _HEX + r")\))?", payload)
        if m:
            code = _int(m.group(2)) if m.group(2) else None
            return InjectedException(**base, vector=m.group(1), error_code=code)
    return Trace(**base)


def _features_list(text: str) -> tuple[str, ...]:
    return tuple(f for f in (p.strip().strip(".'\"") for p in re.split(r"[,\s]+", text)) if f)


def _line_event(n: int, text: str) -> Event | None:
    if "kvm_" in text and (m := _TRACE.search(text)):  # most lines of a big log: try first
        if m.group(1):
            return _trace_event(n, text, m.group(1), m.group(2))
        return _trace_event(n, text, m.group(3), m.group(4))
    if m := _INTERNAL.search(text):
        return InternalError(n, text.strip(), int(m.group(1)))
    if m := _ENTRY_FAILED.search(text):
        return EntryFailed(n, text.strip(), _int(m.group(1)))
    if m := _WARN.search(text):
        accel = (
            "host"
            if m.group(1).startswith("host")
            else "TCG"
            if m.group(1).startswith("TCG")
            else "dependency"
        )
        leaf_text = m.group(2) or m.group(4)
        reg = m.group(3) or m.group(6)
        return FeatureWarning(
            n,
            text.strip(),
            accel=accel,
            leaf=_int(leaf_text) if leaf_text else None,
            register=("e" + reg.lower()) if reg else None,
            msr=_int(m.group(7)) if m.group(7) else None,
            subleaf=_int(m.group(5)) if m.group(5) else None,
            name=m.group(8),
            bit=int(m.group(9)),
        )
    if m := _WARN_OLD.search(text):
        leaf = int(m.group(1) + m.group(2), 16)
        mask = int(m.group(4), 16)
        bit = mask.bit_length() - 1 if mask and mask & (mask - 1) == 0 else -1
        return FeatureWarning(
            n,
            text.strip(),
            accel="host",
            leaf=leaf,
            register=None,
            msr=None,
            subleaf=None,
            name=m.group(3),
            bit=bit,
        )
    if m := _REFUSED.search(text):
        return FeaturesRefused(n, text.strip(), accel="TCG" if m.group(1) == "TCG" else "host")
    if m := _PHYS_MISMATCH.search(text):
        return PhysBitsMismatch(n, text.strip(), int(m.group(1)), int(m.group(2)))
    if m := _ADDR_LIMIT.search(text):
        return AddressSpaceLimit(
            n, text.strip(), _int(m.group(1)), _int(m.group(2)), int(m.group(3))
        )
    if _LV_MISMATCH.search(text):
        miss = _LV_MISSING.search(text)
        extra = _LV_EXTRA.search(text)
        return LibvirtMismatch(
            n,
            text.strip(),
            missing=_features_list(miss.group(1)) if miss else (),
            extra=_features_list(extra.group(1)) if extra else (),
        )
    if m := _LV_INCOMPAT.search(text):
        return LibvirtIncompatible(n, text.strip(), _features_list(m.group(1) or ""))
    if m := _LV_VERSION.search(text):
        return QemuVersion(n, text.strip(), m.group(1), via="libvirt")
    if m := _QEMU_VERSION.search(text):
        return QemuVersion(n, text.strip(), m.group(1), via="qemu")
    if m := _TRACE.search(text):
        if m.group(1):
            return _trace_event(n, text, m.group(1), m.group(2))
        return _trace_event(n, text, m.group(3), m.group(4))
    return None


# --- multi-line recognisers --------------------------------------------------------------


_QEMU_PROG = re.compile(r"(?:^|/)(qemu-system-(?:x86_64|i386)|qemu-kvm|kvm)$")


def parse_cpu_machine(argv: list[str]) -> tuple[str | None, str | None, str | None]:
    """`-cpu`, machine type and accelerator of a QEMU argv (the last of each wins)."""
    cpu = machine = accel = None
    it = iter(range(len(argv)))
    for i in it:
        a = argv[i]
        opt = a[1:] if a.startswith("--") else a
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if opt == "-cpu" and nxt is not None:
            cpu = nxt
        elif opt in ("-machine", "-M") and nxt is not None:
            for j, part in enumerate(nxt.split(",")):
                if part.startswith("type="):
                    machine = part[5:]
                elif j == 0 and "=" not in part:
                    machine = part
                elif part.startswith("accel="):
                    accel = part[6:].split(":")[0]
        elif opt == "-accel" and nxt is not None:
            accel = nxt.split(",")[0].removeprefix("accel=")
        elif opt == "-enable-kvm":
            accel = "kvm"
    return cpu, machine, accel


def _command_line(n: int, logical: str) -> CommandLine | None:
    try:
        words = shlex.split(logical)
    except ValueError:
        words = logical.split()
    for k, w in enumerate(words):
        if _QEMU_PROG.search(w) and any(x.startswith("-") for x in words[k + 1 : k + 3]):
            argv = words[k:]
            cpu, machine, accel = parse_cpu_machine(argv)
            return CommandLine(n, logical.strip(), tuple(argv), cpu, machine, accel)
    return None


def parse(text: str, source: str = "<log>") -> Log:
    """All events of a log, in order."""
    return parse_lines(text.splitlines(), source)


class _Source:
    """Numbered lines with a bounded look-ahead (a log is read once, line by line)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._it = iter(lines)
        self._ahead: deque[str] = deque()
        self.n = 0  # number of the last line taken
        self.prev = ""  # the line before it

    def peek(self, k: int) -> list[str]:
        while len(self._ahead) < k:
            nxt = next(self._it, None)
            if nxt is None:
                break
            self._ahead.append(nxt)
        return list(islice(self._ahead, k))

    def take(self) -> str | None:
        if self._ahead:
            line: str | None = self._ahead.popleft()
        else:
            line = next(self._it, None)
        if line is not None:
            self.n += 1
        return line


# What a huge log keeps (bounded memory, whatever its size): every event but traces;
# of the traces, the last TRACE_TAIL, and TRACE_WINDOW before and after each of the
# first ANCHORS anchors (a failed walk, an injected #GP/#DF, a failed emulation, a
# shutdown). The others are only counted. A log of fewer trace lines keeps them all.
TRACE_TAIL = 20000
TRACE_WINDOW = 64
ANCHORS = 200
OTHER_LIMIT = 20000


class _Keeper:
    def __init__(self) -> None:
        self.other: list[Event] = []
        self.kept: dict[int, Event] = {}
        self.recent: deque[Event] = deque(maxlen=TRACE_TAIL)
        self.after = 0
        self.anchors = 0
        self.counted = 0  # trace lines not kept
        self.dropped = 0  # non-trace events beyond OTHER_LIMIT

    def add(self, e: Event) -> None:
        if not isinstance(e, Trace):
            if len(self.other) < OTHER_LIMIT:
                self.other.append(e)
            else:
                self.dropped += 1
            return
        anchor = _is_anchor(e)
        if anchor and self.anchors < ANCHORS:
            self.anchors += 1
            for x in list(self.recent)[-TRACE_WINDOW:]:
                self.kept[x.line] = x
            self.after = TRACE_WINDOW
        if self.after > 0:
            self.kept[e.line] = e
            self.after -= 1
        if len(self.recent) == TRACE_TAIL and self.recent[0].line not in self.kept:
            self.counted += 1  # falls out of the tail, unkept: only counted
        self.recent.append(e)

    def events(self) -> tuple[Event, ...]:
        traces = dict(self.kept)
        for e in self.recent:
            traces[e.line] = e
        return tuple(sorted([*self.other, *traces.values()], key=lambda e: e.line))


def _is_anchor(e: Trace) -> bool:
    if isinstance(e, WalkerError):
        return bool(e.pferr & 0x8)  # RSVD: a reserved bit, not a page that is absent
    if isinstance(e, InjectedException):
        return e.vector in ("#GP", "#DF", "#UD")
    if isinstance(e, EmulateInsn):
        return e.failed
    if isinstance(e, MsrAccess):
        return e.gp
    if isinstance(e, KvmExit):
        return "TRIPLE" in e.reason or "SHUTDOWN" in e.reason
    if isinstance(e, UserspaceExit):
        return "SHUTDOWN" in e.reason or "INTERNAL" in e.reason
    return False


CONTINUATION_LIMIT = 512  # lines of one command line continued with backslashes


def parse_lines(lines: Iterable[str], source: str = "<log>") -> Log:
    """All events of a log read line by line, in order, in bounded memory."""
    src = _Source(lines)
    keep = _Keeper()
    while (raw := src.take()) is not None:
        n = src.n
        if "kvm_" in raw and (m := _TRACE.search(raw)):  # most lines of a big log
            keep.add(_trace_event(n, raw, *(m.group(1, 2) if m.group(1) else m.group(3, 4))))
            src.prev = raw
            continue
        if _DUMP_START.search(raw) and not _TRACE.search(raw):
            header = src.prev
            dump = _dump_stream(src, n, raw)
            keep.add(ResetDump(n, header.strip()) if _RESET.search(header) else dump)
            src.prev = raw
            continue
        if raw.rstrip().endswith("\\") or _QEMU_PROG.search(raw.split(" ", 1)[0].strip()):
            # a command line, maybe continued over several lines (libvirt's domain log)
            parts = [raw.rstrip().removesuffix("\\")]
            more = 0
            while raw.rstrip().endswith("\\") and more < CONTINUATION_LIMIT:
                ahead = src.peek(more + 1)
                if len(ahead) <= more:
                    break
                parts.append(ahead[more].rstrip().removesuffix("\\"))
                more += 1
                if not ahead[more - 1].rstrip().endswith("\\"):
                    break
            cmd = _command_line(n, " ".join(parts))
            if cmd is not None:
                keep.add(cmd)
                for _ in range(more):
                    src.prev = src.take() or ""
                continue
        ev = _line_event(n, raw)
        if ev is None and (" -cpu " in raw or " -enable-kvm" in raw):
            ev = _command_line(n, raw)
        if isinstance(ev, InternalError):
            # QEMU prints `extra data[i]: ...` lines, then `emulation failure`, then the dump
            for nxt in src.peek(7):
                if _DUMP_START.search(nxt):
                    break
                if "emulation failure" in nxt:
                    ev = InternalError(ev.line, ev.text, ev.suberror, "emulation failure")
        if ev is not None:
            keep.add(ev)
        src.prev = raw
    return Log(source, src.n, keep.events(), keep.counted, keep.dropped)


def _dump_stream(src: _Source, n: int, first: str) -> RegisterDump:
    """A register dump that begins with line `n` (`first`): takes the lines after it."""
    regs: dict[str, int] = {}
    spanned: list[tuple[int, str]] = []
    code: tuple[int, ...] = ()
    text: str | None = first
    while text is not None:
        for name, value in _REG_TOKEN.findall(text):
            regs.setdefault(name, int(value, 16))
        if m := _CODE.search(text):
            cur = re.search(r"<([0-9a-fA-F]{2})>((?:\s+[0-9a-fA-F]{2})*)", m.group(1))
            if cur:
                code = tuple(int(b, 16) for b in [cur.group(1), *cur.group(2).split()])
        spanned.append((src.n, text.rstrip()))
        nxt = src.peek(1)
        if not nxt or not _DUMP_LINE.search(nxt[0]) or _DUMP_START.search(nxt[0]):
            break
        src.prev = text
        text = src.take()
    return RegisterDump(n, first.strip(), regs, tuple(spanned), code)
