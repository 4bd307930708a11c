"""One feature (`cpudb feature`): where it lives, its names, the CPU names with it."""

from __future__ import annotations

from cpudb.render import wrap

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.app.lookup import FeatureResult


def feature_json(r: FeatureResult) -> dict[str, Any]:
    v, w = r.view, r.view.word
    where: dict[str, Any]
    if w.type == "msr":
        where = {"msr": {"index": f"{w.msr:#x}", "bit": v.feature.bit}}
    else:
        where = {
            "cpuid": {
                "leaf": f"{w.leaf:#x}",
                "subleaf": w.subleaf,
                "register": w.register,
                "bit": v.feature.bit,
            }
        }
    return {
        "name": v.name,
        "qemu": v.release,
        "location": v.feature.location,
        "aliases": list(v.aliases),
        "linux_name": v.linux_name,
        "description": v.description,
        **where,
        "word": w.name,
        "first_known": v.first_known,
        "spellings": [{"since": rel, "name": n} for rel, n in v.spellings],
        "libvirt": [{"libvirt": rel, "name": n} for rel, n in r.libvirt],
        "models": list(v.cpus),
        "first_gained": [{"model": m, "release": rel} for m, rel in v.first_gained],
    }


def runs(pairs: tuple[tuple[str, str | None], ...]) -> list[tuple[str | None, str, str]]:
    """(name, first release, last release) of each run of releases that agree."""
    out: list[tuple[str | None, str, str]] = []
    for rel, n in pairs:
        if out and out[-1][0] == n:
            out[-1] = (n, out[-1][1], rel)
        else:
            out.append((n, rel, rel))
    return out


def feature_text(r: FeatureResult) -> str:
    v, w = r.view, r.view.word
    out = [f"{v.name}: {w.describe(v.feature.bit)}  ({v.feature.location}, QEMU word {w.name})"]
    if v.description:
        out.append(f"  {v.description}")
    if v.aliases:
        out.append(f"  QEMU aliases: {', '.join(v.aliases)}")
    if v.linux_name:
        out.append(f"  Linux /proc/cpuinfo: {v.linux_name}")
    if any(n for _, n in r.libvirt):
        spans = runs(r.libvirt)
        said = ", ".join(
            f"{n or '(no name)'} in {a}" + (f"-{b}" if b != a else "") for n, a, b in spans
        )
        out.append(f"  libvirt: {said}")
    if v.spellings:
        out.append("  QEMU name: " + ", ".join(f"{n} (since {rel})" for rel, n in v.spellings))
    out.append(f"  CPU names of QEMU {v.release} with it ({len(v.cpus)}):")
    if v.cpus:
        out.append(wrap(v.cpus, indent="    "))
    else:
        out.append("    none: add it with -cpu MODEL," + v.name + "=on")
    if v.first_gained:
        out.append("  first release in which each model had it:")
        out.append(wrap((f"{m}@{rel}" for m, rel in v.first_gained), indent="    "))
    return "\n".join(out) + "\n"
