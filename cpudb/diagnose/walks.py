"""Guest page walks traced by kvmmmu: which reserved bit failed the walk, and which CPU
feature (pdpe1gb, nx, la57) or phys-bits setting would have made it legal. Pure."""

from __future__ import annotations

import cpudb.diagnose.events as lp
import cpudb.diagnose.paging as paging
from cpudb.diagnose.findings import (
    PHYS_BITS,
    RSVD,
    Claim,
    Context,
    Evidence,
    cpu_label,
    dump_evidence,
    has,
    host_warning_line,
    internal_evidence,
    lacks_chain,
    pferr_text,
    state_near,
)
from cpudb.diagnose.messages import phys_fixes
from cpudb.diagnose.registers import guest_state


class _Walk:
    """One guest page walk as its tracepoints arrive: grown while grouping, then read."""

    __slots__ = ("start", "elements", "error")

    def __init__(self, start: lp.WalkStart | None) -> None:
        self.start = start
        self.elements: list[lp.PagingElement] = []
        self.error: lp.WalkerError | None = None


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


def walk_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[Claim]:
    claims: list[Claim] = []
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


def _rsvd_claims(log: lp.Log, ctx: Context, w: _Walk, notes: list[str]) -> list[Claim]:
    assert w.error is not None
    last = w.elements[-1]
    state, dump = state_near(log, w.error.line)
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
    evidence = [*internal_evidence(log), *dump_evidence(dump)]
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
    # several bits that are reserved under different conditions: each claim says so
    others = (
        [
            "other bits of the same entry are reserved under other "
            "conditions too: each is a candidate"
        ]
        if len(live) > 1
        else []
    )
    out: list[Claim] = []
    for h in live:
        chain = [*head]
        if h.condition == "pdpe1gb":
            chain += [
                f"level-{last.level} entry {last.pte:#x} has PS (bit 7) set, i.e. a 1 GiB page",
                fail,
                "bit 7 at level 3 is reserved unless the guest CPU has pdpe1gb "
                "(CPUID 0x80000001 EDX bit 26)",
                *lacks_chain(log, ctx, "pdpe1gb"),
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
            if has(log, ctx, "nx"):
                notes.append(
                    f"line {w.error.line}: the {entry_name} {last.pte:#x} sets XD while "
                    f"EFER.NXE=0, but {cpu_label(ctx)} has nx: the guest never enabled NXE "
                    "(a guest bug), not a missing CPU feature"
                )
                continue
            chain += lacks_chain(log, ctx, "nx")
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
                Claim(
                    PHYS_BITS,
                    "page-walk",
                    evidence,
                    chain + others,
                    certain and maxphy_known,
                    fixes=phys_fixes(ctx, top + 1, log),
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
            Claim(
                key,
                "page-walk",
                evidence,
                chain + others,
                certain,
                host_lacks_line=host_warning_line(log, key),
            )
        )
    return out


def la57_claims(log: lp.Log, ctx: Context) -> list[Claim]:
    """5-level paging in use (CR4.LA57 in a dump, or a walk from level 5) on a CPU without la57."""
    if has(log, ctx, "la57") is not False:
        return []
    ev: list[Evidence] = []
    chain: list[str] = []
    for d in log.of(lp.RegisterDump):
        st = guest_state(d.regs)
        if st.has("CR4", "LA57"):
            ev += dump_evidence(d)
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
        *lacks_chain(log, ctx, "la57"),
        "a guest that uses 5-level paging cannot run there (KVM refuses CR4.LA57 with #GP): "
        "this log comes from a vCPU that had la57",
    ]
    return [Claim("la57", "paging-mode", ev, chain, certain=False)]
