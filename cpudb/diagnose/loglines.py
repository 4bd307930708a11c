"""Single-line recognisers of a KVM/QEMU failure log: QEMU's messages, libvirt's
errors and `trace-cmd report` lines of the kvm/kvmmmu tracepoints, each line -> an
event or nothing (`logparse` drives them and handles what spans lines)."""

from __future__ import annotations

import re

from cpudb.diagnose.events import (
    AddressSpaceLimit,
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
    MsrAccess,
    PagingElement,
    PhysBitsMismatch,
    QemuVersion,
    Trace,
    UserspaceExit,
    WalkerError,
    WalkStart,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict

    class TraceFields(TypedDict):
        """What every `Trace` holds, read before the tracepoint's own fields."""

        line: int
        text: str
        name: str
        payload: str
        task: str | None


_HEX = r"(?:0x)?[0-9a-fA-F]+"


def _int(text: str) -> int:
    return int(text, 16)


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
TRACE = re.compile(
    r"(?:\d\.\d+:\s+|(?:^|\s)kvm(?:mmu)?:)(kvm_[a-z0-9_]+):\s*(.*?)\s*$"  # timestamp or system
    r"|^\s*(kvm_[a-z0-9_]+):\s+(.*?)\s*$"  # a bare event line
)
_TASK = re.compile(r"^\s*(\S+-\d+)\s+(?:\(\s*\d+\)\s+)?\[\d+\]")


def trace_event(n: int, text: str, name: str, payload: str) -> Trace:
    m_task = _TASK.match(text)
    task = m_task.group(1) if m_task else None
    base: TraceFields = {
        "line": n,
        "text": text.strip(),
        "name": name,
        "payload": payload,
        "task": task,
    }
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


def line_event(n: int, text: str) -> Event | None:
    if "kvm_" in text and (m := TRACE.search(text)):  # most lines of a big log: try first
        if m.group(1):
            return trace_event(n, text, m.group(1), m.group(2))
        return trace_event(n, text, m.group(3), m.group(4))
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
    if m := TRACE.search(text):
        if m.group(1):
            return trace_event(n, text, m.group(1), m.group(2))
        return trace_event(n, text, m.group(3), m.group(4))
    return None
