"""From recognised log events to findings: the missing feature, the evidence, the chain of
reasoning an engineer would write down, and the fixes.

    log = logparse.parse(text)
    ctx = build_context(log, release, cpu_arg="Haswell-v4")
    diagnosis = diagnose(log, ctx)

The reasoners live in `walks` (page walks), `writes` (CR4/EFER #GP) and `messages`
(QEMU/libvirt messages); this module builds the context, merges their claims per feature,
adds the fixes and says what the log does not show. Pure: everything arrives as data (the
log, the release, the host's feature set). When the log does not support a conclusion,
`Diagnosis.notes` says what is missing instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cpudb.decide.rank import CatalogOffer
from cpudb.diagnose import fixes as fx
from cpudb.diagnose import logparse as lp
from cpudb.diagnose.findings import (
    HOST_PHYS_BITS,
    PHYS_BITS,
    Claim,
    Context,
    Diagnosis,
    Evidence,
    Finding,
    describe,
    state_near,
)
from cpudb.diagnose.guestcpu import GuestCpu, parse_cpu_arg, resolve
from cpudb.diagnose.messages import host_bits, libvirt_claims, phys_claims, warning_claims
from cpudb.diagnose.registers import guest_state
from cpudb.diagnose.walks import la57_claims, walk_claims
from cpudb.diagnose.writes import write_claims
from cpudb.model import Release
from cpudb.names import FeatureNames, extra_names

__all__ = ["Context", "Diagnosis", "Evidence", "Finding", "build_context", "diagnose"]


# KVM_INTERNAL_ERROR_* suberrors (include/uapi/linux/kvm.h)
SUBERRORS = {
    1: "emulation failure",
    2: "exception during event delivery (simultaneous exceptions)",
    3: "event delivery failed",
    4: "unexpected exit reason",
}
# how findings are ordered: the strongest evidence of what the guest needed comes first
KIND_ORDER = (
    "page-walk",
    "cr4-write",
    "efer-write",
    "paging-mode",
    "address-space",
    "phys-bits-mismatch",
    "libvirt-host",
    "libvirt-missing",
    "qemu-dependency",
    "qemu-host",
    "qemu-tcg",
)


def build_context(
    log: lp.Log,
    release: Release,
    *,
    cpu_arg: str | None = None,
    host: fx.HostView | None = None,
    catalogue: Sequence[CatalogOffer] | None = None,
    linux_deps: Sequence[tuple[str, str]] = (),
    notes: tuple[str, ...] = (),
) -> Context:
    """The guest CPU (from `cpu_arg`, else the log's command line), accelerator and machine.

    A `cpu_arg` the release does not know raises NotFound (it is the user's argument); the
    same in a log's command line becomes a note.
    """
    names = FeatureNames(release)
    cmds = log.of(lp.CommandLine)
    cmd = cmds[-1] if cmds else None
    accel = cmd.accel if cmd and cmd.accel else None
    if accel is None and cmd is not None:
        accel = "tcg"  # QEMU's default accelerator when none is named
    if cmd is None:
        kvm_seen = any(
            isinstance(e, lp.InternalError | lp.EntryFailed | lp.Trace)
            or log.plain_traces
            or (isinstance(e, lp.FeatureWarning) and e.accel == "host")
            for e in log.events
        )
        tcg_seen = any(isinstance(e, lp.FeatureWarning) and e.accel == "TCG" for e in log.events)
        accel = "kvm" if kvm_seen else "tcg" if tcg_seen else None
    out_notes = list(notes)
    cpu: GuestCpu | None = None
    if cpu_arg is not None:
        cpu = resolve(
            parse_cpu_arg(cpu_arg), release, names, source="--cpu", accel=accel, strict=True
        )
    elif cmd is not None:
        if cmd.cpu:
            cpu = resolve(
                parse_cpu_arg(cmd.cpu),
                release,
                names,
                source=f"command line, line {cmd.line}",
                accel=accel,
                strict=False,
            )
        else:
            default = "qemu32" if cmd.argv and cmd.argv[0].endswith("i386") else "qemu64"
            cpu = resolve(
                parse_cpu_arg(default),
                release,
                names,
                source=f"QEMU's default: no -cpu on the command line, line {cmd.line}",
                accel=accel,
                strict=False,
            )
        out_notes.extend(cpu.problems)
    else:
        out_notes.append(
            "the log has no QEMU command line and no --cpu was given: the guest "
            "CPU model is unknown (pass --cpu 'MODEL,flags' for exact fixes)"
        )
    if cmd is not None and cmd.machine:
        out_notes.extend(_machine_notes(cmd.machine, cpu, release))
    return Context(
        release,
        names,
        cpu,
        accel,
        cmd.machine if cmd else None,
        host,
        catalogue,
        tuple(linux_deps),
        tuple(out_notes),
    )


def _machine_notes(machine: str, cpu: GuestCpu | None, release: Release) -> list[str]:
    m = re.search(r"-(\d+)\.(\d+)$", machine)
    if not m or cpu is None or cpu.name is None or release.default_version is None:
        return []
    if (int(m.group(1)), int(m.group(2))) < (4, 1) and "-v" not in cpu.arg.model:
        return [
            f"machine type {machine} predates QEMU 4.1: the bare name {cpu.arg.model} "
            "means the legacy (unversioned) definition there, taken here as -v1"
        ]
    return []


def _unexplained_notes(log: lp.Log, found_walk: bool, notes: list[str]) -> None:
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


def _recognised(log: lp.Log) -> dict[str, int]:
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
FAULTS = frozenset(
    {"page-walk", "cr4-write", "efer-write", "paging-mode", "address-space",
     "phys-bits-mismatch", "libvirt-host", "libvirt-missing"}
)  # fmt: skip


def role_of(kinds: Sequence[str], log: lp.Log) -> str:
    """A cause needs evidence of the failure; a feature QEMU only dropped is a note
    (unless QEMU then refused to start: enforce made the drop the failure)."""
    if set(kinds) & FAULTS or log.of(lp.FeaturesRefused):
        return "cause"
    return "note"


# kinds of evidence that the guest needed the feature / that the host lacks it
NEEDS = frozenset({"page-walk", "cr4-write", "efer-write", "paging-mode"})
HOST_LACKS = frozenset({"qemu-host", "libvirt-host", "libvirt-missing"})


def _feature_fixes(
    name: str, kinds: set[str], ctx: Context, provides: list[str], own: list[str]
) -> tuple[list[str], list[str]]:
    """`-cpu` fixes in order of preference, and sentences for what the fixes cannot say."""
    models = [f"-cpu {p}" for p in provides]
    flag = fx.flag_forms(name, ctx.cpu)
    advice: list[str] = []
    cur = ctx.cpu.arg if ctx.cpu is not None and ctx.cpu.name is not None else None
    off = (
        f"-cpu {cur.with_flag(name, 'off')}" if cur is not None else f"-cpu <your model>,{name}=off"
    )
    # the guest was configured with it, yet faulted: KVM here does not give it
    kvm_cannot = bool(kinds & NEEDS) and ctx.accel != "tcg" and ctx.cpu is not None
    kvm_cannot = kvm_cannot and ctx.cpu is not None and ctx.cpu.has(name) is True
    host_lacks = bool(kinds & HOST_LACKS) or (ctx.host is not None and ctx.host.has(name) is False)
    if kvm_cannot:  # the flag forms are what already ran
        fixes = list(models)
    elif kinds & NEEDS:  # the smallest change first: the model the guest had, plus the flag
        fixes = [*own, *flag, *models]
    elif "qemu-dependency" in kinds:
        fixes = [*own, *models]
    elif "qemu-tcg" in kinds:
        fixes = [*(f"-accel kvm {m}" for m in models), *(f"-accel kvm {x}" for x in flag)]
        advice.append(
            f"TCG cannot give the guest {name}: use KVM on a host that has it, or "
            f"accept running without it ({off} silences the warning)"
        )
    else:
        fixes = [*own, *flag, *models]
    if ctx.cpu is not None and ctx.cpu.is_host and kinds & NEEDS and ctx.host is None:
        advice.append(
            f"-cpu {ctx.cpu.arg.model} gives the guest what this host's KVM offers, so the host "
            f"(or KVM on it) lacks {name}: the CPU names above need a host that has it"
        )
    if host_lacks:
        advice.append(
            f"on this host the guest cannot have {name} under KVM: the fixes above "
            f"need a host that has it; {off} stops the warning if the guest can do "
            "without it, and enforce makes QEMU refuse to start instead of dropping "
            "it silently"
        )
    elif kvm_cannot:
        probe = f"cpudb probe --cpu {ctx.cpu.arg.text}" if ctx.cpu else "cpudb probe"
        advice.append(
            f"the guest CPU was already configured with {name}, so no -cpu flag fixes "
            f"this: the host's KVM does not give it (`{probe}` shows what a guest "
            "really sees there)"
        )
    if kinds & NEEDS and ctx.accel != "tcg" and (kvm_cannot or host_lacks):
        alt = GUEST_WITHOUT.get(name)
        advice.append(
            f"ways out: a host whose KVM offers {name}; -accel tcg (emulated, slow)"
            + (f"; or {alt}" if alt else "; or a guest that does without it")
        )
    return list(dict.fromkeys(fixes)), advice


# What a guest can do instead when no host here can give it a feature.
GUEST_WITHOUT = {
    "pdpe1gb": "2 MiB pages in the guest (Linux: hugepagesz=2M; a kernel that checks "
    "CPUID.80000001H:EDX[26] before mapping with 1 GiB pages)",
    "la57": "4-level paging in the guest (Linux: the no5lvl boot option)",
    "nx": "a guest kernel that does not set EFER.NXE (Linux: noexec=off is not enough; "
    "use a kernel built without NX, or a host that has it)",
}


def _finish(claims: list[Claim], ctx: Context, log: lp.Log) -> list[Finding]:
    merged: dict[str, list[Claim]] = {}
    for c in claims:
        merged.setdefault(c.key, []).append(c)
    out: list[Finding] = []
    for key, group in merged.items():
        kinds = tuple(dict.fromkeys(c.kind for c in group))
        ev: dict[int, Evidence] = {}
        for c in group:
            for e in c.evidence:
                ev.setdefault(e.line, e)
        chain: list[str] = []
        for c in group:
            chain += [s for s in c.chain if s not in chain]
        certainty = "certain" if any(c.certain for c in group) else "likely"
        lacks_line = next((c.host_lacks_line for c in group if c.host_lacks_line), None)
        if key in (PHYS_BITS, HOST_PHYS_BITS):
            fixes = list(dict.fromkeys(f for c in group for f in c.fixes))
            hbits = host_bits(log, ctx)
            host = (
                f"the host has {hbits} physical-address bits: phys-bits must not exceed it"
                if hbits
                else "phys-bits must not exceed the host's physical-address "
                "bits (`grep 'address sizes' /proc/cpuinfo` on the host); host-phys-bits=on "
                "takes the host's value"
            )
            phys_advice: tuple[str, ...] = (
                ()
                if fixes
                else (
                    "no phys-bits value fits on this host: keep the guest's memory (RAM, maxmem, "
                    "the 64-bit PCI hole) below what the host can address, or use a host with more "
                    "physical-address bits",
                )
            )
            out.append(
                Finding(
                    key,
                    None,
                    None,
                    kinds,
                    tuple(sorted(ev.values(), key=lambda e: e.line)),
                    tuple(chain),
                    certainty,
                    (),
                    tuple(fixes),
                    host,
                    None,
                    advice=phys_advice,
                    role=role_of(kinds, log),
                )
            )
            continue
        f = ctx.release.feature(key)
        location = f.location if f else None
        cpuid = describe(ctx, f) if f else None
        provides: list[str] = []
        fixes_: list[str] = []
        advice: list[str] = []
        if f is not None:
            provides = fx.providers(
                ctx.release,
                f.name,
                host=ctx.host,
                catalogue=ctx.catalogue,
                linux_deps=ctx.linux_deps,
            )
            own = [x for c in group for x in c.fixes]
            fixes_, advice = _feature_fixes(f.name, set(kinds), ctx, provides, own)
        linux = extra_names().get(location or "", {}).get("linux_name") if location else None
        caveat, host_has = fx.host_caveat(
            key, accel=ctx.accel, host=ctx.host, reported_missing=lacks_line, linux_name=linux
        )
        lv: list[str] = []
        if log.from_libvirt:
            lvname = extra_names().get(location or "", {}).get("libvirt_name") or key
            if any(k in kinds for k in ("libvirt-host", "libvirt-missing", "qemu-host")):
                lv = [
                    f"<feature policy='disable' name='{lvname}'/> (if the guest can do without it)",
                    "<cpu mode='host-model'/>",
                ]
            else:
                lv = [f"<feature policy='require' name='{lvname}'/>"]
        out.append(
            Finding(
                key,
                location,
                cpuid,
                kinds,
                tuple(sorted(ev.values(), key=lambda e: e.line)),
                tuple(chain),
                certainty,
                tuple(provides),
                tuple(fixes_),
                caveat,
                host_has,
                tuple(lv),
                tuple(advice),
                role_of(kinds, log),
            )
        )

    def order(fd: Finding) -> tuple:
        return (
            fd.role != "cause",
            min(KIND_ORDER.index(k) for k in fd.kinds),
            fd.evidence[0].line if fd.evidence else 0,
        )

    return sorted(out, key=order)


def diagnose(log: lp.Log, ctx: Context) -> Diagnosis:
    notes: list[str] = list(ctx.notes)
    from_walks = walk_claims(log, ctx, notes)
    claims = [
        *from_walks,
        *write_claims(log, ctx, notes),
        *la57_claims(log, ctx),
        *phys_claims(log, ctx, notes),
        *libvirt_claims(log, ctx, notes),
        *warning_claims(log, ctx, notes),
    ]
    _unexplained_notes(log, bool(from_walks), notes)
    if not log.events:
        notes.append(
            "nothing recognised: expected QEMU's `KVM internal error` and register "
            "dump, `trace-cmd report` lines of the kvm/kvmmmu events, QEMU's "
            "`doesn't support requested feature` warnings or libvirt's CPU errors"
        )
    findings = tuple(_finish(claims, ctx, log))
    resets = log.of(lp.ResetDump)
    if resets:
        lines = ", ".join(str(r.line) for r in resets[:4]) + (", ..." if len(resets) > 4 else "")
        notes.append(
            f"line {lines}: register dumps QEMU printed at CPU reset (-d cpu_reset): the "
            "power-on state, not the state of the failure"
        )
    if not any(f.role == "cause" for f in findings):
        notes.append(cannot_tell(log, ctx))
    state: tuple[str, ...] = ()
    dumps = log.of(lp.RegisterDump)
    if dumps:
        state = tuple(guest_state(dumps[0].regs).describe())
    return Diagnosis(
        log.source,
        ctx.release.version,
        findings,
        tuple(dict.fromkeys(notes)),
        _recognised(log),
        state,
        ctx.cpu,
        ctx.machine,
        ctx.accel,
    )


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
