"""What a log does not show: notes on recognised events no finding explains, the
event counts, and what a log without a fault cannot tell (and how to get one that can).
Pure."""

from __future__ import annotations

import cpudb.diagnose.events as lp
from cpudb.diagnose.findings import (
    Context,
    state_near,
)

# KVM_INTERNAL_ERROR_* suberrors (include/uapi/linux/kvm.h)
SUBERRORS = {
    1: "emulation failure",
    2: "exception during event delivery (simultaneous exceptions)",
    3: "event delivery failed",
    4: "unexpected exit reason",
}


def unexplained_notes(log: lp.Log, found_walk: bool, notes: list[str]) -> None:
    errors = log.of(lp.InternalError)
    for e in log.of(lp.EntryFailed):
        notes.append(
            f"line {e.line}: VM entry failed (hardware error {e.hardware_error:#x}): "
            "the CPU rejected the guest state (0x80000021 = invalid guest state, e.g. "
            "firmware or real-mode code on a host without unrestricted guest); this is "
            "not about a CPU model feature"
        )
    if not errors or found_walk:
        return
    err = errors[0]
    what = SUBERRORS.get(err.suberror, f"suberror {err.suberror}")
    rip = ""
    state, dump = state_near(log, err.line)
    if dump is not None:
        pc = dump.regs.get("RIP", dump.regs.get("EIP"))
        rip = f" at RIP {pc:#x}" if pc is not None else ""
    failed = [e for e in log.of(lp.EmulateInsn) if e.failed]
    walks = log.of(lp.WalkStart) + log.of(lp.PagingElement)
    msg = f"line {err.line}: KVM internal error ({what}){rip}"
    if failed:
        insn = failed[0].insn
        msg += (
            f"; KVM could not emulate the instruction at {failed[0].rip:#x} (bytes "
            f"{' '.join(f'{b:02x}' for b in insn) or 'unknown'})"
        )
        if insn and insn[0] in (0xC4, 0xC5):
            msg += (
                ", a VEX-encoded (AVX) instruction: KVM's emulator does not handle most "
                "vector instructions, typically met when firmware or a driver touches MMIO "
                "with them"
            )
        elif insn and insn[0] == 0x62 and (failed[0].mode or "").endswith("64"):
            msg += ", an EVEX-encoded (AVX-512) instruction KVM's emulator does not handle"
        if not log.of(lp.WalkerError):
            msg += (
                "; no page walk failed, so this is not a reserved-bit fault of a missing "
                "CPU feature"
            )
    elif not walks:
        msg += (
            "; the log has no kvm/kvmmmu trace lines, so it cannot tell whether a page walk "
            "hit a reserved bit (a missing CPU feature) or something unrelated (firmware "
            "bugs, MMIO accessed with an instruction KVM cannot emulate). Record one: "
            "`trace-cmd record -e kvm -e kvmmmu` while reproducing, then `trace-cmd report`"
        )
    else:
        msg += "; the traced page walks show no reserved-bit failure"
    if state is not None and state.mode:
        msg += f" [{'; '.join(state.describe())}]"
    notes.append(msg)


def recognised(log: lp.Log) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in log.events:
        key = {
            lp.InternalError: "kvm internal error",
            lp.EntryFailed: "kvm entry failure",
            lp.RegisterDump: "register dump",
            lp.ResetDump: "cpu reset dump",
            lp.FeatureWarning: "qemu feature warning",
            lp.FeaturesRefused: "qemu enforce error",
            lp.PhysBitsMismatch: "qemu phys-bits",
            lp.AddressSpaceLimit: "qemu phys-bits",
            lp.LibvirtMismatch: "libvirt",
            lp.LibvirtIncompatible: "libvirt",
            lp.CommandLine: "qemu command line",
            lp.QemuVersion: "qemu version",
        }.get(type(e), "trace" if isinstance(e, lp.Trace) else "other")
        out[key] = out.get(key, 0) + 1
    if log.plain_traces:
        out["trace"] = out.get("trace", 0) + log.plain_traces
    return out


# kinds of evidence that the failure happened: a fault, or a refusal to start

TRACEFS = "/sys/kernel/tracing"


def cannot_tell(log: lp.Log, ctx: Context) -> str:
    """What a log without evidence of a fault cannot tell, and how to get one that can."""
    dropped = " (QEMU's warnings only say what it dropped)" if log.of(lp.FeatureWarning) else ""
    cpu = ctx.cpu.arg.text if ctx.cpu is not None and ctx.cpu.source != "--cpu" else None
    probe = (
        "cpudb probe"
        + (f" --cpu {cpu}" if cpu else "")
        + (f" --accel {ctx.accel}" if ctx.accel else "")
    )
    head = (
        f"the log shows no fault of the guest{dropped}, so it cannot tell why the guest "
        "failed: a guest that triple-faults makes QEMU exit 0 (with -no-reboot: reset) "
        "without a word"
    )
    if ctx.accel == "tcg":
        how = (
            "rerun with `-d int,guest_errors -D qemu-int.log` (TCG logs every exception) and "
            "diagnose that file"
        )
    elif log.has_trace:
        how = (
            "the kvm trace in it shows no failed page walk or refused CR4/EFER write: "
            "trace the whole run (from before the guest starts), or"
        )
        how += f" boot the probe guest with the same CPU: `{probe}`"
        return f"{head}; {how}"
    else:
        how = (
            f"record a KVM trace while reproducing (as root; trace-cmd needs ftrace_enabled): "
            f"`mount -t tracefs nodev {TRACEFS}` unless mounted; "
            f"`echo 1 > {TRACEFS}/events/kvm/enable; echo 1 > {TRACEFS}/events/kvmmmu/enable`; "
            f"start the guest; `cat {TRACEFS}/trace >> this.log`; then diagnose this log again"
        )
    return f"{head}. To see the fault, {how}; or boot the probe guest with the same CPU: `{probe}`"
