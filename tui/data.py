"""What the screens ask the library for.

Loaders take the `Db` first and run in the database thread (`DbThread.call(loader, ...)`);
the others are pure and quick. All of them call the library's public API (the same calls
the CLI commands make) and return frozen dataclasses; the screens only present them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cpudb import levels
from cpudb.app.inputs import resolve_needs, split_list
from cpudb.describe import filter_models
from cpudb.errors import CpudbError
from cpudb.model import CpuName, Release
from cpudb.versions import version_key

if TYPE_CHECKING:  # the advisor, host and diff modules load when first used
    from cpudb.advise import Advice, Need
    from cpudb.decide.offer import Offer
    from cpudb.describe import FeatureView
    from cpudb.diff import CpuDiff
    from cpudb.query import Db


@dataclass(frozen=True)
class ModelRow:
    """One CPU name of the browse table."""

    cpu: CpuName
    features: frozenset[str]
    level: int
    blockers: tuple[str, ...] | None  # host blockers under KVM; None when no host is loaded


@dataclass(frozen=True)
class ReleaseChoice:
    version: str
    label: str


@dataclass(frozen=True)
class HostInfo:
    spec: str
    label: str
    brand: str
    host: Offer  # what KVM offers a guest on it, as the advisor takes it


@dataclass(frozen=True)
class ReleaseData:
    release: Release
    choices: tuple[ReleaseChoice, ...]  # newest first
    rows: tuple[ModelRow, ...]
    host: HostInfo | None

    @property
    def version(self) -> str:
        return self.release.version

    def row(self, name: str) -> ModelRow | None:
        return next((r for r in self.rows if r.cpu.name == name), None)


def release_choices(db: Db) -> tuple[ReleaseChoice, ...]:
    infos = sorted(db.versions(), key=lambda i: version_key(i.version), reverse=True)
    return tuple(
        ReleaseChoice(i.version, i.version if i.upstream else f"{i.version} (downstream)")
        for i in infos
    )


def host_label(spec: str) -> str:
    return Path(spec).name if "/" in spec else spec


def load_release(db: Db, qemu: str | None, host_spec: str | None) -> ReleaseData:
    """A release's CPU names with their x86-64 level and, with a host, their KVM blockers."""
    release = db.release(qemu)
    pairs = filter_models(release)
    host: HostInfo | None = None
    lacking: dict[str, tuple[str, ...]] | None = None
    if host_spec:
        from cpudb.app.inputs import load_hosts
        from cpudb.decide.guest import GuestBuilder

        (h,) = load_hosts([host_spec], db, release)
        host = HostInfo(host_spec, host_label(host_spec), _brand(db, host_spec), h)
        guest = GuestBuilder(release, "kvm").guest
        lacking = {c.name: h.lacks(guest(c.features)) for c, _ in pairs}
    rows = tuple(
        ModelRow(c, f, levels.level(release, f), None if lacking is None else lacking[c.name])
        for c, f in pairs
    )
    return ReleaseData(release, release_choices(db), rows, host)


def _brand(db: Db, spec: str) -> str:
    from cpudb.host_load import load_host

    cpu = load_host(spec, db)
    return cpu.brand or cpu.vendor


def check_host(db: Db, spec: str) -> str:
    """Load a host once to report a bad spec early (the CLI calls this before starting)."""
    return _brand(db, spec)


@dataclass(frozen=True)
class Needs:
    needs: tuple[Need, ...]
    problems: tuple[str, ...]  # one sentence per word that names no feature

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.needs)


def parse_needs(release: Release, text: str) -> Needs:
    """Words of a needs box (`pdpe1gb la57`, `x86-64-v3`, CPUID locations) → the release's
    features, as `cpudb advise --needs` reads them; a word that names nothing is reported
    (while the rest still applies), since the box is read at every keystroke."""
    found: list[Need] = []
    problems: list[str] = []
    for word in split_list([text]):
        try:
            got = resolve_needs(release, [word])
        except CpudbError as e:
            problems.append(str(e).removeprefix("--needs: "))
            continue
        found += [n for n in got if all(n.name != f.name for f in found)]
    return Needs(tuple(found), tuple(problems))


def models_with(release: Release, needs: Needs) -> set[str]:
    """CPU names that have every need (`cpudb models --has`)."""
    return {c.name for c, _ in filter_models(release, has=list(needs.names))}


def advice_for(release: Release, needs: Needs, host: HostInfo | None, keep_blocked: bool) -> Advice:
    """`cpudb advise --needs ... [--host H]` for the release (pure; ~50 ms: run in a worker)."""
    from cpudb import facts
    from cpudb.advise import advise

    hosts = () if host is None else (host.host,)
    return advise(
        release,
        list(needs.needs),
        hosts=hosts,
        keep_blocked=keep_blocked,
        **facts.for_advice(release, hosts),
    )


def load_feature(db: Db, version: str, text: str) -> FeatureView:
    """One feature: where it lives, which CPU names have it, since when."""
    from cpudb.describe import describe_feature
    from cpudb.names import FeatureNames

    release = db.release(version)
    location = FeatureNames(release).lookup(text).location
    return describe_feature(
        release, text, db.feature_timeline(location), db.feature_catalogue(location)
    )


@dataclass(frozen=True)
class Side:
    name: str
    version: str


def parse_side(text: str, default_version: str) -> Side:
    """`Haswell` or `Haswell@7.2` (a CPU name, optionally in another release)."""
    name, _, version = text.strip().partition("@")
    if not name.strip():
        raise CpudbError(f"{text!r}: no CPU name", hint="e.g. Haswell-v4 or Haswell@7.2")
    return Side(name.strip(), version.strip() or default_version)


def load_compare(db: Db, first: Side, second: Side) -> CpuDiff:
    """Two CPU names side by side, in one release or across two (`cpudb diff A B`)."""
    from cpudb.diff import diff_cpus

    a = db.release(first.version)
    b = db.release(second.version)
    return diff_cpus(a, first.name, b, second.name)
