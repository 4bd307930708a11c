"""From recognised log events to findings: the missing feature, the evidence, the chain of
reasoning an engineer would write down, and the fixes.

    log = logparse.parse(text)
    ctx = build_context(log, release, cpu_arg="Haswell-v4")
    diagnosis = diagnose(log, ctx)

Pure: everything arrives as data (the log, the release, the host's feature set).
When the log does not support a conclusion, `Diagnosis.notes` says what is missing
instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cpudb.diagnose import fixes as fx
from cpudb.diagnose import logparse as lp
from cpudb.diagnose import paging
from cpudb.diagnose.guestcpu import GuestCpu, parse_cpu_arg, resolve
from cpudb.diagnose.registers import (
    CR4_BITS,
    CR4_GATES,
    EFER_BITS,
    EFER_GATES,
    MSR_EFER,
    Gate,
    GuestState,
    flags,
    gates_set,
    guest_state,
)
from cpudb.errors import NotFound
from cpudb.model import Feature, Release
from cpudb.names import FeatureNames, extra_names
from cpudb.resolve import missing_requirements

PFERR = {0: "P", 1: "W", 2: "U", 3: "RSVD", 4: "F", 5: "PK", 6: "SS"}
RSVD = 1 << 3
SUBERRORS = {
    1: "emulation failure",
    2: "exception during event delivery (simultaneous exceptions)",
    3: "event delivery failed",
    4: "unexpected exit reason",
}
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
PHYS_BITS = "phys-bits"
HOST_PHYS_BITS = "host-phys-bits"


def pferr_text(code: int) -> str:
    return "|".join(n for b, n in PFERR.items() if code >> b & 1) or "0 (not present)"


@dataclass(frozen=True)
class Evidence:
    line: int
    text: str


@dataclass(frozen=True)
class Finding:
    feature: str  # QEMU name in the chosen release, or "phys-bits" / "host-phys-bits"
    location: str | None  # cpuid.0x80000001.edx.26
    cpuid: str | None  # CPUID.80000001H:EDX[26]
    kinds: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    chain: tuple[str, ...]
    certainty: str  # "certain" or "likely"
    provides: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    host: str = ""
    host_has: bool | None = None
    libvirt: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()  # what the fixes alone do not say

    @property
    def explanation(self) -> str:
        return "; ".join(self.chain) + "."


@dataclass(frozen=True)
class Context:
    release: Release
    names: FeatureNames
    cpu: GuestCpu | None
    accel: str | None
    machine: str | None = None
    host: fx.HostView | None = None
    newness: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    source: str
    release: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    recognised: dict[str, int]
    state: tuple[str, ...]  # decoded registers, one line each
    cpu: GuestCpu | None
    machine: str | None
    accel: str | None


@dataclass
class _Claim:
    key: str  # feature name, or PHYS_BITS / HOST_PHYS_BITS
    kind: str
    evidence: list[Evidence]
    chain: list[str]
    certain: bool = True
    host_lacks_line: int | None = None
    fixes: list[str] = field(default_factory=list)  # for phys-bits claims


# --- context ------------------------------------------------------------------------------


def build_context(
    log: lp.Log,
    release: Release,
    *,
    cpu_arg: str | None = None,
    host: fx.HostView | None = None,
    newness: Mapping[str, int] | None = None,
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
        dict(newness or {}),
        tuple(out_notes),
    )


def _machine_notes(machine: str, cpu: GuestCpu | None, release: Release) -> list[str]:
    import re

    m = re.search(r"-(\d+)\.(\d+)$", machine)
    if not m or cpu is None or cpu.name is None or release.default_version is None:
        return []
    if (int(m.group(1)), int(m.group(2))) < (4, 1) and "-v" not in cpu.arg.model:
        return [
            f"machine type {machine} predates QEMU 4.1: the bare name {cpu.arg.model} "
            "means the legacy (unversioned) definition there, taken here as -v1"
        ]
    return []


def _model_has(ctx: Context, feature: str) -> bool | None:
    """Whether the configured -cpu gives `feature` (None: unknown, or host/max without --host)."""
    if ctx.cpu is None:
        return None
    if ctx.cpu.is_host:
        return ctx.host.has(feature) if ctx.host else None
    return ctx.cpu.has(feature)


def _has(log: lp.Log, ctx: Context, feature: str) -> bool | None:
    """Whether the guest really got `feature`: configured, and not dropped for the host."""
    has = _model_has(ctx, feature)
    if has and ctx.accel != "tcg" and _host_dropped(log, ctx, feature):
        return False
    return has


def _cpu_label(ctx: Context) -> str:
    if ctx.cpu is None:
        return "the guest CPU"
    return f"-cpu {ctx.cpu.arg.text}"


def _feature_at(ctx: Context, location: str) -> Feature | None:
    return ctx.names.by_location.get(location)


def _describe(ctx: Context, f: Feature) -> str:
    word = ctx.release.word(f.word)
    return word.describe(f.bit) if word else f.location


# --- page walks --------------------------------------------------------------------------


@dataclass
class _Walk:
    start: lp.WalkStart | None
    elements: list[lp.PagingElement] = field(default_factory=list)
    error: lp.WalkerError | None = None


def _walks(log: lp.Log) -> list[_Walk]:
    """Group walker tracepoints into walks, per task (vCPU thread)."""
    open_walk: dict[str | None, _Walk] = {}
    done: list[_Walk] = []
    for e in log.events:
        if isinstance(e, lp.WalkStart):
            if e.task in open_walk:
                done.append(open_walk.pop(e.task))
            open_walk[e.task] = _Walk(e)
        elif isinstance(e, lp.PagingElement):
            open_walk.setdefault(e.task, _Walk(None)).elements.append(e)
        elif isinstance(e, lp.WalkerError):
            w = open_walk.pop(e.task, _Walk(None))
            w.error = e
            done.append(w)
    done.extend(open_walk.values())

    def first_line(w: _Walk) -> int:
        if w.start is not None:
            return w.start.line
        return w.elements[0].line if w.elements else (w.error.line if w.error else 0)

    return sorted(done, key=first_line)


def _state_near(log: lp.Log, line: int) -> tuple[GuestState | None, lp.RegisterDump | None]:
    """The register dump closest to `line` (the one after an internal error comes first)."""
    dumps = log.of(lp.RegisterDump)
    if not dumps:
        return None, None
    dump = min(dumps, key=lambda d: abs(d.line - line))
    return guest_state(dump.regs), dump


def _dump_evidence(dump: lp.RegisterDump | None) -> list[Evidence]:
    if dump is None:
        return []
    return [
        Evidence(n, t.strip())
        for n, t in dump.lines
        if any(k in t for k in ("CR0=", "EFER=", "EIP=", "RIP="))
    ]


def _maxphyaddr(log: lp.Log, ctx: Context) -> tuple[int, str, bool]:
    """The guest's MAXPHYADDR, where it comes from, and whether it is known (not assumed)."""
    arg = ctx.cpu.arg if ctx.cpu else None
    mism = log.of(lp.PhysBitsMismatch)
    if arg is not None and arg.prop("phys-bits"):
        try:
            return int(arg.prop("phys-bits") or "", 0), f"phys-bits={arg.prop('phys-bits')}", True
        except ValueError:
            pass
    host_bits = ctx.host.phys_bits if ctx.host else None
    if mism:
        host_bits = host_bits or mism[-1].host_bits
    host_phys = arg is not None and (
        arg.prop("host-phys-bits") in ("on", "true")
        or (arg.model in ("host", "max") and ctx.accel == "kvm")
    )
    if host_phys:
        if host_bits:
            return host_bits, f"host-phys-bits: the host's {host_bits}", True
        return 48, "host-phys-bits (host width unknown, 48 assumed)", False
    if mism:
        return mism[-1].guest_bits, f"phys-bits {mism[-1].guest_bits} (line {mism[-1].line})", True
    limits = log.of(lp.AddressSpaceLimit)
    if limits:
        return limits[-1].phys_bits, f"phys-bits {limits[-1].phys_bits}", True
    if ctx.cpu is not None and ctx.cpu.features is not None:
        if "lm" in ctx.cpu.features:
            return 40, "QEMU's default phys-bits for 64-bit models", True
        if "pse36" in ctx.cpu.features:
            return 36, "QEMU's default for 32-bit models with pse36", True
        return 32, "QEMU's default for 32-bit models", True
    return 40, "QEMU's default phys-bits (40) for 64-bit models, assumed", False


def _walk_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[_Claim]:
    claims: list[_Claim] = []
    seen: set[tuple[int, int]] = set()
    for w in _walks(log):
        if w.error is None or not w.elements:
            continue
        last = w.elements[-1]
        if not w.error.pferr & RSVD:
            if (last.level, last.pte) not in seen:
                seen.add((last.level, last.pte))
                notes.append(
                    f"line {w.error.line}: the guest page walk failed with "
                    f"{pferr_text(w.error.pferr)}, not RSVD: the level-{last.level} entry "
                    f"{last.pte:#x} is not present or forbids the access; no reserved bit, so "
                    "no CPU feature is implicated"
                )
            continue
        if (last.level, last.pte) in seen:
            continue
        seen.add((last.level, last.pte))
        claims.extend(_rsvd_claims(log, ctx, w, notes))
    return claims


def _rsvd_claims(log: lp.Log, ctx: Context, w: _Walk, notes: list[str]) -> list[_Claim]:
    assert w.error is not None
    last = w.elements[-1]
    state, dump = _state_near(log, w.error.line)
    inferred = paging.infer_mode([e.level for e in w.elements])
    mode = state.mode if state is not None and state.mode not in (None, "off") else inferred
    if mode is None:
        notes.append(
            f"line {w.error.line}: cannot tell the paging mode (no register dump and "
            "no level numbers)"
        )
        return []
    maxphy, maxphy_src, maxphy_known = _maxphyaddr(log, ctx)
    pse = state.has("CR4", "PSE") if state is not None else True
    hits = paging.check(last.level, last.pte, mode, maxphy, pse=pse is not False)
    names = paging.LEVEL_NAMES.get(mode, {})
    entry_name = names.get(last.level, "entry")
    evidence = [*_internal_evidence(log), *_dump_evidence(dump)]
    evidence += [Evidence(e.line, e.text) for e in ([w.start] if w.start else []) + w.elements]
    evidence.append(Evidence(w.error.line, w.error.text))
    evidence += [Evidence(e.line, e.text) for e in log.of(lp.EmulateInsn) if e.failed][:1]
    head: list[str] = []
    if state is not None and state.mode:
        head.append(f"the guest runs {mode} paging ({'; '.join(state.describe()[:-1])})")
    else:
        head.append(
            f"the walk starts at level {max(e.level for e in w.elements)}, i.e. {mode} "
            "paging (no register dump to confirm)"
        )
    if w.start is not None:
        path = ", then ".join(f"the level-{e.level} entry {e.pte:#x}" for e in w.elements)
        head.append(
            f"KVM walked the guest page tables for address {w.start.addr:#x} and read {path}"
        )
    fail = f"the walk failed with {pferr_text(w.error.pferr)} (pferr {w.error.pferr:#x})"

    always = [h for h in hits if h.condition == "always"]
    if always:
        notes.append(
            f"line {last.line}: the failing {entry_name} {last.pte:#x} sets "
            + "; ".join(f"{paging.bit_text(h.set_bits)} ({h.rule.why})" for h in always)
            + ": reserved whatever the CPU model, so no -cpu choice helps; the guest's page "
            "tables are corrupt or its kernel/firmware has a bug"
        )
        return []
    live: list[paging.Hit] = []
    for h in hits:
        if h.condition == "nxe" and state is not None and state.has("EFER", "NXE"):
            continue  # NXE=1: bit 63 is the XD bit, legal
        if (
            h.condition == "amd"
            and ctx.cpu is not None
            and ctx.cpu.vendor not in (None, "AuthenticAMD", "HygonGenuine")
        ):
            continue
        live.append(h)
    if not live:
        notes.append(
            f"line {w.error.line}: the walk failed with RSVD at the {entry_name} {last.pte:#x} "
            f"(level {last.level}), but under the {mode} rules no reserved bit is set there "
            f"(MAXPHYADDR {maxphy}: {maxphy_src}); the trace may be incomplete, or the guest's "
            "MAXPHYADDR is lower than that"
        )
        return []
    certain = len(live) == 1
    out: list[_Claim] = []
    for h in live:
        chain = [*head]
        if h.condition == "pdpe1gb":
            chain += [
                f"level-{last.level} entry {last.pte:#x} has PS (bit 7) set, i.e. a 1 GiB page",
                fail,
                "bit 7 at level 3 is reserved unless the guest CPU has pdpe1gb "
                "(CPUID 0x80000001 EDX bit 26)",
                *_lacks_chain(log, ctx, "pdpe1gb"),
            ]
            key = "pdpe1gb"
        elif h.condition == "nxe":
            nxe = state.has("EFER", "NXE") if state is not None else None
            chain += [
                f"level-{last.level} entry {last.pte:#x} has bit 63 (XD/NX) set",
                fail,
                (
                    "EFER.NXE is 0 in the register dump"
                    if nxe is False
                    else "the log has no EFER, but only EFER.NXE=0 makes bit 63 reserved here"
                ),
                "so bit 63 is reserved; EFER.NXE can be set only when the guest CPU has nx "
                "(CPUID 0x80000001 EDX bit 20)",
            ]
            if _has(log, ctx, "nx"):
                notes.append(
                    f"line {w.error.line}: the {entry_name} {last.pte:#x} sets XD while "
                    f"EFER.NXE=0, but {_cpu_label(ctx)} has nx: the guest never enabled NXE "
                    "(a guest bug), not a missing CPU feature"
                )
                continue
            chain += _lacks_chain(log, ctx, "nx")
            key = "nx"
        elif h.condition == "maxphyaddr":
            top = max(paging.bit_list(h.set_bits))
            chain += [
                f"level-{last.level} entry {last.pte:#x} points to physical address "
                f"{paging.address(last.pte, last.level, mode):#x}, which needs {top + 1} "
                f"address bits ({paging.bit_text(h.set_bits)} set)",
                fail,
                f"the guest's MAXPHYADDR is {maxphy} ({maxphy_src}); {h.rule.why}",
                f"the guest uses physical addresses that need phys-bits >= {top + 1}",
            ]
            out.append(
                _Claim(
                    PHYS_BITS,
                    "page-walk",
                    evidence,
                    chain,
                    certain and maxphy_known,
                    fixes=_phys_fixes(ctx, top + 1, log),
                )
            )
            continue
        else:  # amd
            chain += [
                f"non-leaf level-{last.level} entry {last.pte:#x} has bit 8 set",
                fail,
                h.rule.why,
            ]
            notes.append(
                "; ".join(chain) + ": an AMD guest CPU forbids it whatever its "
                "features; fix the guest's page tables or use an Intel model"
            )
            continue
        out.append(
            _Claim(
                key,
                "page-walk",
                evidence,
                chain,
                certain,
                host_lacks_line=_host_warning_line(log, key),
            )
        )
    if len(live) > 1:
        for c in out:
            c.chain.append(
                "other bits of the same entry are reserved under other "
                "conditions too: each is a candidate"
            )
    return out


def _internal_evidence(log: lp.Log) -> list[Evidence]:
    return [Evidence(e.line, e.text) for e in log.of(lp.InternalError)][:1]


def _host_warning_line(log: lp.Log, name: str) -> int | None:
    for e in log.of(lp.FeatureWarning):
        if e.accel == "host" and e.name is not None and e.name.replace("_", "-") == name:
            return e.line
    return None


def _host_dropped(log: lp.Log, ctx: Context, name: str) -> bool:
    return _host_warning_line(log, name) is not None or (
        ctx.host is not None and ctx.host.has(name) is False
    )


def _lacks_chain(log: lp.Log, ctx: Context, name: str) -> list[str]:
    has = _model_has(ctx, name)
    line = _host_warning_line(log, name)
    if has is False:
        return [f"the guest CPU here lacks it ({_cpu_label(ctx)} has no {name})"]
    if has is None:
        why = "the fault shows the guest CPU here lacks it"
        if ctx.cpu is not None and ctx.cpu.is_host:
            why += (
                f" (-cpu {ctx.cpu.arg.model} passes the host's features: the host or KVM lacks it)"
            )
        return [why]
    if line is not None:
        return [
            f"{_cpu_label(ctx)} has {name}, but QEMU dropped it because the host does not "
            f"offer it (line {line}), so the guest CPU here lacks it"
        ]
    if ctx.host is not None and ctx.host.has(name) is False:
        return [
            f"{_cpu_label(ctx)} has {name}, but host {ctx.host.name} lacks it, so under "
            "KVM the guest CPU here lacks it"
        ]
    return [
        f"{_cpu_label(ctx)} has {name}, yet the guest CPU here lacked it: QEMU drops a "
        "feature the host (KVM) does not offer, with only a warning; check the host, or "
        "that the log comes from this configuration"
    ]


# --- CR4 / EFER writes refused with #GP ----------------------------------------------------


def _gp_after(log: lp.Log, idx: int, task: str | None) -> lp.InjectedException | None:
    seen = 0
    for e in log.events[idx + 1 :]:
        if not isinstance(e, lp.Trace) or e.task != task:
            continue
        if isinstance(e, lp.InjectedException):
            return e if e.vector == "#GP" else None
        if isinstance(e, lp.CrAccess | lp.MsrAccess):
            return None
        seen += 1
        if seen > 6:
            return None
    return None


def _gate_claims(
    log: lp.Log,
    ctx: Context,
    gates: list[Gate],
    value: int,
    register: str,
    evidence: list[Evidence],
    what: str,
    notes: list[str],
    line: int,
) -> list[_Claim]:
    table = CR4_BITS if register == "CR4" else EFER_BITS
    if not gates:
        notes.append(
            f"line {line}: {what} raised #GP, but no bit in {value:#x} "
            f"({' '.join(flags(value, table))}) depends on a CPU feature: the cause is "
            "elsewhere (a reserved or inconsistent bit)"
        )
        return []
    candidates: list[tuple[Gate, Feature | None, bool | None]] = []
    for g in gates:
        feats = [f for loc in g.locations if (f := _feature_at(ctx, loc)) is not None]
        has_any = [_has(log, ctx, f.name) for f in feats]
        status = True if any(has_any) else None if None in has_any or not feats else False
        candidates.append((g, feats[0] if feats else None, status))
    missing = [(g, f, s) for g, f, s in candidates if s is not True]
    if not missing:
        present = ", ".join(f"{g.flag} ({f.name})" for g, f, _ in candidates if f)
        hint = (
            " (LA57 cannot change while long mode is active)"
            if any(g.flag == "LA57" for g, _, _ in candidates)
            else ""
        )
        notes.append(
            f"line {line}: {what} raised #GP, but {_cpu_label(ctx)} has the features "
            f"its bits need ({present}): the cause is another rule{hint}"
        )
        return []
    out = []
    for g, f, status in missing:
        label = f.name if f else g.label
        cpuid = _describe(ctx, f) if f else g.cpuid
        chain = [
            f"{what} ({register}={value:#x}: {' '.join(flags(value, table))}) and KVM injected #GP",
            f"{register}.{g.flag} (bit {g.bit}) is reserved unless the guest CPU has {label} "
            f"({cpuid})",
        ]
        if status is False and f is not None:
            chain += _lacks_chain(log, ctx, f.name)
        elif status is False:
            chain.append(f"{_cpu_label(ctx)} lacks {label}")
        else:
            chain.append(f"the guest CPU's {label} is unknown here; the #GP says it is missing")
        if g.flag == "LA57":
            chain.append("(changing LA57 while long mode is active also raises #GP)")
        if f is None:
            chain.append(
                f"QEMU {ctx.release.version} has no name for that bit: a newer QEMU "
                "release is needed"
            )
        certain = len(missing) == 1 and status is False
        out.append(_Claim(label, f"{register.lower()}-write", evidence, chain, certain))
    return out


def _write_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[_Claim]:
    claims: list[_Claim] = []
    last_cr4: dict[str | None, int] = {}
    for idx, e in enumerate(log.events):
        if isinstance(e, lp.CrAccess) and e.write and e.cr == 4:
            gp = _gp_after(log, idx, e.task)
            if gp is None:
                last_cr4[e.task] = e.value
                continue
            new = e.value & ~last_cr4.get(e.task, 0)
            gates = gates_set(new, CR4_GATES)
            ev = [Evidence(e.line, e.text), Evidence(gp.line, gp.text)]
            claims += _gate_claims(
                log, ctx, gates, e.value, "CR4", ev, "the guest wrote CR4", notes, e.line
            )
        elif isinstance(e, lp.MsrAccess) and e.write and e.msr == MSR_EFER:
            gp2 = _gp_after(log, idx, e.task) if not e.gp else None
            if not e.gp and gp2 is None:
                continue
            ev = [Evidence(e.line, e.text)] + ([Evidence(gp2.line, gp2.text)] if gp2 else [])
            gates = [g for g in gates_set(e.value, EFER_GATES) if g.flag != "LMA"]
            claims += _gate_claims(
                log,
                ctx,
                gates,
                e.value,
                "EFER",
                ev,
                "the guest wrote EFER (MSR 0xc0000080)",
                notes,
                e.line,
            )
    return claims


def _la57_claims(log: lp.Log, ctx: Context) -> list[_Claim]:
    """5-level paging in use (CR4.LA57 in a dump, or a walk from level 5) on a CPU without la57."""
    if _has(log, ctx, "la57") is not False:
        return []
    ev: list[Evidence] = []
    chain: list[str] = []
    for d in log.of(lp.RegisterDump):
        st = guest_state(d.regs)
        if st.has("CR4", "LA57"):
            ev += _dump_evidence(d)
            chain.append(
                f"the register dump (line {d.line}) has CR4.LA57=1: the guest runs 5-level paging"
            )
            break
    five = [e for e in log.of(lp.PagingElement) if e.level == 5][:1]
    if five:
        ev += [Evidence(five[0].line, five[0].text)]
        chain.append(
            f"the guest page walk reads a level-5 entry (line {five[0].line}): 5-level paging"
        )
    if not chain:
        return []
    chain += [
        "5-level paging needs CR4.LA57, which is reserved unless the guest CPU has la57 "
        "(CPUID.(EAX=7,ECX=0):ECX bit 16)",
        *_lacks_chain(log, ctx, "la57"),
        "a guest that uses 5-level paging cannot run there (KVM refuses CR4.LA57 with #GP): "
        "this log comes from a vCPU that had la57",
    ]
    return [_Claim("la57", "paging-mode", ev, chain, certain=False)]


# --- QEMU and libvirt messages -----------------------------------------------------------


def _warning_feature(ctx: Context, w: lp.FeatureWarning) -> Feature | None:
    if w.name:
        try:
            return ctx.names.lookup(w.name)
        except NotFound:
            pass
    if w.msr is not None:
        return _feature_at(ctx, f"msr.{w.msr:#x}.{w.bit}")
    if w.leaf is None or w.register is None:
        return None
    if w.subleaf is not None:
        return _feature_at(ctx, f"cpuid.{w.leaf:#x}.{w.subleaf}.{w.register}.{w.bit}")
    hits = [
        f
        for f in ctx.release.features
        if (wd := ctx.release.word(f.word)) is not None
        and wd.type == "cpuid"
        and wd.leaf == w.leaf
        and wd.register == w.register
        and f.bit == w.bit
    ]
    return hits[0] if len(hits) == 1 else None


def _warning_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[_Claim]:
    claims: list[_Claim] = []
    refused = log.of(lp.FeaturesRefused)
    for w in log.of(lp.FeatureWarning):
        f = _warning_feature(ctx, w)
        if f is None:
            notes.append(
                f"line {w.line}: QEMU names a feature ({w.name or 'unnamed'}, bit "
                f"{w.bit}) that QEMU {ctx.release.version} does not know: pass --qemu "
                "with the release that printed it"
            )
            continue
        cpuid = _describe(ctx, f)
        ev = [Evidence(w.line, w.text)]
        end = (
            "QEMU then refused to start (enforce)"
            if refused
            else "QEMU removed it from the guest CPU and started anyway"
        )
        if refused:
            ev.append(Evidence(refused[0].line, refused[0].text))
        if w.accel == "host":
            chain = [f"QEMU asked KVM for {f.name} ({cpuid}) and the host does not offer it", end]
            claims.append(_Claim(f.name, "qemu-host", ev, chain, True, host_lacks_line=w.line))
        elif w.accel == "TCG":
            chain = [
                f"QEMU's TCG accelerator does not emulate {f.name} ({cpuid}) in this build",
                end,
                "under KVM the guest can have it when the host has it",
            ]
            claims.append(_Claim(f.name, "qemu-tcg", ev, chain, True))
        else:
            have = ctx.cpu.features if ctx.cpu and ctx.cpu.features is not None else frozenset()
            reqs = missing_requirements(f.name, have, ctx.release.dependencies)
            need = " and ".join(" or ".join(r) for r in reqs) or "another feature"
            chain = [
                f"{f.name} ({cpuid}) was requested but depends on {need}, which the guest "
                "CPU does not have",
                end,
            ]
            fixes = []
            if reqs and ctx.cpu is not None and ctx.cpu.name is not None:
                arg = ctx.cpu.arg
                for r in reqs:
                    arg = parse_cpu_arg(arg.with_flag(r[0]))
                fixes.append("-cpu " + arg.with_flag(f.name))
            claims.append(_Claim(f.name, "qemu-dependency", ev, chain, True, fixes=fixes))
    return claims


def _libvirt_feature(ctx: Context, name: str, line: int, notes: list[str]) -> Feature | None:
    try:
        return ctx.names.lookup(name)
    except NotFound as e:
        notes.append(f"line {line}: libvirt feature {name!r}: {e}")
        return None


def _libvirt_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[_Claim]:
    claims: list[_Claim] = []
    for m in log.of(lp.LibvirtMismatch):
        for name in m.missing:
            f = _libvirt_feature(ctx, name, m.line, notes)
            if f is None:
                continue
            chain = [
                f"libvirt compared the CPU QEMU created with the domain XML: {f.name} "
                f"({_describe(ctx, f)}) is missing",
                "QEMU leaves out a requested feature that the host (KVM) does not offer, so "
                "this host most likely lacks it (after a migration: the destination host)",
            ]
            claims.append(
                _Claim(
                    f.name,
                    "libvirt-missing",
                    [Evidence(m.line, m.text)],
                    chain,
                    False,
                    host_lacks_line=m.line,
                )
            )
        if m.extra:
            notes.append(
                f"line {m.line}: libvirt found extra features ({', '.join(m.extra)}) "
                "that the domain XML does not list: not a missing feature"
            )
        if not m.missing and not m.extra:
            notes.append(
                f"line {m.line}: libvirt says the guest CPU does not match the "
                "specification without naming features: look for QEMU's warnings in "
                "the domain log (/var/log/libvirt/qemu/DOMAIN.log)"
            )
    for inc in log.of(lp.LibvirtIncompatible):
        if not inc.features:
            notes.append(
                f"line {inc.line}: libvirt says the CPU is incompatible with the host "
                "without naming features"
            )
        for name in inc.features:
            f = _libvirt_feature(ctx, name, inc.line, notes)
            if f is None:
                continue
            chain = [
                f"libvirt compared the domain's CPU with the host CPU: the host does not "
                f"provide {f.name} ({_describe(ctx, f)})",
                "so libvirt refused to start it",
            ]
            claims.append(
                _Claim(
                    f.name,
                    "libvirt-host",
                    [Evidence(inc.line, inc.text)],
                    chain,
                    True,
                    host_lacks_line=inc.line,
                )
            )
    return claims


def _host_bits(log: lp.Log, ctx: Context) -> int | None:
    if ctx.host is not None and ctx.host.phys_bits:
        return ctx.host.phys_bits
    mism = log.of(lp.PhysBitsMismatch)
    return mism[-1].host_bits if mism else None


def _phys_fixes(ctx: Context, needed: int, log: lp.Log) -> list[str]:
    model = ctx.cpu.arg if ctx.cpu is not None and ctx.cpu.name is not None else None

    def form(prop: str, value: str) -> str:
        if model is None:
            return f"-cpu <your model>,{prop}={value}"
        return "-cpu " + model.with_flag(prop, value)

    host = _host_bits(log, ctx)
    out = []
    if host is None or host >= needed:
        out.append(form("phys-bits", str(max(needed, 32))))
        out.append(form("host-phys-bits", "on"))
    return out


def _phys_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[_Claim]:
    claims: list[_Claim] = []
    host = _host_bits(log, ctx)
    for a in log.of(lp.AddressSpaceLimit):
        needed = a.needed.bit_length()
        chain = [
            f"QEMU refused to start: the guest's highest physical address {a.needed:#x} "
            f"needs {needed} bits, but phys-bits is {a.phys_bits} (limit {a.limit:#x})",
            "the RAM size, maxmem, hot-plug slots and the 64-bit PCI hole all have to fit "
            "below 2^phys-bits",
        ]
        if host is not None and host < needed:
            chain.append(
                f"the host has only {host} physical-address bits: reduce -m/maxmem or "
                "the PCI hole instead"
            )
        claims.append(
            _Claim(
                PHYS_BITS,
                "address-space",
                [Evidence(a.line, a.text)],
                chain,
                True,
                fixes=_phys_fixes(ctx, needed, log),
            )
        )
    for m in log.of(lp.PhysBitsMismatch):
        if m.guest_bits > m.host_bits:
            chain = [
                f"QEMU tells the guest it has {m.guest_bits} physical-address bits while "
                f"the host has {m.host_bits}",
                f"guest-physical addresses at or above 2^{m.host_bits} cannot be mapped by "
                "the host's EPT/NPT: a guest that uses them (large RAM, 64-bit PCI BARs "
                "placed high by the firmware) sees EPT misconfigurations, emulation failures "
                "or lost writes",
            ]
            model = ctx.cpu.arg if ctx.cpu is not None and ctx.cpu.name is not None else None
            base = "-cpu " + (
                model.with_flag("host-phys-bits", "on")
                if model
                else "<your model>,host-phys-bits=on"
            )
            alt = "-cpu " + (
                model.with_flag("phys-bits", str(m.host_bits))
                if model
                else f"<your model>,phys-bits={m.host_bits}"
            )
            claims.append(
                _Claim(
                    HOST_PHYS_BITS,
                    "phys-bits-mismatch",
                    [Evidence(m.line, m.text)],
                    chain,
                    True,
                    fixes=[base, alt],
                )
            )
        else:
            notes.append(
                f"line {m.line}: the guest has fewer physical-address bits "
                f"({m.guest_bits}) than the host ({m.host_bits}): harmless unless the "
                "guest needs memory above that limit"
            )
    return claims


# --- what the log does not show -----------------------------------------------------------


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
    state, dump = _state_near(log, err.line)
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


# --- putting it together ----------------------------------------------------------------


def _recognised(log: lp.Log) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in log.events:
        key = {
            lp.InternalError: "kvm internal error",
            lp.EntryFailed: "kvm entry failure",
            lp.RegisterDump: "register dump",
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
    return out


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
    if kinds & NEEDS:
        fixes = [*own, *models, *flag]
    elif "qemu-dependency" in kinds:
        fixes = [*own, *models]
    elif "qemu-tcg" in kinds:
        fixes = [*(f"-accel kvm {m}" for m in models), *(f"-accel kvm {x}" for x in flag)]
        advice.append(
            f"TCG cannot give the guest {name}: use KVM on a host that has it, or "
            f"accept running without it ({off} silences the warning)"
        )
    else:
        fixes = [*own, *models, *flag]
    if kinds & HOST_LACKS or (ctx.host is not None and ctx.host.has(name) is False):
        advice.append(
            f"on this host the guest cannot have {name} under KVM: the fixes above "
            f"need a host that has it; {off} stops the warning if the guest can do "
            "without it, and enforce makes QEMU refuse to start instead of dropping "
            "it silently"
        )
    return list(dict.fromkeys(fixes)), advice


def _finish(claims: list[_Claim], ctx: Context, log: lp.Log) -> list[Finding]:
    merged: dict[str, list[_Claim]] = {}
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
            host_bits = _host_bits(log, ctx)
            host = (
                f"the host has {host_bits} physical-address bits: phys-bits must not exceed it"
                if host_bits
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
                )
            )
            continue
        f = ctx.release.feature(key)
        location = f.location if f else None
        cpuid = _describe(ctx, f) if f else None
        provides: list[str] = []
        fixes_: list[str] = []
        advice: list[str] = []
        if f is not None:
            vendor = ctx.cpu.vendor if ctx.cpu else None
            current = ctx.cpu.configured if ctx.cpu else None
            provides = fx.providers(
                ctx.release,
                f.name,
                vendor=vendor,
                current=current,
                host=ctx.host,
                newness=ctx.newness,
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
            )
        )

    def order(fd: Finding) -> tuple:
        return (
            min(KIND_ORDER.index(k) for k in fd.kinds),
            fd.evidence[0].line if fd.evidence else 0,
        )

    return sorted(out, key=order)


def diagnose(log: lp.Log, ctx: Context) -> Diagnosis:
    notes: list[str] = list(ctx.notes)
    walk_claims = _walk_claims(log, ctx, notes)
    claims = [
        *walk_claims,
        *_write_claims(log, ctx, notes),
        *_la57_claims(log, ctx),
        *_phys_claims(log, ctx, notes),
        *_libvirt_claims(log, ctx, notes),
        *_warning_claims(log, ctx, notes),
    ]
    _unexplained_notes(log, bool(walk_claims), notes)
    if not log.events:
        notes.append(
            "nothing recognised: expected QEMU's `KVM internal error` and register "
            "dump, `trace-cmd report` lines of the kvm/kvmmmu events, QEMU's "
            "`doesn't support requested feature` warnings or libvirt's CPU errors"
        )
    state: tuple[str, ...] = ()
    dumps = log.of(lp.RegisterDump)
    if dumps:
        state = tuple(guest_state(dumps[0].regs).describe())
    return Diagnosis(
        log.source,
        ctx.release.version,
        tuple(_finish(claims, ctx, log)),
        tuple(dict.fromkeys(notes)),
        _recognised(log),
        state,
        ctx.cpu,
        ctx.machine,
        ctx.accel,
    )
