"""The SQLite feature matrix, read: derived from the snapshots, rebuilt when they change.

Reading uses plain sqlite3; building (`cpudb.store_build`) uses sqlite-utils (importing
it costs ~0.2 s, more than a whole `cpudb show`), so it is imported only to build. The
file's fingerprint and ownership are `cpudb.store_file`. Only these modules touch SQL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cpudb.errors import StoreError
from cpudb.record import Record
from cpudb.store_file import connect_ro, inputs_fingerprint, refuse_foreign, stored_fingerprint

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.model import Release


class ReleaseInfo(Record):
    """One release as the database lists it (`Db.versions`)."""

    version: str
    upstream: bool
    origin: str
    source: str  # "source" or "qmp"
    shipped: bool
    cpu_count: int
    feature_count: int


class DbInfo(Record):
    """What the database file holds (`cpudb db info`)."""

    path: Path
    size: int  # bytes
    schema: int  # the database's own schema version
    built_by: str | None  # the cpudb version that built it
    tables: dict[str, int]  # rows per table


class Store:
    def __init__(self, path: Path, con: sqlite3.Connection) -> None:
        self.path = path
        self.con = con

    @classmethod
    def open(cls, path: Path, *, auto_build: bool = True) -> Store:
        """Open the database, building or refreshing it first when its inputs changed."""
        fp = inputs_fingerprint()
        refuse_foreign(path)
        state = stored_fingerprint(path)
        if state != fp:
            if not auto_build:
                raise StoreError(f"{path}: out of date", hint="run `cpudb db rebuild`")
            from cpudb.store_build import build

            build(path, fp)
        try:
            return cls(path, connect_ro(path))
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

    def versions(self) -> list[ReleaseInfo]:
        from cpudb.versions import version_key

        rows = self._rows(
            "select version, upstream, origin, source, shipped, cpu_count, "
            "feature_count from releases"
        )
        infos = [ReleaseInfo(r[0], bool(r[1]), r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]
        return sorted(infos, key=lambda i: version_key(i.version))

    def load_release(self, version: str) -> Release:
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

    def info(self) -> DbInfo:
        counts = {
            t: int(self._rows(f"select count(*) from [{t}]")[0][0])
            for t in ("releases", "features", "cpus", "cpu_features")
        }
        meta = {r[0]: r[1] for r in self._rows("select key, value from meta")}
        return DbInfo(
            self.path,
            self.path.stat().st_size,
            int(meta.get("schema_version", 0)),
            meta.get("cpudb"),
            counts,
        )


# ------------------------------------------------------------- host edits


def refresh_user(db: str | None) -> None:
    """After a scrape into the user folder: bring the database up to date."""
    from cpudb.paths import db_path

    Store.open(db_path(db))
