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

from collections.abc import Sequence

import cpudb.diagnose.fixes as fx
import cpudb.diagnose.logparse as lp
from cpudb.decide.rank import CatalogOffer
from cpudb.diagnose.context import build_context
from cpudb.diagnose.findings import (
    HOST_PHYS_BITS,
    PHYS_BITS,
    Claim,
    Context,
    Diagnosis,
    Evidence,
    Finding,
    describe,
)
from cpudb.diagnose.fixes import HostView
from cpudb.diagnose.messages import host_bits, libvirt_claims, phys_claims, warning_claims
from cpudb.diagnose.registers import guest_state
from cpudb.diagnose.unexplained import cannot_tell, recognised, unexplained_notes
from cpudb.diagnose.walks import la57_claims, walk_claims
from cpudb.diagnose.writes import write_claims
from cpudb.model import Release
from cpudb.names import extra_names

__all__ = ["Context", "Diagnosis", "Evidence", "Finding", "diagnose", "diagnose_text"]


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

    def order(fd: Finding) -> tuple[bool, int, int]:
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
    unexplained_notes(log, bool(from_walks), notes)
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
        recognised(log),
        state,
        ctx.cpu,
        ctx.machine,
        ctx.accel,
    )


def diagnose_text(
    text: str,
    release: Release,
    *,
    source: str = "<log>",
    cpu_arg: str | None = None,
    host: HostView | None = None,
    catalogue: Sequence[CatalogOffer] | None = None,
    linux_deps: Sequence[tuple[str, str]] = (),
    notes: tuple[str, ...] = (),
) -> Diagnosis:
    """Parse a log and reason about it against one release."""
    log = lp.parse(text, source)
    ctx = build_context(
        log,
        release,
        cpu_arg=cpu_arg,
        host=host,
        catalogue=catalogue,
        linux_deps=linux_deps,
        notes=notes,
    )
    return diagnose(log, ctx)
