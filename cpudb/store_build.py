"""Building the SQLite feature matrix from the snapshots (sqlite-utils), atomically: a
build writes a new file next to the old one and renames it into place, so a failed or
interrupted build leaves the database as it was, and readers never see half of it."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
from pathlib import Path

from cpudb import __version__
from cpudb.errors import CpudbError, StoreError
from cpudb.store_file import APPLICATION_ID, SCHEMA_VERSION, inputs_fingerprint, refuse_foreign

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from sqlite_utils import Database

    from cpudb.model import Release


def _old_hosts(path: Path) -> list[dict[str, Any]]:
    """Hosts that cpudb before schema 7 stored in the database itself."""
    if not path.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("select name, source, added, data from hosts").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return []
    return [{"name": r[0], "source": r[1], "added": r[2], "data": r[3]} for r in rows]


def build(path: Path, fingerprint: str | None = None) -> dict[str, int]:
    """(Re)build the whole database from the snapshots into `path`, atomically; never
    over a file that is not cpudb's."""
    fingerprint = fingerprint or inputs_fingerprint()
    refuse_foreign(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_builds(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
        if tmp.exists():
            tmp.unlink()
        return _build(path, tmp, fingerprint)
    except OSError as e:
        where = e.filename or path
        raise StoreError(
            f"{where}: cannot write the database ({e.strerror})",
            hint="make the cache folder writable, or choose another place with --db PATH "
            "or XDG_CACHE_HOME",
        ) from e
    except sqlite3.OperationalError as e:
        raise StoreError(
            f"{path.parent}: cannot write the database ({e})",
            hint="make the folder writable, or choose another place with --db PATH",
        ) from e


def _remove_stale_builds(path: Path) -> None:
    """Remove half-built files that a killed build left (their process is gone)."""
    for p in path.parent.glob(f".{path.name}.*.building"):
        pid = p.name[len(path.name) + 2 : -len(".building")]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                p.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _build(path: Path, tmp: Path, fingerprint: str) -> dict[str, int]:
    import sqlite_utils

    from cpudb import catalog, hoststore, snapshot

    hoststore.adopt(_old_hosts(path))  # before the old file is replaced
    try:
        db = sqlite_utils.Database(tmp)
        db.conn.execute(f"pragma application_id = {APPLICATION_ID}")
        db.conn.execute("pragma journal_mode = off")
        db.conn.execute("pragma synchronous = off")
        _create_schema(db)
        from cpudb.names import extra_names

        info = extra_names()
        locations: dict[str, dict[str, Any]] = {}
        counts = {"releases": 0, "cpus": 0, "matrix": 0}
        rows: dict[str, list[Any]] = {"features": [], "cpus": [], "cpu_features": []}
        firsts: dict[tuple[str, str], tuple[str, str]] = {}
        known: dict[str, set[str]] = {}
        with db.conn:
            files = catalog.snapshot_files()
            seen: set[str] = set()
            for p, shipped in files:
                try:
                    text = p.read_text(encoding="utf-8")
                    d = snapshot.parse(text, name=str(p))
                    rel = snapshot.from_dict(d, name=str(p))
                except (CpudbError, OSError, UnicodeDecodeError) as e:
                    if shipped:
                        raise
                    print(f"cpudb: {p}: skipped, not a snapshot ({e})", file=sys.stderr)
                    continue
                clash = not shipped and any(q.stem == p.stem for q, sh in files if sh)
                if rel.version in seen or clash:  # a user file never takes shipped data down
                    print(
                        f"cpudb: {p}: release {rel.version} is already known; skipped "
                        "(re-scrape it with --label NAME)",
                        file=sys.stderr,
                    )
                    continue
                seen.add(rel.version)
                text = snapshot.compact(d)
                _insert_release(db, rel, text, shipped, locations, info, counts, rows)
                if rel.upstream:
                    _first_seen(rel, firsts, known)
            rows["first_seen"] = [(loc, cpu, m, v) for (loc, cpu), (m, v) in firsts.items()]
            # Plain executemany, and the matrix in primary-key order: a third of the time
            # of row-by-row inserts into a WITHOUT ROWID b-tree in arrival order.
            for table, table_rows in rows.items():
                if table in ("cpu_features", "first_seen"):
                    table_rows.sort()
                if table_rows:
                    marks = ", ".join("?" * len(table_rows[0]))
                    db.conn.executemany(
                        f"insert or ignore into {table} values ({marks})", table_rows
                    )
            db.table("locations").insert_all(locations.values(), pk="location")
            db.table("meta").insert_all(
                [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "fingerprint", "value": fingerprint},
                    {"key": "cpudb", "value": __version__},
                ]
            )
        db.conn.execute("pragma journal_mode = wal")
        db.conn.close()
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return counts


def _create_schema(db: Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("releases").create(
        {
            "version": str,
            "upstream": int,
            "shipped": int,
            "source": str,
            "origin": str,
            "default_version": str,
            "ordinal": int,
            "cpu_count": int,
            "feature_count": int,
            "snapshot": bytes,
        },
        pk="version",
    )
    db.table("locations").create(
        {
            "location": str,
            "kind": str,
            "leaf": int,
            "subleaf": int,
            "register": str,
            "msr": int,
            "bit": int,
            "qemu_name": str,
            "linux_name": str,
            "description": str,
        },
        pk="location",
    )
    db.table("features").create(
        {
            "release": str,
            "name": str,
            "location": str,
            "word": str,
            "bit": int,
            "aliases": str,
        },
        pk=("release", "location"),
        foreign_keys=[("release", "releases", "version"), ("location", "locations", "location")],
    )
    db.table("cpus").create(
        {
            "release": str,
            "name": str,
            "kind": str,
            "alias_of": str,
            "model": str,
            "version": int,
            "vendor": str,
            "family": int,
            "model_number": int,
            "stepping": int,
            "model_id": str,
            "note": str,
            "deprecation_note": str,
            "deprecated": int,
            "feature_count": int,
        },
        pk=("release", "name"),
        foreign_keys=[("release", "releases", "version")],
    )
    # The matrix: one row per (CPU name, feature location). WITHOUT ROWID keeps it one
    # b-tree, keyed for "which CPU names have this location" (feature, history, advise).
    db.conn.execute("""
        create table cpu_features (
            location text not null references locations(location),
            release text not null references releases(version),
            cpu text not null,
            feature text not null,
            primary key (location, release, cpu)
        ) without rowid""")
    # per feature location and CPU name, the first upstream release where that name had it
    # (the advisor's "since"; computed at build instead of grouping the matrix per query)
    db.conn.execute("""
        create table first_seen (
            location text not null references locations(location),
            cpu text not null,
            model text not null,
            release text not null references releases(version),
            primary key (location, cpu)
        ) without rowid""")
    db.table("features").create_index(["name"])
    db.table("features").create_index(["location"])
    db.table("cpus").create_index(["name"])
    db.table("cpus").create_index(["release", "alias_of"])
    db.create_view(
        "matrix",
        """
        select c.release, c.name as cpu, c.kind, c.alias_of, c.vendor, cf.feature, l.leaf,
               l.subleaf, l.register, l.msr, l.bit, l.linux_name
        from cpus c
        join cpu_features cf on cf.release = c.release
             and cf.cpu = coalesce(c.alias_of, c.name)
        join locations l on l.location = cf.location""",
    )


def _first_seen(
    rel: Any,
    firsts: dict[tuple[str, str], tuple[str, str]],
    known: dict[str, set[str]],
) -> None:
    """Record (location, CPU name) -> (model, release) unless seen in an older release.
    `known` (CPU name -> feature names already recorded) keeps this to set differences:
    most names have the same features release after release."""
    locs: dict[str, list[str]] = {}
    for f in rel.features:
        locs.setdefault(f.name, []).append(f.location)
    for c in rel.cpus:
        seen = known.setdefault(c.name, set())
        new = c.features - seen
        if not new:
            continue
        seen |= new
        for name in new:
            for loc in locs.get(name, ()):
                firsts.setdefault((loc, c.name), (c.model, rel.version))


def _insert_release(
    db: Database,
    rel: Release,
    text: str,
    shipped: bool,
    locations: dict[str, dict[str, Any]],
    info: dict[str, dict[str, Any]],
    counts: dict[str, int],
    rows: dict[str, list[Any]],
) -> None:
    import zlib

    words = {w.name: w for w in rel.words}
    name_locs: dict[str, list[str]] = {}
    feats = []
    for f in rel.features:
        w = words[f.word]
        name_locs.setdefault(f.name, []).append(f.location)
        feats.append((rel.version, f.name, f.location, f.word, f.bit, json.dumps(list(f.aliases))))
        if f.location not in locations:
            extra = info.get(f.location, {})
            locations[f.location] = {
                "location": f.location,
                "kind": w.type,
                "leaf": w.leaf,
                "subleaf": w.subleaf,
                "register": w.register,
                "msr": w.msr,
                "bit": f.bit,
                "qemu_name": f.name,
                "linux_name": extra.get("linux_name"),
                "description": extra.get("description"),
            }
        else:
            locations[f.location]["qemu_name"] = f.name  # newest spelling wins
    db.table("releases").insert(
        {
            "version": rel.version,
            "upstream": int(rel.upstream),
            "shipped": int(shipped),
            "source": rel.source,
            "origin": rel.origin,
            "default_version": rel.default_version,
            "ordinal": counts["releases"],  # snapshots arrive oldest first
            "cpu_count": len(rel.cpus),
            "feature_count": len({f.name for f in rel.features}),
            "snapshot": zlib.compress(text.encode("utf-8"), 1),
        }
    )
    rows["features"].extend(feats)
    cpus: list[tuple[Any, ...]] = []
    matrix: list[tuple[str, str, str, str]] = []
    for c in rel.cpus:
        cpus.append(
            (
                rel.version,
                c.name,
                c.kind,
                c.alias_of,
                c.model,
                c.version,
                c.vendor,
                c.family,
                c.model_number,
                c.stepping,
                c.model_id,
                c.note,
                c.deprecation_note,
                int(c.deprecation_note is not None),
                len(c.features),
            )
        )
        if c.alias_of is None:  # aliases share their target's rows (see the view)
            matrix.extend((loc, rel.version, c.name, f) for f in c.features for loc in name_locs[f])
    rows["cpus"].extend(cpus)
    rows["cpu_features"].extend(matrix)
    counts["releases"] += 1
    counts["cpus"] += len(cpus)
    counts["matrix"] += len(matrix)
