"""Histories (`cpudb history`) as text (ANSI colour on a terminal), Markdown, or JSON.

Plain string building, like cpudb.render.diff: `cpudb history` must start fast.
"""

from __future__ import annotations

from typing import Any

from cpudb.history import Event, History, Step
from cpudb.render.diff import feature_lines, md_refs, ref_json
from cpudb.render.paint import WIDTH, Paint, wrap_words


def _event_json(e: Event) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": e.kind, "message": e.message}
    if e.names:
        d["names"] = list(e.names)
    if e.added or e.removed:
        d["added"] = [ref_json(r) for r in e.added]
        d["removed"] = [ref_json(r) for r in e.removed]
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
        return feature_lines(p, e.added, "+", "") + feature_lines(p, e.removed, "-", "")
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
    lines = wrap_words(e.message.split(" "), "  ", width=width)
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
                items += md_refs(e.added, "+") + md_refs(e.removed, "−")
            else:
                items.append(e.message)
        label = s.version if s.upstream else f"{s.version} (downstream, vs {s.since})"
        out.append(f"| {label} | {'<br>'.join(items) or 'no differences'} |")
    return "\n".join(out) + "\n"
