"""The database (`cpudb db rebuild|info`) and its releases (`cpudb versions`): text and
JSON."""

from __future__ import annotations

from cpudb.render import table_text

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.app.database import Rebuilt
    from cpudb.store import DbInfo, ReleaseInfo


def rebuilt_json(r: Rebuilt) -> dict[str, Any]:
    return {"path": str(r.path), "seconds": round(r.seconds, 3), **r.counts}


def rebuilt_text(r: Rebuilt) -> str:
    c = r.counts
    return (
        f"rebuilt {r.path}: {c['releases']} releases, {c['cpus']} CPU names, "
        f"{c['matrix']} matrix rows in {r.seconds:.2f}s\n"
    )


def info_json(i: DbInfo) -> dict[str, Any]:
    # "db_schema": the document's own "schema" key names the JSON format
    return {
        "path": str(i.path),
        "size": i.size,
        "db_schema": i.schema,
        "built_by": i.built_by,
        "tables": i.tables,
    }


def info_text(i: DbInfo) -> str:
    out = [f"{i.path} ({i.size / 1e6:.1f} MB, schema {i.schema}, built by cpudb {i.built_by})"]
    out += [f"  {t:<13} {n}" for t, n in i.tables.items()]
    return "\n".join(out) + "\n"


def versions_json(infos: tuple[ReleaseInfo, ...]) -> list[dict[str, Any]]:
    return [
        {
            "version": i.version,
            "upstream": i.upstream,
            "shipped": i.shipped,
            "source": i.source,
            "origin": i.origin,
            "cpu_names": i.cpu_count,
            "features": i.feature_count,
        }
        for i in infos
    ]


def versions_text(infos: tuple[ReleaseInfo, ...]) -> str:
    rows = (
        [
            i.version,
            "upstream" if i.upstream else "downstream",
            "shipped" if i.shipped else "yours",
            i.cpu_count,
            i.feature_count,
            i.origin,
        ]
        for i in infos
    )
    return table_text(rows, ["version", "kind", "data", "cpu names", "features", "origin"])
