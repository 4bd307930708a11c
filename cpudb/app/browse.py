"""The TUI's use cases: a release's CPU names to browse (with a host's KVM blockers),
the needs box read at every keystroke, and the advisor's answer for it.

Loaders take the `Db` first and run in the TUI's database thread; the others are pure
and quick. They return records; the screens only present them."""

from __future__ import annotations

from pathlib import Path

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.advise import Advice, Need
    from cpudb.app.lookup import ModelRow
    from cpudb.decide.offer import Offer
    from cpudb.model import Release
    from cpudb.query import Db


class ReleaseChoice(Record):
    version: str
    label: str


class HostInfo(Record):
    spec: str
    label: str
    brand: str
    host: Offer  # what KVM offers a guest on it, as the advisor takes it


class ReleaseData(Record):
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
    from cpudb.versions import version_key

    infos = sorted(db.versions(), key=lambda i: version_key(i.version), reverse=True)
    return tuple(
        ReleaseChoice(i.version, i.version if i.upstream else f"{i.version} (downstream)")
        for i in infos
    )


def host_label(spec: str) -> str:
    return Path(spec).name if "/" in spec else spec


def load_release(db: Db, qemu: str | None, host_spec: str | None) -> ReleaseData:
    """A release's CPU names with their x86-64 level and, with a host, their KVM blockers."""
    from cpudb.app.inputs import load_hosts
    from cpudb.app.lookup import model_rows

    release = db.release(qemu)
    host: HostInfo | None = None
    if host_spec:
        (offer,) = load_hosts([host_spec], db, release)
        host = HostInfo(host_spec, host_label(host_spec), host_brand(db, host_spec), offer)
    rows = model_rows(release, host=None if host is None else host.host)
    return ReleaseData(release, release_choices(db), rows, host)


def host_brand(db: Db, spec: str) -> str:
    """The host's brand string (else vendor); loading it reports a bad spec early (the
    CLI calls this before the TUI starts)."""
    from cpudb.host_load import load_host

    cpu = load_host(spec, db)
    return cpu.brand or cpu.vendor


def vendor_label(vendor: str) -> str:
    """A CPUID vendor string as people say it: Intel, AMD, Hygon, Zhaoxin."""
    from cpudb.describe import VENDORS

    for short, strings in VENDORS.items():
        if vendor in strings:
            return "AMD" if short == "amd" else short.capitalize()
    return vendor.strip()


class Needs(Record):
    needs: tuple[Need, ...]
    problems: tuple[str, ...]  # one sentence per word that names no feature

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.needs)


def parse_needs(release: Release, text: str) -> Needs:
    """Words of a needs box (`pdpe1gb la57`, `x86-64-v3`, CPUID locations) → the release's
    features, as `cpudb advise --needs` reads them; a word that names nothing is reported
    (while the rest still applies), since the box is read at every keystroke."""
    from cpudb.app.inputs import resolve_needs, split_list
    from cpudb.errors import CpudbError

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
    from cpudb.describe import filter_models

    return {c.name for c, _ in filter_models(release, has=list(needs.names))}


def advice_for(release: Release, needs: Needs, host: HostInfo | None, keep_blocked: bool) -> Advice:
    """`cpudb advise --needs ... [--host H]` for the release (pure; ~50 ms: run in a worker)."""
    from cpudb.app.advise import Options, advise_loaded

    hosts = () if host is None else (host.host,)
    return advise_loaded(release, needs.needs, hosts, Options(keep_blocked=keep_blocked))
