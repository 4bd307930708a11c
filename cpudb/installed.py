"""The QEMU installed on this machine, which sets the default release.

`qemu-system-x86_64 --version` costs ~70 ms, as much as a whole `cpudb advise`, so its
answer is cached in the cache folder, keyed by the binary's path, size and mtime.
`CPUDB_QEMU_BINARY` names the binary to use (empty or `none`: act as if none were
installed, which the test suite does to stay independent of the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import re

from cpudb.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from cpudb.query import Db
    from cpudb.store import ReleaseInfo

BINARY = "qemu-system-x86_64"
_VERSION = re.compile(r"QEMU emulator version (\d+\.\d+(?:\.\d+)?)(?:\s*\((.*)\))?")


class Installed(Record):
    path: str
    version: str  # 7.2.22
    package: str  # Debian 1:7.2+dfsg-7+deb12u18 ('' for a plain build)


def binary_path() -> str | None:
    env = os.environ.get("CPUDB_QEMU_BINARY")
    if env is not None and env.strip() in ("", "none"):
        return None
    import shutil  # ~3 ms (it imports the compression modules): only when asked

    return (shutil.which(env) or None) if env is not None else shutil.which(BINARY)


def installed() -> Installed | None:
    """The installed qemu-system-x86_64 and its version (None: none, or it does not run)."""
    path = binary_path()
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
    cache = _cache_file()
    try:
        with open(cache, encoding="utf-8") as fh:
            d = json.load(fh)
        if d.get("key") == key:
            return Installed(path, d["version"], d["package"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = ask(path)
    if found is not None:
        _save(cache, {"key": key, "version": found.version, "package": found.package})
    return found


def parse_version(text: str) -> tuple[str, str] | None:
    """`QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)` -> (version, package)."""
    m = _VERSION.search(text)
    if m is None:
        return None
    version = m.group(1) if m.group(1).count(".") == 2 else m.group(1) + ".0"
    return version, (m.group(2) or "").strip()


def ask(path: str) -> Installed | None:
    import subprocess  # ~4 ms: only when the cached answer is stale

    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parsed = parse_version(out)
    return Installed(path, *parsed) if parsed else None


def _cache_file() -> str:
    from cpudb.paths import cache_dir

    return str(cache_dir() / "installed-qemu.json")


def _save(path: str, d: dict[str, str]) -> None:
    """Best effort: a cache that cannot be written only costs the next run 70 ms."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(d, fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class Choice(Record):
    version: str  # the release cpudb answers for
    why: str  # "--qemu 7.2", "installed qemu-system-x86_64 7.2.22", ...
    installed: Installed | None = None


def choose_release(db: Db, query: str | None) -> Choice:
    """`--qemu` wins; else the installed QEMU's release (the nearest cpudb has data for);
    else the newest upstream release."""
    if query is not None:
        return Choice(db.resolve_version(query), f"--qemu {query}")
    inst = installed()
    if inst is None:
        newest = db.resolve_version(None)
        return Choice(newest, f"newest release; no {BINARY} installed (--qemu picks one)")
    version, note = nearest_release(inst.version, db.versions())
    return Choice(version, f"installed {BINARY} {inst.version}{note}", inst)


def nearest_release(version: str, infos: Sequence[ReleaseInfo]) -> tuple[str, str]:
    """The release cpudb has data for that best stands for QEMU `version`: itself, else
    the newest of its X.Y series, else the newest older one, else the oldest; and a note
    when it is not `version` itself."""
    from cpudb.versions import version_key

    names = [i.version for i in infos]
    if version in names:
        return version, ""
    ups = [i.version for i in infos if i.upstream] or names
    series = ".".join(version.split(".")[:2]) + "."
    same = [v for v in ups if v.startswith(series)]
    if same:
        v = max(same, key=version_key)
        return v, f" (nearest with data: {v})"
    key = version_key(version)[0]
    older = [v for v in ups if version_key(v)[0] <= key]
    if older:
        v = max(older, key=version_key)
        newest = max(ups, key=version_key)
        return v, (f" (newer than cpudb's data: {v})" if v == newest else f" (nearest older: {v})")
    v = min(ups, key=version_key)
    return v, f" (older than cpudb's data: {v})"
