"""A diagnosis as JSON (for scripts) or as readable text (for people)."""

from __future__ import annotations

from typing import Any

from cpudb.diagnose.reason import Diagnosis, Finding


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "feature": f.feature,
        "location": f.location,
        "cpuid": f.cpuid,
        "role": f.role,
        "kinds": list(f.kinds),
        "certainty": f.certainty,
        "evidence": [e.text for e in f.evidence],
        "evidence_lines": [e.line for e in f.evidence],
        "chain": list(f.chain),
        "explanation": f.explanation,
        "provides": list(f.provides),
        "fixes": list(f.fixes),
        "advice": list(f.advice),
        "libvirt": list(f.libvirt),
        "host": f.host,
        "host_has": f.host_has,
    }


def to_json(d: Diagnosis) -> dict[str, Any]:
    cpu = None
    if d.cpu is not None:
        cpu = {
            "arg": d.cpu.arg.text,
            "name": d.cpu.name,
            "source": d.cpu.source,
            "vendor": d.cpu.vendor,
        }
    return {
        "source": d.source,
        "qemu": d.release,
        "cpu": cpu,
        "machine": d.machine,
        "accel": d.accel,
        "recognised": d.recognised,
        "registers": list(d.state),
        "findings": [finding_json(f) for f in d.findings],
        "notes": list(d.notes),
    }


def _clip(text: str, width: int = 150) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def to_text(d: Diagnosis) -> str:
    out: list[str] = []
    head = f"{d.source}: QEMU {d.release}"
    if d.cpu is not None:
        head += f", -cpu {d.cpu.arg.text} (from {d.cpu.source})"
    if d.accel:
        head += f", accel {d.accel}"
    if d.machine:
        head += f", machine {d.machine}"
    out.append(head)
    seen = ", ".join(f"{n} {k}" for k, n in d.recognised.items()) or "nothing"
    out.append(f"recognised: {seen}")
    if d.state:
        out.append("guest state: " + "; ".join(d.state))
    causes = [f for f in d.findings if f.role == "cause"]
    dropped = [f for f in d.findings if f.role != "cause"]
    if not causes:
        out.append("")
        out.append("no cause: the log does not show a failure made by a missing CPU feature.")
    for i, f in enumerate(causes, 1):
        out.append("")
        where = f" — {f.cpuid}" if f.cpuid else ""
        out.append(f"cause {i}: {f.feature}{where} ({f.certainty}; {', '.join(f.kinds)})")
        out.append("  evidence:")
        out += [f"    {e.line:>5}: {_clip(e.text)}" for e in f.evidence]
        out.append("  why:")
        out += [f"    - {s}" for s in f.chain]
        if f.provides:
            out.append(f"  CPU names with {f.feature}: {', '.join(f.provides)}")
        if f.fixes:
            out.append("  fix:")
            out += [f"    {x}" for x in f.fixes]
        out += [f"  note: {a}" for a in f.advice]
        if f.libvirt:
            out.append("  libvirt: " + "  |  ".join(f.libvirt))
        if f.host:
            out.append(f"  host: {f.host}")
    if dropped:
        lines = sorted({e.line for f in dropped for e in f.evidence})
        span = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"
        names = ", ".join(f.feature for f in dropped)
        asked = {k for k, v in d.cpu.arg.props if v == "on"} if d.cpu is not None else set()
        suspects = [f.feature for f in dropped if f.feature in asked]
        out.append("")
        out.append(f"dropped by QEMU ({span}), not shown to matter: {names}")
        out.append(
            "  nothing in the log shows the guest used them; if it needs one, the fixes "
            "are in --json (findings[].fixes), or run `cpudb advise --needs NAME`"
        )
        if suspects:
            out.append(
                f"  asked for by name on the command line and dropped: {', '.join(suspects)}: "
                "the first suspects if the guest failed"
            )
    if d.notes:
        out.append("")
        out.append("notes:")
        out += [f"  - {n}" for n in d.notes]
    return "\n".join(out) + "\n"
