"""Diffs and histories as text (ANSI colour on a terminal), Markdown, or JSON-ready dicts.

Plain string building: no rich here, `cpudb diff` must start fast. Every feature is shown
with its CPUID location (`CPUID.80000001H:EDX[26]`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from cpudb.diff import CpuDiff, FeatureChange, FeatureRef, ReleaseDiff, describe_kind
from cpudb.history import Event, History, Step

WIDTH = 88


def use_color(stream: TextIO, choice: str = "auto") -> bool:
    """`always`/`never`, or `auto`: a terminal, and neither NO_COLOR nor TERM=dumb set."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Paint:
    """ANSI SGR codes, or nothing."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def add(self, t: str) -> str:
        return self._sgr("32", t)

    def rem(self, t: str) -> str:
        return self._sgr("31", t)

    def chg(self, t: str) -> str:
        return self._sgr("33", t)

    def dim(self, t: str) -> str:
        return self._sgr("2", t)

    def bold(self, t: str) -> str:
        return self._sgr("1", t)


def _wrap(
    words: Iterable[str], indent: str, paint: Callable[[str], str] | None = None, width: int = WIDTH
) -> list[str]:
    """Fill lines with words; `paint` colours each word after measuring it."""
    lines: list[str] = []
    cur: list[str] = []
    size = len(indent)
    for w in words:
        if cur and size + 1 + len(w) > width:
            lines.append(indent + " ".join(cur))
            cur, size = [], len(indent)
        size += len(w) + (1 if cur else 0)
        cur.append(paint(w) if paint else w)
    if cur:
        lines.append(indent + " ".join(cur))
    return lines


def _ref(r: FeatureRef) -> dict[str, str]:
    return {"name": r.name, "location": r.location, "cpuid": r.cpuid}


def _feature_lines(p: Paint, refs: Sequence[FeatureRef], sign: str, indent: str) -> list[str]:
    col = p.add if sign == "+" else p.rem
    width = max((len(r.name) for r in refs), default=0)
    return [f"{indent}{col(sign + ' ' + r.name.ljust(width))}  {p.dim(r.cpuid)}" for r in refs]


def _group(changes: Sequence[FeatureChange]) -> list[tuple[list[str], FeatureChange]]:
    """CPU names with identical changes share one entry (e.g. `Haswell`, `Haswell-v1`)."""
    groups: dict[
        tuple[tuple[FeatureRef, ...], tuple[FeatureRef, ...]], tuple[list[str], FeatureChange]
    ] = {}
    for c in changes:
        groups.setdefault((c.added, c.removed), ([], c))[0].append(c.name)
    return list(groups.values())


# ------------------------------------------------------------------ release diff


def release_diff_json(d: ReleaseDiff) -> dict[str, Any]:
    return {
        "from": d.old,
        "to": d.new,
        "names": list(d.names) if d.names is not None else None,
        "accel": d.accel,
        "added": list(d.added),
        "removed": list(d.removed),
        "nature_changed": [
            {
                "name": n.name,
                "from": n.old_kind,
                "to": n.new_kind,
                "from_alias_of": n.old_alias_of,
                "alias_of": n.new_alias_of,
            }
            for n in d.nature
        ],
        "changed": {
            c.name: {"added": [r.name for r in c.added], "removed": [r.name for r in c.removed]}
            for c in d.changed
        },
        "aliases_moved": [{"name": m.name, "from": m.old, "to": m.new} for m in d.aliases_moved],
        "notes_changed": [
            {"name": n.name, "field": n.field, "from": n.old, "to": n.new} for n in d.notes
        ],
        "renamed": [
            {"location": r.location, "cpuid": r.cpuid, "from": r.old, "to": r.new}
            for r in d.renamed
        ],
        "features_new": [_ref(r) for r in d.features_new],
        "features_dropped": [_ref(r) for r in d.features_dropped],
        "locations": _locations(d),
    }


def _locations(d: ReleaseDiff) -> dict[str, str]:
    """Every feature name used in `changed` -> its location id."""
    out: dict[str, str] = {}
    for c in d.changed:
        for r in (*c.added, *c.removed):
            out.setdefault(r.name, r.location)
    return dict(sorted(out.items()))


def _summary(d: ReleaseDiff) -> str:
    parts = [f"{len(d.added)} CPU names added", f"{len(d.removed)} removed"]
    if d.nature:
        parts.append(f"{len(d.nature)} changed nature")
    parts.append(f"{len(d.changed)} with feature changes")
    if d.renamed:
        parts.append(f"{len(d.renamed)} features renamed")
    if d.names is None:
        parts.append(f"{len(d.features_new)} features newly named")
    return ", ".join(parts)


def release_diff_text(d: ReleaseDiff, color: bool = False) -> str:
    p = Paint(color)
    scope = f" (CPU names: {', '.join(d.names)})" if d.names else ""
    accel = f", with {d.accel} defaults" if d.accel else ""
    out = [p.bold(f"QEMU {d.old} -> {d.new}{scope}{accel}"), _summary(d)]
    if d.empty:
        out.append("No differences.")

    def section(title: str, n: int) -> None:
        out.append("")
        out.append(p.bold(f"{title} ({n})"))

    if d.added:
        section("CPU names added", len(d.added))
        out += _wrap(("+" + n for n in d.added), "  ", p.add)
    if d.removed:
        section("CPU names removed", len(d.removed))
        out += _wrap(("-" + n for n in d.removed), "  ", p.rem)
    if d.nature:
        section("Changed nature (same name, now an alias)", len(d.nature))
        w = max(len(n.name) for n in d.nature)
        out += [
            f"  {p.chg('~ ' + n.name.ljust(w))}  {describe_kind(n.old_kind, n.old_alias_of)}"
            f" -> {describe_kind(n.new_kind, n.new_alias_of)}"
            for n in d.nature
        ]
    if d.changed:
        section("Feature changes", len(d.changed))
        for names, c in _group(d.changed):
            out += _wrap([n + "," for n in names[:-1]] + names[-1:], "  ", p.bold)
            out += _feature_lines(p, c.added, "+", "    ")
            out += _feature_lines(p, c.removed, "-", "    ")
    if d.aliases_moved:
        section("Alias targets moved", len(d.aliases_moved))
        out += [f"  {p.chg('~ ' + m.name)}  {m.old} -> {m.new}" for m in d.aliases_moved]
    if d.notes:
        section("Notes and deprecations changed", len(d.notes))
        out += [
            f"  {p.chg('~ ' + n.name)}  {n.field}: {n.old or '(none)'} -> {n.new or '(none)'}"
            for n in d.notes
        ]
    if d.renamed:
        section("Renamed features (same bit, new spelling; not changes)", len(d.renamed))
        w = max(len(f"{r.old} -> {r.new}") for r in d.renamed)
        out += [f"  = {f'{r.old} -> {r.new}'.ljust(w)}  {p.dim(r.cpuid)}" for r in d.renamed]
    if d.features_new:
        section("Features QEMU newly names", len(d.features_new))
        out += _feature_lines(p, d.features_new, "+", "  ")
    if d.features_dropped:
        section("Features QEMU no longer names", len(d.features_dropped))
        out += _feature_lines(p, d.features_dropped, "-", "  ")
    return "\n".join(out) + "\n"


def _md_refs(refs: Iterable[FeatureRef], sign: str) -> list[str]:
    return [f"{sign}`{r.name}` ({r.cpuid})" for r in refs]


def release_diff_markdown(d: ReleaseDiff) -> str:
    scope = f" (CPU names: {', '.join(d.names)})" if d.names else ""
    accel = f", with {d.accel} defaults" if d.accel else ""
    out = [f"## QEMU {d.old} → {d.new}{scope}{accel}", "", _summary(d) + "."]
    if d.added:
        out += [
            "",
            f"### CPU names added ({len(d.added)})",
            "",
            ", ".join(f"`{n}`" for n in d.added),
        ]
    if d.removed:
        out += [
            "",
            f"### CPU names removed ({len(d.removed)})",
            "",
            ", ".join(f"`{n}`" for n in d.removed),
        ]
    if d.nature:
        out += [
            "",
            f"### Changed nature ({len(d.nature)})",
            "",
            "| CPU name | before | now |",
            "|---|---|---|",
        ]
        out += [
            f"| `{n.name}` | {describe_kind(n.old_kind, n.old_alias_of)} | "
            f"{describe_kind(n.new_kind, n.new_alias_of)} |"
            for n in d.nature
        ]
    if d.changed:
        out += ["", f"### Feature changes ({len(d.changed)})", ""]
        for names, c in _group(d.changed):
            items = _md_refs(c.added, "+") + _md_refs(c.removed, "−")
            out.append(f"- {', '.join(f'`{n}`' for n in names)}: {'; '.join(items)}")
    if d.aliases_moved:
        out += ["", "### Alias targets moved", ""]
        out += [f"- `{m.name}`: `{m.old}` → `{m.new}`" for m in d.aliases_moved]
    if d.notes:
        out += ["", "### Notes and deprecations changed", ""]
        out += [
            f"- `{n.name}` {n.field}: {n.old or '(none)'} → {n.new or '(none)'}" for n in d.notes
        ]
    if d.renamed:
        out += [
            "",
            f"### Renamed features ({len(d.renamed)}; same bit, not changes)",
            "",
            "| location | before | now |",
            "|---|---|---|",
        ]
        out += [f"| {r.cpuid} | `{r.old}` | `{r.new}` |" for r in d.renamed]
    if d.features_new:
        out += ["", f"### Features QEMU newly names ({len(d.features_new)})", ""]
        out += [f"- `{r.name}` ({r.cpuid})" for r in d.features_new]
    if d.features_dropped:
        out += ["", f"### Features QEMU no longer names ({len(d.features_dropped)})", ""]
        out += [f"- `{r.name}` ({r.cpuid})" for r in d.features_dropped]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ CPU name diff


def _side(c: CpuDiff, first: bool) -> dict[str, Any]:
    s = c.first if first else c.second
    return {
        "name": s.name,
        "qemu": s.version,
        "kind": s.kind,
        "alias_of": s.alias_of,
        "feature_count": s.feature_count,
    }


def _label(c: CpuDiff, first: bool) -> str:
    s = c.first if first else c.second
    same = c.first.version == c.second.version
    return s.name if same else f"{s.name}@{s.version}"


def cpu_diff_json(c: CpuDiff) -> dict[str, Any]:
    refs = (*c.only_in_first, *c.only_in_second, *c.common)
    return {
        "first": _side(c, True),
        "second": _side(c, False),
        "accel": c.accel,
        "only_in_first": [r.name for r in c.only_in_first],
        "only_in_second": [r.name for r in c.only_in_second],
        "common": [r.name for r in c.common],
        "renamed": [
            {"location": r.location, "cpuid": r.cpuid, "first": r.old, "second": r.new}
            for r in c.renamed
        ],
        "locations": dict(sorted({r.name: r.location for r in refs}.items())),
    }


def cpu_diff_text(c: CpuDiff, color: bool = False, *, show_common: bool = False) -> str:
    p = Paint(color)
    a, b = _label(c, True), _label(c, False)
    head = f"{a} vs {b}" + (
        f" (QEMU {c.first.version})" if c.first.version == c.second.version else ""
    )
    out = [p.bold(head + (f", with {c.accel} defaults" if c.accel else ""))]
    for s, lab in ((c.first, a), (c.second, b)):
        if s.alias_of:
            out.append(f"  {lab} is the {describe_kind(s.kind, s.alias_of)}")
    out.append(
        f"{len(c.only_in_first)} only in {a}, {len(c.only_in_second)} only in {b}, "
        f"{len(c.common)} in both"
    )
    if c.only_in_first:
        out += ["", p.bold(f"Only in {a} ({len(c.only_in_first)})")]
        out += _feature_lines(p, c.only_in_first, "-", "  ")
    if c.only_in_second:
        out += ["", p.bold(f"Only in {b} ({len(c.only_in_second)})")]
        out += _feature_lines(p, c.only_in_second, "+", "  ")
    if c.renamed:
        out += ["", p.bold(f"Same bit, spelled differently ({len(c.renamed)})")]
        out += [f"  = {r.old} -> {r.new}  {p.dim(r.cpuid)}" for r in c.renamed]
    out += ["", p.bold(f"In both ({len(c.common)})")]
    if show_common:
        w = max((len(r.name) for r in c.common), default=0)
        out += [f"    {r.name.ljust(w)}  {p.dim(r.cpuid)}" for r in c.common]
    else:
        out += _wrap((r.name for r in c.common), "  ")
    return "\n".join(out) + "\n"


def cpu_diff_markdown(c: CpuDiff) -> str:
    a, b = _label(c, True), _label(c, False)
    out = [
        f"## `{a}` vs `{b}`",
        "",
        f"{len(c.only_in_first)} only in `{a}`, {len(c.only_in_second)} only in `{b}`, "
        f"{len(c.common)} in both.",
        "",
    ]
    out += ["| feature | location | " + f"`{a}` | `{b}` |", "|---|---|:-:|:-:|"]
    out += [f"| `{r.name}` | {r.cpuid} | ✓ | |" for r in c.only_in_first]
    out += [f"| `{r.name}` | {r.cpuid} | | ✓ |" for r in c.only_in_second]
    if c.renamed:
        out += [
            "",
            "Same bit, spelled differently: "
            + ", ".join(f"`{r.old}` → `{r.new}`" for r in c.renamed),
        ]
    out += ["", "In both: " + ", ".join(f"`{r.name}`" for r in c.common)]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ histories


def _event_json(e: Event) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": e.kind, "message": e.message}
    if e.names:
        d["names"] = list(e.names)
    if e.added or e.removed:
        d["added"] = [_ref(r) for r in e.added]
        d["removed"] = [_ref(r) for r in e.removed]
    return d


def _step_json(h: History, s: Step) -> dict[str, Any]:
    if s.gap:
        return {"version": s.version, "gap": True, "note": s.note}
    d: dict[str, Any] = {
        "version": s.version,
        "gap": False,
        "upstream": s.upstream,
        "since": s.since,
        "present": s.present,
    }
    if h.what == "cpu":
        d.update(kind=s.label, feature_count=s.count, nature=s.note)
    else:
        d.update(name=s.label, cpu_count=s.count, have=list(s.have))
    d["events"] = [_event_json(e) for e in s.events]
    return d


def history_json(h: History) -> dict[str, Any]:
    d: dict[str, Any] = {"subject": h.subject, "what": h.what}
    if h.what == "feature":
        d.update(
            location=h.location,
            cpuid=h.cpuid,
            model=h.model,
            family=list(h.family) if h.model else None,
        )
    d.update(
        downstream=h.downstream, gaps=list(h.gaps), timeline=[_step_json(h, s) for s in h.steps]
    )
    return d


def _title(h: History) -> str:
    ups = [s for s in h.releases if s.upstream]
    span = (
        f"{len(ups)} upstream releases ({ups[0].version} … {ups[-1].version})"
        if ups
        else "no upstream release"
    )
    if h.what == "cpu":
        return f"{h.subject}: history over {span}"
    scope = f", for {h.model}" if h.model else ""
    if h.model and len(h.family) > 1:
        n = len(h.family) - 1
        scope += f" and the {n} CPU name{'s' if n > 1 else ''} built from it"
    return f"{h.subject} ({h.cpuid}){scope}: history over {span}"


def _presence(h: History) -> str:
    present = [s.version for s in h.releases if s.present and s.upstream]
    if not present:
        return "never present in an upstream release"
    what = "accepted" if h.what == "cpu" else "named by QEMU"
    return (
        f"{what} in {len(present)} upstream releases, {present[0]} … {present[-1]}; "
        "releases not listed changed nothing"
    )


def _event_lines(p: Paint, e: Event, width: int = WIDTH) -> list[str]:
    if e.kind == "features":
        return _feature_lines(p, e.added, "+", "") + _feature_lines(p, e.removed, "-", "")
    mark = {
        "appeared": p.add("+"),
        "named": p.add("+"),
        "gained": p.add("+"),
        "new_with": p.add("+"),
        "reappeared": p.add("+"),
        "removed": p.rem("-"),
        "unnamed": p.rem("-"),
        "lost": p.rem("-"),
        "gone_with": p.rem("-"),
        "new_without": p.dim("·"),
    }.get(e.kind, p.chg("~"))
    lines = _wrap(e.message.split(" "), "  ", width=width)
    return [f"{mark} {lines[0][2:]}", *lines[1:]]


def history_text(h: History, color: bool = False) -> str:
    p = Paint(color)
    out = [p.bold(_title(h)), _presence(h)]
    if h.gaps:
        out.append(
            p.chg(
                f"missing from the database: {', '.join(h.gaps)}; a change listed "
                "after a gap may have happened in it"
            )
        )
    out.append("")
    width = max((len(s.version) for s in h.steps), default=6) + 2
    for s in h.steps:
        if s.gap:
            out.append(f"  {p.chg(s.version.ljust(width))}{p.chg('gap: not in the database')}")
            continue
        if not s.events and s.upstream:
            continue
        head = s.version
        lines = [ln for e in s.events for ln in _event_lines(p, e, WIDTH - 2 - width)]
        if not s.upstream:
            lines.insert(
                0,
                p.dim(
                    f"downstream, compared with {s.since or '(nothing)'}"
                    + ("" if s.events else ": no differences")
                ),
            )
        pad = " " * (2 + width)
        for i, ln in enumerate(lines):
            out.append(f"  {head.ljust(width)}{ln}" if i == 0 else pad + ln)
    return "\n".join(out) + "\n"


def history_markdown(h: History) -> str:
    out = [f"## {_title(h)}", "", _presence(h) + "."]
    if h.gaps:
        out.append(f"Missing from the database: {', '.join(h.gaps)}.")
    out += ["", "| release | changes |", "|---|---|"]
    for s in h.steps:
        if s.gap:
            out.append(f"| {s.version} | *gap: {s.note}* |")
            continue
        if not s.events and s.upstream:
            continue
        items: list[str] = []
        for e in s.events:
            if e.kind == "features":
                items += _md_refs(e.added, "+") + _md_refs(e.removed, "−")
            else:
                items.append(e.message)
        label = s.version if s.upstream else f"{s.version} (downstream, vs {s.since})"
        out.append(f"| {label} | {'<br>'.join(items) or 'no differences'} |")
    return "\n".join(out) + "\n"
