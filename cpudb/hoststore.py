"""Stored hosts (`cpudb host add`): user data, one JSON file per host in the user data
folder (`hosts/NAME.json`), never in the derived database.

A rebuild, a wiped cache or a concurrent command cannot lose them: each file is
written whole to a temporary name and renamed into place, and nothing else writes
that folder. Hosts stored in a database by cpudb before they moved here are copied
out by `adopt` when that database is rebuilt.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from cpudb.errors import CpudbError, ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = re.compile(r"[A-Za-z0-9][\w.@+-]{0,63}")


def folder() -> Path:
    from cpudb.paths import user_data_dir

    return user_data_dir() / "hosts"


def _file(name: str) -> Path:
    if not NAME.fullmatch(name):
        raise CpudbError(f"bad host name {name!r}", hint="letters, digits and . _ - + @, up to 64")
    return folder() / f"{name}.json"


def save(name: str, source: str, data: dict[str, Any], added: str | None = None) -> Path:
    from cpudb.paths import atomic_write

    path = _file(name)
    record = {
        "name": name,
        "source": source,
        "added": added or datetime.date.today().isoformat(),
        "data": data,
    }
    try:
        atomic_write(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    except OSError as e:
        raise CpudbError(
            f"{path.parent}: cannot store host {name!r} ({e.strerror})",
            hint="check that the user data folder is writable, or set XDG_DATA_HOME",
        ) from e
    return path


def remove(name: str) -> bool:
    try:
        _file(name).unlink()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise CpudbError(f"{_file(name)}: cannot remove ({e.strerror})") from e
    return True


def get(name: str) -> dict[str, Any] | None:
    if not NAME.fullmatch(name):
        return None
    path = _file(name)
    if not path.is_file():
        return None
    return _read(path)


def all_hosts() -> list[dict[str, Any]]:
    """Every stored host, by name; a damaged file is an error that names it."""
    try:
        paths = sorted(folder().glob("*.json"))
    except OSError:
        return []
    return [_read(p) for p in paths if p.is_file()]


def _read(path: Path) -> dict[str, Any]:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(d, dict) or not {"name", "source", "added", "data"} <= d.keys():
            raise ValueError("not a stored host")
    except (OSError, ValueError) as e:
        raise ParseError(
            f"{path}: not a stored host ({e})",
            hint=f"remove it, then `cpudb host add {path.stem} FILE` again",
        ) from e
    return d


def adopt(rows: list[dict[str, Any]]) -> int:
    """Copy hosts an older cpudb kept in its database here (never over a stored one)."""
    n = 0
    for r in rows:
        name = r.get("name", "")
        if not NAME.fullmatch(name) or _file(name).exists():
            continue
        data = r["data"] if isinstance(r["data"], dict) else json.loads(r["data"])
        save(name, r["source"], data, r.get("added"))
        n += 1
    return n
