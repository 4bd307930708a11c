"""One CPU name (`cpudb show`): text and JSON."""

from __future__ import annotations

from cpudb.render import wrap

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.describe import CpuView


def show_json(v: CpuView) -> dict[str, Any]:
    c = v.cpu
    return {
        "name": c.name,
        "qemu": v.release,
        "kind": c.kind,
        "alias_of": c.alias_of,
        "aliases": list(v.aliases),
        "model": c.model,
        "version": c.version,
        "vendor": c.vendor,
        "family": c.family,
        "model_number": c.model_number,
        "stepping": c.stepping,
        "model_id": c.model_id,
        "note": c.note,
        "deprecation_note": c.deprecation_note,
        "cache_info": c.cache_info,
        "accel": v.accel,
        "level": v.level,
        "previous": v.previous,
        "added": list(v.added),
        "removed": list(v.removed),
        "features": sorted(v.features),
        "groups": [
            {
                "word": g.word.name,
                "title": g.title,
                "features": [
                    {
                        "name": r.name,
                        "bit": r.bit,
                        "location": r.location,
                        "linux_name": r.linux_name,
                    }
                    for r in g.features
                ],
            }
            for g in v.groups
        ],
    }


def show_text(v: CpuView) -> str:
    c = v.cpu
    head = f"{c.name} (QEMU {v.release}"
    out = [head + (f", {v.accel} defaults)" if v.accel else ")")]
    if c.alias_of:
        kind = "bare name: its meaning depends on the machine type" if c.kind == "bare" else "alias"
        out.append(f"  = {c.alias_of} ({kind})")
    if v.aliases:
        out.append(f"  also known as: {', '.join(v.aliases)}")
    out.append(
        f"  vendor {c.vendor}, family {c.family} model {c.model_number} stepping {c.stepping}"
    )
    out.append(f"  model-id: {c.model_id!r}")
    out.append(f"  x86-64 level: v{v.level}" if v.level else "  x86-64 level: below v1")
    if c.note:
        out.append(f"  version note: {c.note}")
    if c.deprecation_note:
        out.append(f"  DEPRECATED: {c.deprecation_note}")
    if v.previous:
        changes = [f"+{a}" for a in v.added] + [f"-{r}" for r in v.removed]
        out.append(f"  vs {v.previous}: {' '.join(changes) if changes else 'no feature change'}")
    out.append(f"  {len(v.features)} features:")
    for g in v.groups:
        body = wrap((f"{r.name}[{r.bit}]" for r in g.features), indent=" " * 27, width=92)
        out.append(f"    {g.title:<22} {body.lstrip()}")
    return "\n".join(out) + "\n"
