"""CR4 and EFER writes that KVM refused with #GP: the bits that need a CPUID feature the
guest CPU lacks (KVM's `__cr4_reserved_bits()` / `__kvm_valid_efer()`). Pure."""

from __future__ import annotations

from itertools import islice

import cpudb.diagnose.events as lp
from cpudb.diagnose.findings import (
    Claim,
    Context,
    Evidence,
    cpu_label,
    describe,
    feature_at,
    has,
    lacks_chain,
)
from cpudb.diagnose.registers import (
    CR4_BITS,
    CR4_GATES,
    EFER_BITS,
    EFER_GATES,
    MSR_EFER,
    Gate,
    flags,
    gates_set,
)
from cpudb.errors import NotFound
from cpudb.model import Feature


def _gp_after(log: lp.Log, idx: int, task: str | None) -> lp.InjectedException | None:
    """The #GP KVM injected right after event `idx` on the same vCPU thread, if any."""
    seen = 0
    for e in islice(log.events, idx + 1, idx + 65):  # other vCPUs' lines may interleave
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
) -> list[Claim]:
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
        feats = [f for loc in g.locations if (f := feature_at(ctx, loc)) is not None]
        has_any = [has(log, ctx, f.name) for f in feats]
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
            f"line {line}: {what} raised #GP, but {cpu_label(ctx)} has the features "
            f"its bits need ({present}): the cause is another rule{hint}"
        )
        return []
    out = []
    for g, f, status in missing:
        label = f.name if f else g.label
        cpuid = describe(ctx, f) if f else g.cpuid
        chain = [
            f"{what} ({register}={value:#x}: {' '.join(flags(value, table))}) and KVM injected #GP",
            f"{register}.{g.flag} (bit {g.bit}) is reserved unless the guest CPU has {label} "
            f"({cpuid})",
        ]
        if status is False and f is not None:
            chain += lacks_chain(log, ctx, f.name)
        elif status is False:
            chain.append(f"{cpu_label(ctx)} lacks {label}")
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
        out.append(Claim(label, f"{register.lower()}-write", evidence, chain, certain))
    return out


def _mov_to_cr4(insn: tuple[int, ...]) -> bool:
    """`mov cr4, r32/r64` (0f 22 /4, after any REX prefix)."""
    i = 1 if insn and 0x40 <= insn[0] <= 0x4F else 0
    return len(insn) > i + 2 and insn[i : i + 2] == (0x0F, 0x22) and insn[i + 2] >> 3 & 7 == 4


def asked_on(ctx: Context) -> frozenset[str]:
    """Features the -cpu argument turns on by name (`la57=on`, `+la57`)."""
    if ctx.cpu is None:
        return frozenset()
    out = set()
    for k, v in ctx.cpu.arg.props:
        if v in ("on", "true", "yes"):
            try:
                out.add(ctx.names.lookup(k).name)
            except NotFound:
                continue
    return frozenset(out)


def emulated_cr4_claims(log: lp.Log, ctx: Context) -> list[Claim]:
    """A `mov cr4` KVM emulated (its trace shows the bytes, not the value) and then #GP:
    before long mode the only CPUID-gated CR4 bit a kernel sets is LA57; in long mode,
    any gated bit the guest may lack."""
    out: list[Claim] = []
    asked = asked_on(ctx)
    for idx, e in enumerate(log.events):
        if not isinstance(e, lp.EmulateInsn) or not _mov_to_cr4(e.insn):
            continue
        gp = _gp_after(log, idx, e.task)
        if gp is None:
            continue
        long_mode = (e.mode or "").endswith("64")
        ev = [Evidence(e.line, e.text), Evidence(gp.line, gp.text)]
        for g in CR4_GATES:
            if (g.flag == "LA57") == long_mode:
                continue  # LA57 is set before long mode; the others after it
            f = feature_at(ctx, g.locations[0])
            if f is None:
                continue
            status = has(log, ctx, f.name)
            if status is True and f.name not in asked:
                continue
            mode = "64-bit" if long_mode else "32-bit (before long mode)"
            chain = [
                f"KVM emulated a `mov cr4` in {mode} code (bytes "
                f"{' '.join(f'{b:02x}' for b in e.insn)}) and injected #GP; an emulated "
                "write leaves the value out of the trace",
                f"CR4.{g.flag} (bit {g.bit}) is reserved unless the guest CPU has {f.name} "
                f"({describe(ctx, f)})",
            ]
            if not long_mode:
                chain.append(
                    "before long mode a 64-bit kernel sets PAE, PSE, PGE and, for 5-level "
                    "paging, LA57: of those only LA57 depends on a CPUID feature"
                )
            if status is True:
                chain.append(
                    f"{cpu_label(ctx)} asks for {f.name} and QEMU did not warn, yet the vCPU "
                    f"refused the bit: this host's KVM does not give the guest {f.name}"
                )
            elif status is False:
                chain += lacks_chain(log, ctx, f.name)
            out.append(Claim(f.name, "cr4-write", ev, chain, certain=False))
    return out


def write_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[Claim]:
    claims: list[Claim] = emulated_cr4_claims(log, ctx)
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
