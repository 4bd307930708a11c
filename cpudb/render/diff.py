"""Diffs as text (ANSI colour on a terminal), Markdown, or JSON-ready dicts.

Plain string building: no rich here, `cpudb diff` must start fast. Every feature is shown
with its CPUID location (`CPUID.80000001H:EDX[26]`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cpudb.diff import CpuDiff, FeatureChange, ReleaseDiff, describe_kind
from cpudb.locations import FeatureRef
from cpudb.render.paint import Paint, wrap_words


def ref_json(r: FeatureRef) -> dict[str, str]:
    return {"name": r.name, "location": r.location, "cpuid": r.cpuid}


def feature_lines(p: Paint, refs: Sequence[FeatureRef], sign: str, indent: str) -> list[str]:
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
        "features_new": [ref_json(r) for r in d.features_new],
        "features_dropped": [ref_json(r) for r in d.features_dropped],
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
        out += wrap_words(("+" + n for n in d.added), "  ", p.add)
    if d.removed:
        section("CPU names removed", len(d.removed))
        out += wrap_words(("-" + n for n in d.removed), "  ", p.rem)
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
            out += wrap_words([n + "," for n in names[:-1]] + names[-1:], "  ", p.bold)
            out += feature_lines(p, c.added, "+", "    ")
            out += feature_lines(p, c.removed, "-", "    ")
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
        out += feature_lines(p, d.features_new, "+", "  ")
    if d.features_dropped:
        section("Features QEMU no longer names", len(d.features_dropped))
        out += feature_lines(p, d.features_dropped, "-", "  ")
    return "\n".join(out) + "\n"


def md_refs(refs: Iterable[FeatureRef], sign: str) -> list[str]:
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
            items = md_refs(c.added, "+") + md_refs(c.removed, "−")
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
        out += feature_lines(p, c.only_in_first, "-", "  ")
    if c.only_in_second:
        out += ["", p.bold(f"Only in {b} ({len(c.only_in_second)})")]
        out += feature_lines(p, c.only_in_second, "+", "  ")
    if c.renamed:
        out += ["", p.bold(f"Same bit, spelled differently ({len(c.renamed)})")]
        out += [f"  = {r.old} -> {r.new}  {p.dim(r.cpuid)}" for r in c.renamed]
    out += ["", p.bold(f"In both ({len(c.common)})")]
    if show_common:
        w = max((len(r.name) for r in c.common), default=0)
        out += [f"    {r.name.ljust(w)}  {p.dim(r.cpuid)}" for r in c.common]
    else:
        out += wrap_words((r.name for r in c.common), "  ")
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
