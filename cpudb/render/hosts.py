"""Stored hosts (`cpudb host add/rm/list`) and the catalogue of real CPUs (`host list
--catalogue`): text and JSON."""

from __future__ import annotations

from cpudb.render import table_text

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.app.hosts import Added, StoredHost


def added_json(a: Added) -> dict[str, Any]:
    return {"name": a.name, "source": a.source, "brand": a.brand, "file": str(a.file)}


def added_text(a: Added) -> str:
    return f"saved host {a.name}: {a.brand or a.vendor} ({a.source}) in {a.file}\n"


def stored_json(hosts: tuple[StoredHost, ...]) -> list[dict[str, Any]]:
    keys = ("name", "added", "source", "vendor", "family", "model", "stepping", "brand")
    return [{k: getattr(h, k) for k in keys} for h in hosts]


def stored_text(hosts: tuple[StoredHost, ...]) -> str:
    if not hosts:
        return "no stored hosts (cpudb host add NAME FILE)\n"
    rows = (
        [h.name, h.added, f"{h.family}/{h.model}/{h.stepping}", h.brand or h.vendor, h.source]
        for h in hosts
    )
    return table_text(rows, ["name", "added", "fam/model/step", "brand", "source"])


def catalogue_json(rows: list[dict[str, Any]], source: str) -> dict[str, Any]:
    return {"source": source, "cpus": rows}


def catalogue_text(rows: list[dict[str, Any]], source: str) -> str:
    body = table_text(
        ([r["name"], f"{r['family']}/{r['model']}/{r['stepping']}", r["brand"]] for r in rows),
        ["name", "fam/model/step", "brand"],
    )
    return body + f"({len(rows)} CPUs; {source})\n"
