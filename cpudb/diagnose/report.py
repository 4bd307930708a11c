"""A diagnosis as JSON (for scripts) or as readable text (for people)."""

from __future__ import annotations

from typing import Any

from cpudb.diagnose.reason import Diagnosis, Finding


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "feature": f.feature,
        "location": f.location,
        "cpuid": f.cpuid,
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
    if not d.findings:
        out.append("")
        out.append("no finding: the log does not show a missing CPU feature.")
    for i, f in enumerate(d.findings, 1):
        out.append("")
        where = f" — {f.cpuid}" if f.cpuid else ""
        out.append(f"finding {i}: {f.feature}{where} ({f.certainty}; {', '.join(f.kinds)})")
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
    if d.notes:
        out.append("")
        out.append("notes:")
        out += [f"  - {n}" for n in d.notes]
    return "\n".join(out) + "\n"
