"""The CPU names that passed the filters (`cpudb models`): text and JSON."""

from __future__ import annotations

from cpudb.render import table_text

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.app.lookup import Models


def models_json(m: Models) -> list[dict[str, Any]]:
    return [
        {
            "name": r.cpu.name,
            "kind": r.cpu.kind,
            "alias_of": r.cpu.alias_of,
            "vendor": r.cpu.vendor,
            "family": r.cpu.family,
            "model": r.cpu.model_number,
            "stepping": r.cpu.stepping,
            "level": r.level,
            "deprecated": bool(r.cpu.deprecation_note),
            "features": sorted(r.features),
        }
        for r in m.rows
    ]


def models_text(m: Models) -> str:
    rows = (
        [
            r.cpu.name,
            r.cpu.kind if not r.cpu.alias_of else f"{r.cpu.kind} -> {r.cpu.alias_of}",
            r.cpu.vendor,
            f"{r.cpu.family}/{r.cpu.model_number}",
            len(r.features),
            f"v{r.level}",
            "deprecated" if r.cpu.deprecation_note else "",
        ]
        for r in m.rows
    )
    head = f"QEMU {m.release.version}: {len(m.rows)} of {len(m.release.cpus)} CPU names\n"
    return head + table_text(rows, ["name", "kind", "vendor", "fam/model", "features", "level", ""])
