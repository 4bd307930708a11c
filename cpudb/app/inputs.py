"""The inputs every use case reads: needs in any spelling, hosts by spec, QEMU's
recommended flags. Loading only (files, the database, this machine's KVM); the decisions
live below (cpudb.advise, cpudb.decide)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.advise import Need
    from cpudb.decide.offer import Offer
    from cpudb.host_features import HostFeatures
    from cpudb.installed import Choice
    from cpudb.model import Feature, Release
    from cpudb.query import Db
    from cpudb.recommended import RecommendedFlag


def split_list(values: list[str] | None) -> list[str]:
    """`--has a,b --has c` and `--has "a b"` -> [a, b, c]."""
    out: list[str] = []
    for v in values or []:
        out.extend(x for x in v.replace(",", " ").split() if x)
    return out


def connect(db: Db | None, path: str | None) -> Db:
    """The database a caller holds (the TUI's thread), else the one at `path` (--db)."""
    from cpudb.query import open_db

    return db if db is not None else open_db(path)


def pick_release(db: Db, query: str | None) -> tuple[Release, Choice]:
    """`--qemu`, else the installed QEMU's release, else the newest (`cpudb.installed`)."""
    from cpudb.installed import choose_release

    choice = choose_release(db, query)
    return db.release(choice.version), choice


def resolve_needs(release: Release, texts: list[str]) -> list[Need]:
    """Needs in any spelling -> `advise.Need`s of this release (NotFound: exit 2)."""
    from cpudb.advise import Need
    from cpudb.errors import CpudbError, NotFound
    from cpudb.names import FeatureNames, extra_names

    names: FeatureNames | None = None
    info = extra_names()
    by_loc = {f.location: f for f in release.features}
    out: list[Need] = []

    def need(f: Feature, text: str, via: str | None = None) -> Need:
        w = release.word(f.word)
        extra = info.get(f.location, {})
        return Need(
            text=text,
            name=f.name,
            location=f.location,
            where=w.describe(f.bit) if w else f.location,
            linux_name=extra.get("linux_name"),
            description=extra.get("description"),
            via=via,
        )

    from cpudb import guest_os

    expanded: list[tuple[str, str | None]] = []
    for t in texts:
        g = guest_os.lookup(t)
        expanded += [(x, g.name) for x in g.needs] if g else [(t, None)]
    for t, guest in expanded:
        if t.lower().startswith("x86-64-v"):
            from cpudb import levels

            lvl = levels.parse_level(t)
            for n in range(1, lvl + 1):
                for qname, loc in levels.LEVELS[n]:
                    f = by_loc.get(loc)
                    if f is None:
                        raise CpudbError(
                            f"--needs {t}: QEMU {release.version} has no name for {qname} ({loc})",
                            hint="try a newer --qemu",
                        )
                    out.append(need(f, qname, via=f"{guest} = {t}" if guest else t))
            continue
        f = release.feature(t)
        if f is None:
            names = names or FeatureNames(release)
            try:
                f = names.lookup(t)
            except NotFound as e:
                raise NotFound(f"--needs: {e.message}", hint=e.hint) from None
        out.append(need(f, t, via=guest))
    first: dict[str, Need] = {}
    for each in out:
        first.setdefault(each.name, each)  # the first of each name, in order
    return list(first.values())


def load_hosts(specs: list[str], db: Db | None, release: Release) -> list[Offer]:
    """Hosts by spec (stored NAME, FILE of one or many hosts, - for stdin, this-host,
    qmp), as what KVM offers a guest there in `release`. Identical CPUs (the same reading
    from different files or nodes) are decoded once."""
    if not specs:
        return []
    from pathlib import Path

    from cpudb.decide.offer import kvm_offer
    from cpudb.host_cpu import same_reading
    from cpudb.host_load import load_hosts as read_hosts

    hosts: list[Offer] = []
    seen: set[str] = set()
    decoded: dict[tuple[Any, ...], HostFeatures] = {}
    for spec in specs:
        found = read_hosts(spec, db)
        for label, cpu in found:
            if spec in ("this-host", "qmp"):
                name = "this machine" + (" (QEMU's host model)" if spec == "qmp" else "")
            elif spec == "-" and len(found) == 1:
                name = (cpu.brand or spec).strip()
            elif len(found) > 1:
                name = label
            else:
                name = Path(spec).name if Path(spec).is_file() else spec
            if name in seen:
                name = f"{name}#{len(hosts) + 1}"
            seen.add(name)
            key = same_reading(cpu)
            if key not in decoded:
                decoded[key] = cpu.features_in(release)
            hosts.append(kvm_offer(name, cpu.vendor, decoded[key], cpu.source))
    return hosts


def load_recommended(
    release: Release,
) -> tuple[str | None, dict[str, tuple[RecommendedFlag, ...]]]:
    """QEMU's recommended flags per model (data/qemu-recommended-flags.json) for `release`."""
    import json

    from cpudb.paths import shipped_data_dir
    from cpudb.recommended import pick_recommended

    path = shipped_data_dir() / "qemu-recommended-flags.json"
    if not path.exists():
        from cpudb.errors import CpudbError

        raise CpudbError(
            f"{path}: missing",
            hint="python -m cpudb.scrapers.qemu_docs --source QEMU_TREE --out data/",
        )
    data = json.loads(path.read_text(encoding="utf-8"))

    def resolve(name: str) -> str | None:
        f = release.feature(name)
        return f.name if f else None

    return pick_recommended(data, release.version, resolve)


def vendors(texts: list[str]) -> list[str]:
    """--vendor values (intel, amd, GenuineIntel, ...) -> CPUID vendor strings."""
    from cpudb.describe import vendor_strings

    out: list[str] = []
    for v in texts:
        out += vendor_strings(v)
    return out
