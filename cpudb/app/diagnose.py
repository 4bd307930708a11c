"""The diagnose use case: a KVM/QEMU failure log (and optionally the host it ran on) in,
the findings out, reasoned with the release the log names."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from collections.abc import Iterable

    from cpudb.diagnose.events import Log
    from cpudb.diagnose.findings import Diagnosis
    from cpudb.diagnose.fixes import HostView
    from cpudb.host_cpu import HostCpu
    from cpudb.model import Release
    from cpudb.query import Db


class DiagnoseRequest(Record):
    lines: Iterable[str]  # the log, line by line (read once, in bounded memory)
    source: str = "<log>"  # its name in the report
    qemu: str | None = None  # release to reason with (None: the log's, else the newest)
    cpu: str | None = None  # the guest's -cpu argument (None: the log's command line)
    host: str | None = None  # a host spec to check the fixes against
    db: str | None = None


def diagnose_case(req: DiagnoseRequest, db: Db | None = None) -> Diagnosis:
    from cpudb import facts
    from cpudb.app.inputs import connect
    from cpudb.diagnose import logparse, reason
    from cpudb.diagnose.context import build_context

    log = logparse.parse_lines(req.lines, req.source)
    conn = connect(db, req.db)
    release, notes = release_for(conn, req.qemu, log)
    host = host_view(req.host, conn, release) if req.host else None
    given = () if host is None else (host,)
    ctx = build_context(
        log, release, cpu_arg=req.cpu, host=host, notes=notes, **facts.for_advice(release, given)
    )
    return reason.diagnose(log, ctx)


def release_for(db: Db, qemu: str | None, log: Log) -> tuple[Release, tuple[str, ...]]:
    """`qemu`, else the version the log names (if the database has it), else the
    installed QEMU's release, else the newest; with a note when the log's is missing."""
    from cpudb.app.inputs import pick_release
    from cpudb.diagnose.events import QemuVersion
    from cpudb.errors import NotFound

    if qemu:
        return db.release(qemu), ()
    versions = log.of(QemuVersion)
    if versions:
        v = versions[0].version
        try:
            return db.release(v), ()
        except NotFound:
            rel = pick_release(db, None)[0]
            return rel, (
                f"the log names QEMU {v}, which the database lacks: reasoning with "
                f"{rel.version} (pass --qemu)",
            )
    return pick_release(db, None)[0], ()


def host_view(spec: str, db: Db, release: Release) -> HostView:
    """What the diagnosis needs of a host: its features in the release (KVM-supplied
    ones count as present), what the source cannot tell, and its MAXPHYADDR."""
    from cpudb.diagnose.fixes import HostView
    from cpudb.host_load import load_host

    host = load_host(spec, db)
    hf = host.features_in(release)
    name = " ".join((host.brand or host.source or spec).split())
    return HostView(
        f"{name} ({spec})" if name != spec else spec,
        hf.present | hf.kvm_supplied,
        hf.unknown,
        phys_bits(host),
    )


def phys_bits(host: HostCpu) -> int | None:
    """MAXPHYADDR from CPUID 0x80000008 EAX[7:0] of a dump, when it has that leaf."""
    for leaf in host.leaves:
        if leaf.leaf == 0x80000008 and leaf.subleaf == 0:
            return (leaf.eax & 0xFF) or None
    return None
