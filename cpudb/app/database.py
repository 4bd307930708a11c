"""The database use cases (`cpudb db`, `cpudb versions`): where the SQLite feature matrix
is, rebuilding it from the snapshots, what it holds."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from pathlib import Path

    from cpudb.query import Db
    from cpudb.store import DbInfo, ReleaseInfo


class Rebuilt(Record):
    path: Path
    seconds: float
    counts: dict[str, int]  # rows written per kind (releases, cpus, matrix, ...)


def database_path(path: str | None = None) -> Path:
    """--db, else $CPUDB_DB, else the cache folder's cpudb.sqlite."""
    from cpudb.paths import db_path

    return db_path(path)


def rebuild(path: str | None = None) -> Rebuilt:
    import time

    from cpudb.store_build import build

    where = database_path(path)
    t = time.perf_counter()
    counts = build(where)
    return Rebuilt(where, time.perf_counter() - t, counts)


def info(path: str | None = None) -> DbInfo:
    from cpudb.store import Store

    return Store.open(database_path(path)).info()


def versions(db: Db | None = None, path: str | None = None) -> tuple[ReleaseInfo, ...]:
    """Every release the database holds, as `cpudb versions` lists them."""
    from cpudb.app.inputs import connect

    return tuple(connect(db, path).versions())
