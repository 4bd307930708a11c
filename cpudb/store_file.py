"""The database file itself: what it was built from (the fingerprint of the snapshots),
whose it is (cpudb's or a foreign file, never overwritten), and its stored state."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from cpudb import __version__
from cpudb.errors import StoreError

SCHEMA_VERSION = 7  # 7: stored hosts moved out to the user data folder


def inputs_fingerprint() -> str:
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


def owner(path: Path) -> str:
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


def refuse_foreign(path: Path) -> None:
    if owner(path) == "foreign":
        raise StoreError(
            f"{path}: not a cpudb database; left untouched",
            hint="give --db a new file name (cpudb makes it), or remove that file yourself",
        )


def connect_ro(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def stored_fingerprint(path: Path) -> str | None:
    """The stored fingerprint; None when there is no database; 'old' when it is of
    another schema or damaged (callers have checked it is cpudb's: `owner`)."""
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
