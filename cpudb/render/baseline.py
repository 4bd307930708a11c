"""`cpudb baseline` as text and JSON, and one pool's CPU in a config format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpudb.baseline import Baseline
    from cpudb.libvirt_model import LibvirtNames


def config_of(
    fmt: str,
    b: Baseline,
    names: LibvirtNames | None,
    deprecated: tuple[str, ...] = (),
    traits: dict[str, Any] | None = None,
) -> str:
    """One pool's CPU in a config format: its best name plus the extra flags."""
    from cpudb.libvirt_model import Answer
    from cpudb.render.configs import config

    if fmt == "qemu":
        return f"-cpu {b.cpu(enforce=True)}\n"
    assert names is not None and b.best is not None  # libvirt's formats read names
    answer = Answer(
        b.best,
        tuple(b.needs),
        extras=tuple(a.name for a in b.extras),
        deprecated=deprecated,
    )
    return config(fmt, answer, names, traits or {})


def to_json(b: Baseline) -> dict[str, Any]:
    from cpudb.render.advice import candidate_json, need_json

    nxt = b.next_better
    return {
        "qemu": b.qemu,
        "hosts": list(b.hosts),
        "needs": [need_json(n, None) for n in b.needs],
        "model": b.best.name if b.best else None,
        "adds": [a.name for a in b.best.adds] if b.best else [],
        "extras": [a.name for a in b.extras],
        "cpu": b.cpu(),
        "qemu_args": f"-cpu {b.cpu(enforce=True)}" if b.best else None,
        "skipped": [{"flag": f, "why": w} for f, w in b.skipped],
        "next_better": None
        if nxt is None
        else {
            "model": nxt.name,
            "model_family": nxt.model,
            "blockers": [{"host": h, "missing": list(m)} for h, m in nxt.blockers],
        },
        "candidate": candidate_json(b.best) if b.best else None,
        "impossible": list(b.advice.impossible),
        "notes": list(b.notes),
    }


def text(b: Baseline) -> str:
    n = len(b.hosts)
    out = [f"QEMU {b.qemu}, KVM, pool of {n} host{'s' * (n != 1)}: {', '.join(b.hosts)}"]
    if b.needs:
        out.append(f"needs: {', '.join(n.name for n in b.needs)}")
    out.append("")
    if b.best is None:
        out.append("No CPU name runs on every host:")
        out += [f"  - {s}" for s in b.advice.impossible]
        return "\n".join(out) + "\n"
    out.append(f"Baseline:  -cpu {b.cpu(enforce=True)}")
    out.append(f"  {b.best.name}: {'; '.join(b.best.reasons)}")
    for note in b.best.notes:
        out.append(f"  note: {note}")
    if b.extras:
        out.append(
            f"  extra flags every host has ({len(b.extras)}): "
            + ", ".join(a.name for a in b.extras)
        )
    if b.skipped:
        out.append("  shared by every host but not added:")
        out += [f"    {f}: {why}" for f, why in b.skipped]
    out.append("")
    nxt = b.next_better
    if nxt is None:
        out.append("Next better model: none (no newer model of the hosts' vendor in this QEMU)")
    else:
        out.append(f"Next better model: {nxt.name} ({nxt.model})")
        if not nxt.blockers:
            out.append("  no host blocks it (it ranked lower: see `cpudb advise --host ...`)")
        for h, missing in nxt.blockers:
            out.append(f"  {h} lacks {len(missing)}: {', '.join(missing)}")
    out.append("")
    out.append("Notes:")
    out += [f"  - {n}" for n in b.notes]
    return "\n".join(out) + "\n"
