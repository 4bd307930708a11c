"""Plain-text rendering shared by commands (tables, JSON, wrapping). No rich here: the
query commands must start in a few tens of milliseconds."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any


# Every --json document starts with "schema": "cpudb.KIND/N"; N changes when a field
# changes meaning or goes away (new fields do not change it). A list is wrapped in an
# object under the last part of KIND (models, versions, hosts).
SCHEMA_VERSION = 1


def print_json(kind: str, obj: Any) -> None:
    """Print one --json document of `kind` (advise, probe, models, ...)."""
    if isinstance(obj, list):
        obj = {kind.split(".")[-1]: obj}
    assert "schema" not in obj, kind
    doc = {"schema": f"cpudb.{kind}/{SCHEMA_VERSION}", **obj}
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> None:
    sys.stdout.write(table_text(rows, headers))


def table_text(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    """Columns padded to their widest cell, under a header and a rule."""
    cells = [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for r in cells:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(out) + "\n"


def wrap(words: Iterable[str], *, indent: str = "  ", width: int = 88) -> str:
    lines: list[str] = []
    cur = indent
    for w in words:
        if len(cur) + len(w) + 1 > width and cur.strip():
            lines.append(cur.rstrip())
            cur = indent
        cur += w + " "
    if cur.strip():
        lines.append(cur.rstrip())
    return "\n".join(lines)
