"""QEMU's recommended flags (docs/system/cpu-models-x86.rst, data/qemu-recommended-flags.json):
which flags the docs recommend for a release, and which of them a candidate can take.

Pure: the parsed data file and a release's names in; the flags a candidate gains, and
why the others are skipped, out. `cpudb advise --recommended` adds them only where every
host can give them, through the same planner (dependencies, vendor rules) as the needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cpudb.decide.core import Candidate
from cpudb.decide.offer import Offer
from cpudb.decide.plan import Add, Planner, vendor_group
from cpudb.record import Record, replace

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any


class RecommendedFlag(Record):
    """A flag QEMU's documentation recommends for one vendor's models."""

    name: str  # QEMU name in this release
    summary: str
    excludes: tuple[str, ...] = ()


def pick_recommended(
    data: dict[str, Any], version: str, resolve: Callable[[str], str | None]
) -> tuple[str | None, dict[str, tuple[RecommendedFlag, ...]]]:
    """From `data/qemu-recommended-flags.json` (parsed): the list of the newest release
    documented not after `version` (else the oldest), with names resolved in the release
    asked about (`resolve`: QEMU name -> this release's name, None when it has none)."""
    from cpudb.versions import version_key

    releases = data.get("releases", {})
    if not releases:
        return None, {}
    key = version_key(version)[0]
    ordered = sorted(releases, key=version_key)
    older = [v for v in ordered if version_key(v)[0] <= key]
    used = older[-1] if older else ordered[0]
    out: dict[str, tuple[RecommendedFlag, ...]] = {}
    for vendor, flags in releases[used].get("vendors", {}).items():
        group = {"intel": "Intel", "amd": "AMD"}.get(vendor, vendor)
        items = []
        for f in flags:
            name = resolve(f["name"])
            if name is not None:
                excludes = tuple(x for x in (resolve(e) for e in f.get("excludes", ())) if x)
                items.append(RecommendedFlag(name, f.get("summary", ""), excludes))
        out[group] = tuple(items)
    return used, out


def with_recommended(
    c: Candidate,
    recommended: dict[str, tuple[RecommendedFlag, ...]],
    planner: Planner,
    offers: Sequence[Offer],
) -> Candidate:
    """`c` with the recommended flags of its vendor that every offer can give added (its
    `extras`, in its features), and the others with the reason (`extras_skipped`)."""
    extras, skipped = _recommended(c, recommended, planner, offers)
    if not extras and not skipped:
        return c
    feats = planner.builder.guest(c.features, [a.name for a in extras]) if extras else c.features
    return replace(c, extras=extras, extras_skipped=skipped, features=feats)


def _recommended(
    c: Candidate,
    recommended: dict[str, tuple[RecommendedFlag, ...]],
    planner: Planner,
    offers: Sequence[Offer],
) -> tuple[tuple[Add, ...], tuple[tuple[str, str], ...]]:
    flags = recommended.get(vendor_group(c.vendor), ())
    guest = c.features
    if not offers:
        return (), tuple(
            (r.name, "no host given to check it against") for r in flags if r.name not in guest
        )
    cpu = planner.release.cpu(c.name)
    assert cpu is not None
    ok: list[RecommendedFlag] = []
    skipped: list[tuple[str, str]] = []
    for r in flags:
        if r.name in guest:
            continue
        unsure = planner.unknown_on(r.name)
        if unsure:
            skipped.append(
                (
                    r.name,
                    f"the data of {', '.join(unsure)} cannot tell whether it "
                    "has it (an MSR bit, or a leaf the dump lacks): add it by hand "
                    "if the host has it",
                )
            )
            continue
        bad = planner.why_not(r.name, cpu)
        if bad:
            skipped.append((r.name, bad))
        else:
            ok.append(r)
    excluded = {x for r in ok for x in r.excludes} | {
        x for r in flags if r.name in guest for x in r.excludes
    }
    adds: list[Add] = []
    for r in ok:
        if r.name in excluded:
            winner = next(o.name for o in (*ok, *flags) if r.name in o.excludes)
            skipped.append((r.name, f"QEMU's docs: mutually exclusive with {winner}"))
            continue
        more, bad = planner.plan(
            cpu, [(r.name, f"recommended: {r.summary}")], guest | {a.name for a in adds}
        )
        if bad:
            skipped.append((r.name, bad))
        else:
            adds.extend(more)
    return tuple(adds), tuple(skipped)
