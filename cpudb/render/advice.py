"""Present an `Advice`: readable text with the reasoning, JSON and the `-cpu` argument
(the configurations for libvirt, Nova, Proxmox and KubeVirt: `cpudb.render.configs`).
No I/O besides the returned strings; the command prints them."""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.advice_notes import Impossible
from cpudb.advise import Advice, Candidate, Need
from cpudb.decide.rank import Coverage

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.guest_os import GuestOs
    from cpudb.probe import Verified

# ------------------------------------------------------------------ JSON


def need_json(n: Need, since: dict[str, str] | None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "text": n.text,
        "name": n.name,
        "location": n.location,
        "cpuid": n.where,
        "linux_name": n.linux_name,
        "description": n.description,
    }
    if n.via:
        d["via"] = n.via
    if since is not None:
        d["since"] = since
    return d


def candidate_json(c: Candidate, since: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "model": c.name,
        "model_family": c.model,
        "version": c.version,
        "vendor": c.vendor,
        "aka": list(c.aka),
        "native": c.native,
        "adds": [a.name for a in c.adds],
        "extras": [a.name for a in c.extras],
        "why": {a.name: a.why for a in (*c.adds, *c.extras)},
        "extras_skipped": [{"flag": f, "why": w} for f, w in c.extras_skipped],
        "cpu": c.cpu(),
        "qemu_args": f"-cpu {c.cpu(enforce=True)}",
        "blockers": [{"host": h, "missing": list(b)} for h, b in c.blockers],
        "level": c.level,
        "closeness": c.closeness,
        "coverage": coverage_json(c.coverage),
        "deprecated": c.deprecated,
        "since": {n: s[c.name] for n, s in (since or {}).items() if c.name in s},
        "reasons": list(c.reasons),
        "notes": list(c.notes),
    }


def coverage_json(cov: Coverage | None) -> dict[str, Any] | None:
    if cov is None:
        return None
    return {
        "runs": cov.runs,
        "may_run": cov.may,
        "able": cov.able,
        "catalogued": cov.total,
        "share": round(cov.share, 3),
        "since": {vendor: year for vendor, year in cov.since},
        "misses": list(cov.misses),
    }


def to_json(
    a: Advice,
    *,
    since_model: dict[str, dict[str, str]] | None = None,
    since_name: dict[str, dict[str, str]] | None = None,
    qemu_from: str = "",
    here: Advice | None = None,
) -> dict[str, Any]:
    """`since_model`: need -> model -> first release; `since_name`: need -> CPU name -> first.
    `qemu_from`: why this release; `here`: the same advice for this machine alone."""
    out = {
        "qemu": a.qemu,
        "qemu_from": qemu_from,
        "accel": a.accel,
        "needs": [need_json(n, (since_model or {}).get(n.name)) for n in a.needs],
        "guest_os": [{"name": g.name, "title": g.title, "source": g.source} for g in _guests(a)],
        "hosts": list(a.hosts),
        "candidates": [candidate_json(c, since_name) for c in a.candidates],
        "dropped": a.dropped,
        "rejected": [{"model": r.name, "why": r.reason} for r in a.rejected],
        "impossible": list(a.impossible),
        "impossible_reasons": [reason_json(r) for r in a.reasons],
        "policy": a.policy,
        "ranking": list(a.ranking),
        "notes": list(a.notes),
    }
    if here is not None:
        best = here.best
        out["this_machine"] = {
            "host": here.hosts[0] if here.hosts else "this machine",
            "cpu": best.cpu(enforce=True) if best else None,
            "never_migrates": None if here.lacking else "host",
            "impossible": list(here.impossible),
            "impossible_reasons": [reason_json(r) for r in here.reasons],
        }
    return out


def reason_json(r: Impossible) -> dict[str, object]:
    d: dict[str, object] = {"kind": r.kind, "text": r.text}
    for key in ("need", "cpu", "accel", "count"):
        if getattr(r, key) is not None:
            d[key] = getattr(r, key)
    if r.hosts:
        d["hosts"] = list(r.hosts)
    return d


# ------------------------------------------------------------------ text


def _by_model(cands: Sequence[Candidate]) -> list[tuple[Candidate, list[str]]]:
    """One row per model: its best-ranked name, and its other names in rank order."""
    rows: dict[str, tuple[Candidate, list[str]]] = {}
    for c in cands:
        if c.model in rows:
            rows[c.model][1].append(c.name)
        else:
            rows[c.model] = (c, [])
    return list(rows.values())


def _since_line(n: Need, since: dict[str, str] | None, limit: int = 6) -> str | None:
    if not since:
        return None
    items = sorted(since.items(), key=lambda kv: kv[0].lower())
    shown = ", ".join(f"{m} {v}" for m, v in items[:limit])
    more = f", +{len(items) - limit} more" if len(items) > limit else ""
    return f"models that have {n.name} natively, since QEMU: {shown}{more}"


def _guests(a: Advice) -> list[GuestOs]:
    """The guest OSes the needs came from (`--needs rhel9`), once each."""
    from cpudb.guest_os import lookup

    found = (lookup((n.via or "").split(" = ")[0]) for n in a.needs if n.via)
    return list({g.name: g for g in found if g is not None}.values())


def _here_lines(here: Advice) -> list[str]:
    """The answer for this machine alone (its KVM asked), and `-cpu host`."""
    best = here.best
    if best is not None:
        lines = [f"This machine:  -cpu {best.cpu(enforce=True)}   (what its KVM gives a guest)"]
    else:
        why = here.impossible[0] if here.impossible else "no CPU name works"
        lines = [f"This machine:  none works: {why}"]
        lines += [f"               {s}" for s in here.impossible[1:3]]
    if not here.lacking:
        lines.append(
            "               -cpu host: everything this machine's KVM gives, for a guest "
            "that never migrates"
        )
    return lines


def text(
    a: Advice,
    *,
    limit: int = 8,
    show_all: bool = False,
    since_model: dict[str, dict[str, str]] | None = None,
    qemu_from: str = "",
    here: Advice | None = None,
) -> str:
    out: list[str] = []
    needs = ", ".join(n.name for n in a.needs)
    hosts = f" on {', '.join(a.hosts)}" if a.hosts else ""
    out.append(f"QEMU {a.qemu}, {a.accel.upper()}{hosts}: -cpu for a guest that needs {needs}")
    if qemu_from:
        out.append(f"  (QEMU {a.qemu}: {qemu_from})")
    out.append("")
    out.append("Needs")
    for n in a.needs:
        desc = f": {n.description}" if n.description else ""
        linux = f", Linux /proc/cpuinfo: {n.linux_name}" if n.linux_name else ""
        via = f" (from {n.via})" if n.via else ""
        out.append(f"  {n.name}{via}  {n.where} = {n.location}{linux}{desc}")
        line = _since_line(n, (since_model or {}).get(n.name))
        if line:
            out.append(f"    {line}")
    out += [f"  {g.name}: {g.source}" for g in _guests(a)]
    out.append("")
    best = a.best
    if best is None:
        out.append("No CPU name works:")
        out += [f"  - {s}" for s in a.impossible]
        out.append("")
        out += _notes(a)
        return "\n".join(out) + "\n"
    out.append(f"Best:  -cpu {best.cpu(enforce=True)}")
    if a.policy == "portable" and best.coverage is not None:
        out.append(f"       {best.coverage.text()}")
        out.append(
            "       (no host given, so ranked for the most real hosts; --host FILE, "
            "--this-host or --qmp rank for yours)"
        )
    if here is not None:
        out += _here_lines(here)
    out.append("")
    runs = [c for c in a.candidates if not c.blockers]
    blocked = [c for c in a.candidates if c.blockers]
    rank = 0
    for title, group in (("Candidates in rank order", runs), ("Blocked on a host", blocked)):
        if not group:
            continue
        rows = [(c, []) for c in group] if show_all else _by_model(group)
        out.append(
            f"{title}: {len(group)} CPU names"
            + ("" if show_all else f" of {len(rows)} models, best version of each")
        )
        for c, others in rows[: None if show_all else limit]:
            rank += 1
            lvl = f"x86-64-v{c.level}" if c.level else "not x86-64"
            out.append(f"  {rank:>2}. {c.cpu()}   [{lvl}]")
            out.append(f"      {'; '.join(c.reasons)}")
            if c.extras:
                out.append(
                    f"      recommended by QEMU's docs, every host has them: "
                    f"{', '.join(a.name for a in c.extras)}"
                )
            for note in c.notes:
                out.append(f"      note: {note}")
            if c is a.best:
                for f, why in c.extras_skipped:
                    out.append(f"      recommended {f} not added: {why}")
            if others:
                out.append(f"      other versions, in rank order: {', '.join(others)}")
        if not show_all and len(rows) > limit:
            out.append(f"      ... {len(rows) - limit} more models (--all lists every name)")
        out.append("")
    if a.dropped:
        out.append(f"{a.dropped} CPU names dropped: blocked on a host (--all keeps them, marked)")
        out.append("")
    out += _notes(a)
    return "\n".join(out) + "\n"


def _notes(a: Advice) -> list[str]:
    out: list[str] = []
    if a.candidates:  # the ranking explains an order; with no candidate there is none
        out = ["Ranking, in order:"]
        out += [f"  {i}. {r}" for i, r in enumerate(a.ranking, 1)]
    out.append("Notes:")
    out += [f"  - {n}" for n in a.notes]
    return out


# ------------------------------------------------------------------ configs


def qemu_arg(c: Candidate) -> str:
    return f"-cpu {c.cpu(enforce=True)}"


def verified_text(verified: Sequence[Verified]) -> str:
    """`advise --verify`: each answer booted in the probe guest here."""
    if not verified:
        return "\nVerified: nothing to boot (no answer).\n"
    lines = ["", "Verified on this machine (booted in the probe guest, `cpudb probe`):"]
    for v in verified:
        mark = "proven" if v.proven else "NOT proven"
        p = v.probe
        lines.append(f"  {v.role}: -cpu {v.cpu} under {v.accel.upper()}, QEMU {p.qemu}: {mark}")
        lines.append(f"    {v.why}")
    return "\n".join(lines) + "\n"
