"""The browse table's rows: what the boxes keep, the columns, and their sort keys.

Which CPU names have the needs is `describe.filter_models` (via `app.browse.models_with`); what
each name would need added is the advisor's answer (`app.browse.advice_for`). This module only
matches the name box and orders the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cpudb.app.browse import vendor_label
from cpudb.record import Record

if TYPE_CHECKING:
    from cpudb.advise import Advice
    from cpudb.app.browse import ReleaseData
    from cpudb.app.lookup import ModelRow


class WouldNeed(Record):
    """The advisor's answer for one CPU name: flags to add, or why it cannot work."""

    count: int  # flags to add; REJECTED when the name cannot be made to fit
    text: str


REJECTED = 1_000


def would_need(advice: Advice) -> dict[str, WouldNeed]:
    """CPU name (aliases included) → what the advisor would add to it for the needs."""
    out: dict[str, WouldNeed] = {}
    for c in advice.candidates:
        text = " ".join(f"+{a.name}" for a in c.adds) or "nothing"
        if c.blockers:
            text += "  (blocked on the host)"
        for name in (c.name, *c.aka):
            out[name] = WouldNeed(len(c.adds) + (REJECTED // 2 if c.blockers else 0), text)
    for r in advice.rejected:
        out.setdefault(r.name, WouldNeed(REJECTED, f"no: {r.reason}"))
    return out


class Shown(Record):
    row: ModelRow
    would: WouldNeed | None  # in would-need mode


def name_matches(name: str, text: str) -> bool:
    """Words of the name box: a CPU name is kept when it contains any of them."""
    words = text.lower().split()
    return not words or any(w in name.lower() for w in words)


def shown_rows(
    data: ReleaseData,
    name_text: str,
    keep: set[str] | None,
    would: dict[str, WouldNeed] | None,
) -> list[Shown]:
    """Rows passing the name box and, unless None, in `keep`; `would` annotates them."""
    out = []
    for row in data.rows:
        c = row.cpu
        if keep is not None and c.name not in keep:
            continue
        if not name_matches(c.name, name_text):
            continue
        w = None
        if would is not None:
            w = would.get(c.name) or (would.get(c.alias_of) if c.alias_of else None)
        out.append(Shown(row, w))
    return out


Cell = tuple[str, str]  # (text, tone) as QuickTable draws it


class Column(Record):
    key: str
    label: str
    sort_key: Callable[[Shown], Any]
    cell: Callable[[Shown], Cell]
    right: bool = False


def _name(s: Shown) -> str:
    return s.row.cpu.name.lower()


def _host_key(s: Shown) -> tuple[int, str]:
    b = s.row.blockers
    return (-1 if b is None else len(b), _name(s))


def _would_key(s: Shown) -> tuple[int, str]:
    return (REJECTED + 1 if s.would is None else s.would.count, _name(s))


def _host_cell(s: Shown) -> Cell:
    b = s.row.blockers or ()
    if not b:
        return ("usable", "good")
    return (f"{len(b)} blocker{'s' if len(b) > 1 else ''}", "bad")


def _would_cell(s: Shown) -> Cell:
    w = s.would
    if w is None:
        return ("…", "dim")
    if w.text == "nothing":
        return ("has all", "good")
    return (w.text, "bad" if w.text.startswith("no:") else "warn")


COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "CPU name",
        _name,
        lambda s: (s.row.cpu.name, "dim" if s.row.cpu.deprecation_note else ""),
    ),
    Column("would", "would need", _would_key, _would_cell),
    Column("host", "on host", _host_key, _host_cell),
    Column(
        "vendor",
        "vendor",
        lambda s: (vendor_label(s.row.cpu.vendor), _name(s)),
        lambda s: (vendor_label(s.row.cpu.vendor), ""),
    ),
    Column(
        "fammod",
        "fam/mod",
        lambda s: (s.row.cpu.family, s.row.cpu.model_number, _name(s)),
        lambda s: (f"{s.row.cpu.family}/{s.row.cpu.model_number}", ""),
    ),
    Column(
        "features",
        "feats",
        lambda s: (len(s.row.features), _name(s)),
        lambda s: (str(len(s.row.features)), ""),
        right=True,
    ),
    Column("kind", "kind", lambda s: (s.row.cpu.kind, _name(s)), lambda s: (s.row.cpu.kind, "")),
    Column(
        "level",
        "level",
        lambda s: (s.row.level, _name(s)),
        lambda s: (f"v{s.row.level}" if s.row.level else "-", ""),
    ),
)


def columns_for(has_host: bool, would_mode: bool) -> tuple[Column, ...]:
    return tuple(
        c for c in COLUMNS if (c.key != "host" or has_host) and (c.key != "would" or would_mode)
    )


def sort_rows(rows: list[Shown], column: str, reverse: bool) -> list[Shown]:
    col = next((c for c in COLUMNS if c.key == column), COLUMNS[0])
    return sorted(rows, key=col.sort_key, reverse=reverse)
