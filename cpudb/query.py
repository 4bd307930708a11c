"""The library's read API: what commands, the advisor, the diff and the TUI call.

    db = open_db(args.db)          # builds/refreshes the SQLite store when needed
    db.versions()                  # [ReleaseInfo], oldest first
    rel = db.release("7.2")        # Release (full record; `--qemu` matching rules)
    rel.cpu("Haswell-v4").features # frozenset of QEMU names of that release

Everything returned is a frozen record; nothing here writes.
"""

from __future__ import annotations

from pathlib import Path

from cpudb.model import Release

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.store import ReleaseInfo


class Db:
    """Read access to the feature matrix. Use `open_db()`."""

    def __init__(self, path: Path) -> None:
        from cpudb import store

        self.path = path
        self._store = store.Store.open(path)
        self._cache: dict[str, Release] = {}
        self._versions: list[ReleaseInfo] | None = None

    def versions(self) -> list[ReleaseInfo]:
        if self._versions is None:  # asked for by every release() call: read once
            self._versions = self._store.versions()
        return list(self._versions)

    def resolve_version(self, query: str | None) -> str:
        """`None` = newest upstream; `7.2` = newest 7.2.x; `7.2.0` exactly."""
        from cpudb import versions

        infos = self.versions()
        up = {i.version: i.upstream for i in infos}
        names = [i.version for i in infos]
        if query is None:
            ups = [v for v in names if up[v]] or names
            if not ups:
                from cpudb.errors import NotFound

                raise NotFound("the database has no releases", hint="cpudb db rebuild")
            return max(ups, key=versions.version_key)
        return versions.match(query, names, upstream=up)

    def release(self, query: str | None = None) -> Release:
        v = self.resolve_version(query)
        if v not in self._cache:
            self._cache[v] = self._store.load_release(v)
        return self._cache[v]

    def feature_timeline(self, location: str) -> list[tuple[str, str, str]]:
        return self._store.feature_timeline(location)

    def feature_firsts(self, location: str, upto: str) -> list[tuple[str, str, str]]:
        return self._store.feature_firsts(location, upto)

    def feature_catalogue(self, location: str) -> list[tuple[str, str]]:
        return self._store.feature_catalogue(location)

    def hosts(self) -> list[dict[str, Any]]:
        from cpudb import hoststore

        return hoststore.all_hosts()

    def releases(self) -> list[Release]:
        return [self.release(i.version) for i in self.versions()]


def open_db(path: str | None = None) -> Db:
    from cpudb.paths import db_path

    return Db(db_path(path))
