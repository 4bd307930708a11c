"""Recognise what a KVM/QEMU failure log says, line by line (pure: text -> events).

One log may mix QEMU's stderr (`KVM internal error`, the register dump, feature warnings,
phys-bits messages), `trace-cmd report` output of the kvm/kvmmmu tracepoints, libvirt's
errors and its per-domain log (header with the QEMU version, the command line). Every
event keeps its 1-based line number and text, so findings can quote their evidence.
Unrecognised lines are skipped; nothing here decides anything.

This module drives the parse and handles what spans lines (register dumps, command
lines, the kept trace window); single lines are `loglines`; the event types are `events`
(re-exported here, the types `parse` returns).
"""

from __future__ import annotations

import re
import shlex
from collections import deque
from collections.abc import Iterable
from itertools import islice

from cpudb.diagnose.events import (
    AddressSpaceLimit,
    CommandLine,
    CrAccess,
    EmulateInsn,
    EntryFailed,
    Event,
    FeaturesRefused,
    FeatureWarning,
    InjectedException,
    InternalError,
    KvmExit,
    LibvirtIncompatible,
    LibvirtMismatch,
    Log,
    MsrAccess,
    PagingElement,
    PhysBitsMismatch,
    QemuVersion,
    RegisterDump,
    ResetDump,
    Trace,
    UserspaceExit,
    WalkerError,
    WalkStart,
)
from cpudb.diagnose.loglines import TRACE, line_event, trace_event

__all__ = [
    "ANCHORS",
    "AddressSpaceLimit",
    "CONTINUATION_LIMIT",
    "CommandLine",
    "CrAccess",
    "EmulateInsn",
    "EntryFailed",
    "Event",
    "FeatureWarning",
    "FeaturesRefused",
    "InjectedException",
    "InternalError",
    "KvmExit",
    "LibvirtIncompatible",
    "LibvirtMismatch",
    "Log",
    "MsrAccess",
    "OTHER_LIMIT",
    "PagingElement",
    "PhysBitsMismatch",
    "QemuVersion",
    "RegisterDump",
    "ResetDump",
    "TRACE_TAIL",
    "TRACE_WINDOW",
    "Trace",
    "UserspaceExit",
    "WalkStart",
    "WalkerError",
    "parse",
    "parse_cpu_machine",
    "parse_lines",
]

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
        if "kvm_" in raw and (m := TRACE.search(raw)):  # most lines of a big log
            keep.add(trace_event(n, raw, *(m.group(1, 2) if m.group(1) else m.group(3, 4))))
            src.prev = raw
            continue
        if _DUMP_START.search(raw) and not TRACE.search(raw):
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
        ev = line_event(n, raw)
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
