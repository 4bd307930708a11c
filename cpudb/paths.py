"""Where things live: shipped data, the user's own snapshots, the cache and the database."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def shipped_data_dir() -> Path:
    """The `data/` folder (package data `cpudb.data` once installed). CPUDB_DATA_DIR overrides."""
    env = os.environ.get("CPUDB_DATA_DIR")
    if env:
        return Path(env)
    import cpudb.data

    return Path(cpudb.data.__file__).parent


def _xdg(var: str, default: str) -> Path | None:
    """platformdirs' answer on Linux, without its ~11 ms import (a fifth of a fast
    command's budget). tests/test_paths.py checks it against platformdirs."""
    if not sys.platform.startswith("linux"):
        return None
    base = os.environ.get(var, "").strip()
    return Path(base if base else os.path.expanduser(default)) / "cpudb"


def user_data_dir() -> Path:
    """Snapshots the user scraped (`cpudb scrape ...`); they survive database rebuilds."""
    env = os.environ.get("CPUDB_USER_DIR")
    if env:
        return Path(env)
    fast = _xdg("XDG_DATA_HOME", "~/.local/share")
    if fast is not None:
        return fast
    from platformdirs import user_data_dir as _udd

    return Path(_udd("cpudb", appauthor=False))


def cache_dir() -> Path:
    env = os.environ.get("CPUDB_CACHE_DIR")
    if env:
        return Path(env)
    fast = _xdg("XDG_CACHE_HOME", "~/.cache")
    if fast is not None:
        return fast
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cpudb", appauthor=False))


def db_path(override: str | None = None) -> Path:
    """`--db PATH` beats `CPUDB_DB`, which beats the cache directory."""
    if override:
        return Path(override)
    env = os.environ.get("CPUDB_DB")
    if env:
        return Path(env)
    return cache_dir() / "cpudb.sqlite"


def atomic_write(path: Path, text: str) -> None:
    """Write all or nothing: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
