"""The SQLite feature matrix: derived from the snapshots, rebuilt when they change.

Only this module writes SQL. Building uses sqlite-utils; reading uses plain sqlite3
(importing sqlite-utils costs ~0.2 s, more than a whole `cpudb show`).

A build writes a new file next to the old one and renames it into place, so a failed
or interrupted build leaves the database as it was, and readers never see half of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

from cpudb import __version__
from cpudb.errors import CpudbError, StoreError

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 7  # 7: stored hosts moved out to the user data folder


def _fingerprint() -> str:
    """Cheap identity of the inputs: cpudb version + the snapshot folders' and extra files'
    mtimes and sizes, each snapshot's too (a file rewritten in place, by `cp` or an editor,
    leaves its folder's mtime alone): about 120 stats, well under a millisecond."""
    import os

    from cpudb.paths import shipped_data_dir, user_data_dir

    parts = [f"schema={SCHEMA_VERSION}", f"cpudb={__version__}"]
    for p in (shipped_data_dir() / "qemu", user_data_dir() / "qemu", *_extra_files()):
        try:
            st = p.stat()
        except OSError:
            continue
        parts.append(f"{p}:{st.st_mtime_ns}:{st.st_size}")
        if p.is_dir():
            with os.scandir(p) as it:
                newest = max((e.stat().st_mtime_ns for e in it if e.is_file()), default=0)
            parts.append(f"newest={newest}")
    return "|".join(parts)


def _extra_files() -> list[Path]:
    from cpudb.paths import shipped_data_dir

    # the data/ file whose contents the database copies (locations.linux_name/description)
    return [shipped_data_dir() / "linux-cpufeatures.json"]


APPLICATION_ID = 0x63707564  # "cpud" in the SQLite header: this file is cpudb's


def _owner(path: Path) -> str:
    """'none' (no file, or an empty one), 'cpudb', or 'foreign' (any other file),
    read from the SQLite header (application id) or, for databases of cpudb before
    schema 7, its meta table. Raises StoreError for a folder or an unreadable path."""
    hint = "--db takes a file path such as DIR/cpudb.sqlite; the default is in XDG_CACHE_HOME"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "none"
    except NotADirectoryError:
        raise StoreError(f"{path}: a folder on that path is a file", hint=hint) from None
    except OSError as e:
        raise StoreError(f"{path}: cannot read ({e.strerror})", hint=hint) from e
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{path}: is a folder", hint=hint)
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{path}: not a regular file (a pipe or device)", hint=hint)
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError as e:
        raise StoreError(f"{path}: cannot read ({e.strerror})", hint=hint) from e
    if not head:
        return "none"
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "foreign"
    if int.from_bytes(head[68:72], "big") == APPLICATION_ID:
        return "cpudb"
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {
                r[0] for r in con.execute("select name from sqlite_master where type = 'table'")
            }
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return "foreign"
    # an older cpudb's database: only tables cpudb makes
    return "cpudb" if tables and tables <= _OUR_TABLES else "foreign"


_OUR_TABLES = frozenset(
    {"meta", "releases", "features", "cpus", "cpu_features", "locations", "hosts", "first_seen"}
)


def _refuse_foreign(path: Path) -> None:
    if _owner(path) == "foreign":
        raise StoreError(
            f"{path}: not a cpudb database; left untouched",
            hint="give --db a new file name (cpudb makes it), or remove that file yourself",
        )


def _connect_ro(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


class Store:
    def __init__(self, path: Path, con: sqlite3.Connection) -> None:
        self.path = path
        self.con = con

    @classmethod
    def open(cls, path: Path, *, auto_build: bool = True) -> Store:
        """Open the database, building or refreshing it first when its inputs changed."""
        fp = _fingerprint()
        _refuse_foreign(path)
        state = _state(path)
        if state != fp:
            if not auto_build:
                raise StoreError(f"{path}: out of date", hint="run `cpudb db rebuild`")
            build(path, fp)
        try:
            return cls(path, _connect_ro(path))
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open ({e})", hint="run `cpudb db rebuild`") from e

    # ------------------------------------------------------------- reading

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        try:
            return self.con.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise StoreError(
                f"{self.path}: database error ({e})", hint="run `cpudb db rebuild`"
            ) from e

    def versions(self) -> list:  # list[ReleaseInfo]
        from cpudb.query import ReleaseInfo
        from cpudb.versions import version_key

        rows = self._rows(
            "select version, upstream, origin, source, shipped, cpu_count, "
            "feature_count from releases"
        )
        infos = [ReleaseInfo(r[0], bool(r[1]), r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]
        return sorted(infos, key=lambda i: version_key(i.version))

    def load_release(self, version: str):  # -> Release
        import zlib

        from cpudb import snapshot

        rows = self._rows("select snapshot from releases where version = ?", version)
        if not rows:
            from cpudb.versions import unknown

            raise unknown(version, [r[0] for r in self._rows("select version from releases")])
        try:
            text = zlib.decompress(rows[0][0]).decode("utf-8")
        except (zlib.error, TypeError) as e:
            raise StoreError(
                f"{self.path}: damaged snapshot of {version}", hint="run `cpudb db rebuild`"
            ) from e
        return snapshot.loads(text, name=f"{self.path}:{version}")

    def feature_info(self) -> dict[str, dict[str, Any]]:
        """location -> {linux_name, description, ...} for every known location."""
        rows = self._rows("select * from locations")
        return {r["location"]: dict(r) for r in rows}

    def feature_timeline(self, location: str) -> list[tuple[str, str, str]]:
        """(release, cpu name, model) for every CPU name that has the location, by release."""
        # the matrix holds definitions (not aliases): each alias joins its target's rows;
        # releases.ordinal is the release order (computed at build), so SQL sorts
        half = (
            "select r.ordinal, r.version, c.name, c.model from cpu_features cf "
            "join releases r on r.version = cf.release join cpus c on c.release = cf.release "
        )
        rows = self._rows(
            half + "and c.name = cf.cpu and c.alias_of is null where cf.location = ? "
            "union all " + half + "and c.alias_of = cf.cpu where cf.location = ? order by 1",
            location,
            location,
        )
        return [(r[1], r[2], r[3]) for r in rows]

    def feature_firsts(self, location: str, upto: str) -> list[tuple[str, str, str]]:
        """(release, cpu name, model): each CPU name's first upstream release with the
        location (the advisor's "since"), oldest first. For a name that has the location in
        release `upto`, its first release is necessarily not after `upto`."""
        rows = self._rows(
            "select f.release, f.cpu, f.model from first_seen f "
            "join releases r on r.version = f.release "
            "where f.location = ? "
            "and r.ordinal <= (select ordinal from releases where version = ?) "
            "order by r.ordinal",
            location,
            upto,
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def feature_catalogue(self, location: str) -> list[tuple[str, str]]:
        """(release, QEMU name) of the location in every release that knows it."""
        from cpudb.versions import version_key

        rows = self._rows("select release, name from features where location = ?", location)
        return sorted(((r[0], r[1]) for r in rows), key=lambda t: version_key(t[0]))

    def info(self) -> dict[str, Any]:
        counts = {
            t: self._rows(f"select count(*) from [{t}]")[0][0]
            for t in ("releases", "features", "cpus", "cpu_features")
        }
        meta = {r[0]: r[1] for r in self._rows("select key, value from meta")}
        return {
            "path": str(self.path),
            "size": self.path.stat().st_size,
            "db_schema": int(meta.get("schema_version", 0)),
            "built_by": meta.get("cpudb"),
            "tables": counts,
        }


def _state(path: Path) -> str | None:
    """The stored fingerprint; None when there is no database; 'old' when it is of
    another schema or damaged (callers have checked it is cpudb's: `_owner`)."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("select value from meta where key = 'fingerprint'").fetchone()
            schema = con.execute("select value from meta where key = 'schema_version'").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return "old"  # an older schema without meta, or damaged: rebuilt
    if not schema or int(schema[0]) != SCHEMA_VERSION:
        return "old"
    return row[0] if row else "old"


# ---------------------------------------------------------------- building


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
    fingerprint = fingerprint or _fingerprint()
    _refuse_foreign(path)
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

    from cpudb import catalog, hoststore

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
                    d = catalog.snapshot.parse(text, name=str(p))
                    rel = catalog.snapshot.from_dict(d, name=str(p))
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
                text = catalog.snapshot.compact(d)
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


def _create_schema(db) -> None:  # noqa: ANN001
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["releases"].create(
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
    db["locations"].create(
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
    db["features"].create(
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
    db["cpus"].create(
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
    db["features"].create_index(["name"])
    db["features"].create_index(["location"])
    db["cpus"].create_index(["name"])
    db["cpus"].create_index(["release", "alias_of"])
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


def _insert_release(db, rel, text, shipped, locations, info, counts, rows) -> None:  # noqa: ANN001
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
    db["releases"].insert(
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


# ------------------------------------------------------------- host edits


def refresh_user(db: str | None) -> None:
    """After a scrape into the user folder: bring the database up to date."""
    from cpudb.paths import db_path

    Store.open(db_path(db))
