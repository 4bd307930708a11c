"""The catalogue use cases: one CPU name (`show`), the CPU names that pass filters
(`models`, the TUI's browse table), one feature (`feature`). Each takes its request and,
when the caller already holds one (the TUI's database thread), the open database."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.decide.offer import Offer
    from cpudb.describe import CpuView, FeatureView
    from cpudb.installed import Choice
    from cpudb.model import CpuName, Release
    from cpudb.query import Db


class ShowRequest(Record):
    name: str  # a CPU name as -cpu takes it
    qemu: str | None = None  # release query (None: the installed QEMU's, else the newest)
    accel: str | None = None  # apply that accelerator's default properties
    libvirt: str | None = None  # libvirt release whose definition of the model to show
    db: str | None = None


def show_case(req: ShowRequest, db: Db | None = None) -> CpuView:
    from cpudb.app.inputs import connect, pick_release

    release, _ = pick_release(connect(db, req.db), req.qemu)
    return show_cpu(release, req.name, req.accel, req.libvirt)


def show_cpu(
    release: Release, name: str, accel: str | None = None, libvirt: str | None = None
) -> CpuView:
    """One CPU name of a loaded release, or libvirt `libvirt`'s model in its names."""
    from cpudb.describe import describe_cpu

    if libvirt:
        from cpudb.libvirt_releases import as_cpu

        return describe_cpu(release, as_cpu(release, name, libvirt), accel)
    return describe_cpu(release, name, accel)


class ModelRow(Record):
    """One CPU name that passed the filters, as `models` lists it and the TUI browses it."""

    cpu: CpuName
    features: frozenset[str]  # with the accelerator's defaults, when one was asked
    level: int  # x86-64 micro-architecture level
    blockers: tuple[str, ...] | None = None  # host blockers under KVM; None without a host


class ModelsRequest(Record):
    qemu: str | None = None
    has: tuple[str, ...] = ()  # features in any spelling
    vendor: str | None = None  # intel, amd, hygon, zhaoxin or a CPUID vendor string
    level: str | None = None  # "v3": at least x86-64-v3
    accel: str | None = None
    db: str | None = None


class Models(Record):
    release: Release
    picked: Choice
    rows: tuple[ModelRow, ...]


def models_case(req: ModelsRequest, db: Db | None = None) -> Models:
    from cpudb import levels
    from cpudb.app.inputs import connect, pick_release

    release, picked = pick_release(connect(db, req.db), req.qemu)
    min_level = levels.parse_level(req.level) if req.level else None
    return Models(release, picked, model_rows(release, req.has, req.vendor, min_level, req.accel))


def model_rows(
    release: Release,
    has: tuple[str, ...] = (),
    vendor: str | None = None,
    min_level: int | None = None,
    accel: str | None = None,
    host: Offer | None = None,
) -> tuple[ModelRow, ...]:
    """The rows of a loaded release; with a host, what KVM on it lacks for each name."""
    from cpudb import levels
    from cpudb.describe import filter_models

    pairs = filter_models(release, has=list(has), vendor=vendor, min_level=min_level, accel=accel)
    if host is None:
        return tuple(ModelRow(c, f, levels.level(release, f)) for c, f in pairs)
    from cpudb.decide.guest import GuestBuilder

    guest = GuestBuilder(release, "kvm").guest
    return tuple(
        ModelRow(c, f, levels.level(release, f), host.lacks(guest(c.features))) for c, f in pairs
    )


class FeatureRequest(Record):
    name: str  # any spelling, or a CPUID location
    qemu: str | None = None
    db: str | None = None


class FeatureResult(Record):
    view: FeatureView
    libvirt: tuple[tuple[str, str | None], ...]  # (libvirt release, its name or None)


def feature_case(req: FeatureRequest, db: Db | None = None) -> FeatureResult:
    from cpudb import libvirt_releases
    from cpudb.app.inputs import connect, pick_release

    conn = connect(db, req.db)
    release, _ = pick_release(conn, req.qemu)
    view = feature_in(conn, release, req.name)
    return FeatureResult(view, tuple(libvirt_releases.spellings(view.feature.location)))


def feature_in(db: Db, release: Release, text: str) -> FeatureView:
    """One feature of a loaded release: where it lives, which CPU names have it, since
    when (the timeline comes from the database)."""
    from cpudb.describe import describe_feature
    from cpudb.names import FeatureNames

    location = FeatureNames(release).lookup(text).location
    return describe_feature(
        release, text, db.feature_timeline(location), db.feature_catalogue(location)
    )


def feature_name(release: Release, text: str) -> str:
    """The release's name for a feature in any spelling (NotFound with a hint)."""
    from cpudb.names import FeatureNames

    return FeatureNames(release).lookup(text).name
