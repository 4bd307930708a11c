"""`cpudb pools` as text and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpudb.baseline import Baseline
    from cpudb.pools import Pools


def to_json(p: Pools) -> dict[str, Any]:
    return {
        "qemu": p.qemu,
        "distinct_cpus": p.distinct,
        "pools": [
            {
                "vendor": x.vendor,
                "hosts": list(x.hosts),
                "weight": x.weight,
                "model": x.model,
                "cpu": x.baseline.cpu(),
                "qemu_args": f"-cpu {x.baseline.cpu(enforce=True)}" if x.model else None,
                "features": len(x.features),
                "without": [
                    {
                        "left_out": list(w.left_out),
                        "weight": w.weight,
                        "cpu": w.cpu,
                        "gains": list(w.gains),
                    }  # fmt: skip
                    for w in x.without
                ],
            }
            for x in p.pools
        ],
        "together": [{"vendor": v, "cpu": b.cpu(), "features": _n(b)} for v, b in p.together],
        "notes": list(p.notes),
    }


def _n(b: Baseline) -> int:
    from cpudb.pools import guest_features

    return len(guest_features(b))


def text(p: Pools) -> str:
    n = sum(x.weight for x in p.pools)
    out = [
        f"QEMU {p.qemu}, KVM: {len(p.pools)} pool{'s' * (len(p.pools) != 1)} for {n} "
        f"host{'s' * (n != 1)} ({p.distinct} distinct CPU{'s' * (p.distinct != 1)})",
        "",
    ]
    for i, x in enumerate(p.pools, 1):
        hosts = ", ".join(x.hosts[:8]) + (f", ... ({len(x.hosts)})" if len(x.hosts) > 8 else "")
        out.append(f"Pool {i}: {x.vendor.strip()}, {x.weight} host{'s' * (x.weight != 1)}: {hosts}")
        best = x.baseline.best
        if x.model is None or best is None:
            out.append("  no CPU name runs on every member:")
            out += [f"    - {s}" for s in x.baseline.advice.impossible]
        else:
            out.append(f"  -cpu {x.baseline.cpu(enforce=True)}")
            out.append(f"  {len(x.features)} guest features; {'; '.join(best.reasons)}")
        for w in x.without:
            left = ", ".join(w.left_out[:4]) + (", ..." if len(w.left_out) > 4 else "")
            out.append(
                f"  without {left} ({w.weight} host{'s' * (w.weight != 1)}): +{len(w.gains)} "
                f"({', '.join(w.gains[:8])}{', ...' if len(w.gains) > 8 else ''}): -cpu {w.cpu}"
            )
        out.append("")
    split = {x.vendor for x in p.pools if sum(y.vendor == x.vendor for y in p.pools) > 1}
    for v, b in p.together:
        if v in split:
            out.append(
                f"All {v.strip()} hosts in one pool: -cpu {b.cpu(enforce=True)} ({_n(b)} features)"
            )
    if p.notes:
        out += ([] if out[-1] == "" else [""]) + ["Notes:"] + [f"  - {s}" for s in p.notes]
    return "\n".join(out).rstrip("\n") + "\n"
