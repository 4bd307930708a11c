"""The fleet use cases: one CPU for a pool of hosts (`baseline`), and a fleet split into
live-migration pools (`pools`). Loading and input checks here; the decisions are
cpudb.baseline and cpudb.pools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpudb.record import Record, field

if TYPE_CHECKING:
    from cpudb.advise import Need
    from cpudb.baseline import Baseline
    from cpudb.decide.offer import Offer
    from cpudb.libvirt_model import LibvirtNames
    from cpudb.model import Release
    from cpudb.pools import Pools


class FleetRequest(Record):
    hosts: tuple[str, ...]  # host specs: stored name, file (one or many hosts), -, this-host
    needs: tuple[str, ...] = ()
    qemu: str | None = None
    fmt: str = "text"  # the output format: libvirt's formats choose names libvirt has
    libvirt: str | None = None  # libvirt release of those names (None: the installed one)
    db: str | None = None


class BaselineRequest(FleetRequest):
    vendors: tuple[str, ...] = ()
    cross_vendor: bool = False


class PoolsRequest(FleetRequest):
    weights: dict[str, int] = field(default_factory=dict)  # host -> how many hosts it stands for
    min_pool: int = 2
    leave_out: int = 1


class FleetResult(Record):
    release: Release
    names: LibvirtNames | None  # for libvirt's formats: the names the configs use
    deprecated: tuple[str, ...]  # QEMU's deprecated names (KubeVirt)


class BaselineResult(FleetResult):
    baseline: Baseline


class PoolsResult(FleetResult):
    pools: Pools


def _load(
    req: FleetRequest,
) -> tuple[Release, list[Need], list[Offer], LibvirtNames | None, tuple[str, ...]]:
    """What both fleet use cases read: release, needs, hosts, libvirt's names, QEMU's
    deprecated names."""
    from cpudb.app.inputs import load_hosts, pick_release, resolve_needs
    from cpudb.app.libvirt import deprecated_names, names_for
    from cpudb.query import open_db

    db = open_db(req.db)
    release, _ = pick_release(db, req.qemu)
    needs = resolve_needs(release, list(req.needs)) if req.needs else []
    hosts = load_hosts(list(req.hosts), db, release)
    names = names_for(req.fmt, release, req.libvirt)
    return release, needs, hosts, names, deprecated_names(release)


def baseline_case(req: BaselineRequest) -> BaselineResult:
    from cpudb import linux_deps
    from cpudb.app.inputs import vendors
    from cpudb.baseline import baseline
    from cpudb.errors import CpudbError

    release, needs, hosts, names, deprecated = _load(req)
    makers = sorted({h.vendor.strip() or "unknown" for h in hosts})
    if len(makers) > 1 and not req.cross_vendor:
        raise CpudbError(
            f"the hosts are of {len(makers)} CPU vendors ({', '.join(makers)}): a KVM guest "
            "sees its host's vendor, and QEMU/KVM do not live-migrate between vendors",
            hint="`cpudb pools HOST...` splits them into pools; --cross-vendor for one "
            "model anyway",
        )
    b = baseline(
        release,
        hosts,
        needs,
        vendors=vendors(list(req.vendors)),
        linux_deps=linux_deps.pairs(),
        accept=names.knows if names else None,
    )
    return BaselineResult(release, names, deprecated, b)


def pools_case(req: PoolsRequest) -> PoolsResult:
    from cpudb import linux_deps
    from cpudb.errors import CpudbError
    from cpudb.pools import pools

    if req.min_pool < 1 or req.leave_out < 0:
        raise CpudbError(
            "--min-pool must be 1 or more, --leave-out 0 or more", hint="e.g. --min-pool 2"
        )
    release, needs, hosts, names, deprecated = _load(req)
    unknown = sorted(set(req.weights) - {h.name for h in hosts})
    if unknown:
        raise CpudbError(
            f"--weight names no host: {', '.join(unknown)}",
            hint="use the host's name as the output shows it (file name or node name)",
        )
    p = pools(
        release, hosts, needs, weights=req.weights, min_pool=req.min_pool,
        leave_out=req.leave_out, linux_deps=linux_deps.pairs(),
        accept=names.knows if names else None,
    )  # fmt: skip
    return PoolsResult(release, names, deprecated, p)
