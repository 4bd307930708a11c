"""QEMU version labels: ordering and `--qemu` matching."""

from __future__ import annotations

import re
from functools import lru_cache

from cpudb.errors import NotFound

_V = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?(.*)")


@lru_cache(maxsize=1024)  # sorting a feature's timeline asks it once per row (thousands)
def version_key(v: str) -> tuple[tuple[int, ...], str]:
    """Sort key for `7.2.0`, `v7.2.0`, `7.2.22-debian`, `8.1.0-rhel`."""
    m = _V.fullmatch(v)
    if not m:
        return ((9999,), v)
    return ((int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)), m.group(4))


def match(query: str, available: list[str], *, upstream: dict[str, bool] | None = None) -> str:
    """`7.2.0` exactly, or a prefix (`7.2`, `7`) = the newest matching upstream release."""
    if query in available:
        return query
    q = query.lstrip("v")
    hits = [v for v in available if v == q or v.startswith(q + ".")]
    if upstream is not None:
        up = [v for v in hits if upstream.get(v, True)]
        hits = up or hits
    if not hits:
        raise unknown(query, available)
    return max(hits, key=version_key)


def nearest(query: str, available: list[str], n: int = 5) -> list[str]:
    """The `n` releases around where `query` would sort (7.2.1 -> 7.1.0, 7.2.0, 7.2.22, ...),
    in release order; the newest when `query` is no version at all."""
    ordered = sorted(available, key=version_key)
    if not _V.fullmatch(query.lstrip("v")):
        return ordered[-n:]
    key = version_key(query.lstrip("v"))
    at = sum(1 for v in ordered if version_key(v) < key)
    start = max(0, min(at - n // 2, len(ordered) - n))
    return ordered[start : start + n]


def unknown(query: str, available: list[str]) -> NotFound:
    """The error for a release cpudb does not have, naming the nearest ones it has."""
    near = ", ".join(nearest(query, available))
    what = "nearest" if _V.fullmatch(query.lstrip("v")) else "newest"
    return NotFound(
        f"unknown QEMU release {query!r}", hint=f"`cpudb versions` lists them; {what}: {near}"
    )
