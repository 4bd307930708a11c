"""The diff use case: two releases (what an upgrade changes for guests), or two CPU
names side by side, each `NAME`, `NAME@RELEASE` or `NAME@libvirt-V` (libvirt V's model)."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.diff import CpuDiff, ReleaseDiff
    from cpudb.model import CpuName, Release
    from cpudb.query import Db


class SideSpec(Record):
    """One side of a CPU-name diff."""

    name: str
    release: str | None = None  # a release query; None: the request's default
    libvirt: str | None = None  # libvirt release whose definition of the model to take


def parse_side(text: str) -> SideSpec:
    """`Haswell`, `Haswell@7.2` or `Skylake-Server@libvirt-9.0`."""
    from cpudb.errors import CpudbError

    name, sep, version = (p.strip() for p in text.strip().partition("@"))
    if not name or (sep and not version):
        what = "expected NAME@RELEASE" if name else "no CPU name"
        raise CpudbError(
            f"{text!r}: {what}",
            hint="e.g. Haswell-v4, Skylake-Server@2.12 or Skylake-Server@libvirt-9.0",
        )
    if version.startswith("libvirt-"):
        return SideSpec(name, None, version.removeprefix("libvirt-"))
    return SideSpec(name, version or None)


class DiffRequest(Record):
    versions: tuple[str, ...] = ()  # two releases to compare, or one for two CPU names
    names: tuple[str, ...] = ()  # with two releases: the names to limit the diff to
    accel: str | None = None  # apply that accelerator's default properties
    db: str | None = None


def diff_case(req: DiffRequest, db: Db | None = None) -> ReleaseDiff | CpuDiff:
    from cpudb import diff
    from cpudb.app.inputs import connect
    from cpudb.errors import CpudbError

    if len(req.versions) > 2:
        raise CpudbError(
            f"--qemu takes at most two releases, got {len(req.versions)}: "
            + " ".join(req.versions),
            hint="cpudb diff --qemu 4.0 4.1",
        )
    conn = connect(db, req.db)
    if len(req.versions) == 2:
        bad = [n for n in req.names if "@" in n]
        if bad:
            raise CpudbError(
                f"{bad[0]!r}: NAME@RELEASE compares two CPU names, not two releases",
                hint=f"cpudb diff {bad[0]} NAME@RELEASE",
            )
        a, b = (conn.release(v) for v in req.versions)
        return diff.diff_releases(a, b, list(req.names) or None, accel=req.accel)
    if len(req.names) != 2:
        got = f"got {len(req.names)} CPU name(s)"
        if req.versions:
            got += f" and release {req.versions[0]}"
        raise CpudbError(
            f"diff compares two releases (--qemu A B) or two CPU names; {got}",
            hint="cpudb diff --qemu 4.0 4.1, cpudb diff Haswell Broadwell, or "
            "cpudb history NAME for one name over every release",
        )
    first, second = (parse_side(n) for n in req.names)
    default = req.versions[0] if req.versions else None
    return compare_cpus(conn, first, second, default, req.accel)


def compare_cpus(
    db: Db, first: SideSpec, second: SideSpec, default: str | None = None, accel: str | None = None
) -> CpuDiff:
    """Two CPU names, each in its release (else `default`, else the newest). A libvirt
    model is set against the other side's QEMU release, in that release's names."""
    from cpudb.diff import diff_cpus

    def release_of(side: SideSpec, other: SideSpec) -> str | None:
        if side.libvirt:
            return (other.release if not other.libvirt else None) or default
        return side.release or default

    ra = db.release(release_of(first, second))
    rb = db.release(release_of(second, first))
    return diff_cpus(ra, _cpu(ra, first), rb, _cpu(rb, second), accel=accel)


def _cpu(release: Release, side: SideSpec) -> str | CpuName:
    if not side.libvirt:
        return side.name
    from cpudb.libvirt_releases import as_cpu

    return as_cpu(release, side.name, side.libvirt)
