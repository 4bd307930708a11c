"""The host use cases: one host's reading against a release (`cpudb host`), a host
before and after a change (`host diff`), a VM's CPU on hosts (`host check`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpudb.errors import CpudbError, NotFound
from cpudb.record import Record

if TYPE_CHECKING:
    from cpudb.drift import Drift
    from cpudb.host_cpu import HostCpu
    from cpudb.host_features import HostFeatures
    from cpudb.host_fit import ModelFit
    from cpudb.model import Release
    from cpudb.query import Db
    from cpudb.vmcheck import VmCheck


class HostView(Record):
    cpu: HostCpu
    release: Release
    features: HostFeatures  # what KVM offers a guest there, in the release's names
    fits: tuple[ModelFit, ...]  # every CPU name: usable, blockers, unknown
    best: tuple[str, ...]  # best-fitting names, newest first
    qemu_unavailable: dict[str, tuple[str, ...]]  # QEMU's own verdicts, when it gave them


def host_case(spec: str, qemu: str | None = None, binary: str | None = None,
              db_path: str | None = None) -> HostView:  # fmt: skip
    """`spec`: a stored name, a host file, - (stdin), this-host, or qmp (QEMU's host model
    of `binary`)."""
    from cpudb import host_fit as H
    from cpudb.query import open_db

    db = open_db(db_path)
    cpu = read_host(spec, binary, db)
    rel = release_for(db, qemu, cpu)
    hf = cpu.features_in(rel)
    return HostView(
        cpu, rel, hf, H.model_fits(rel, hf), tuple(H.best_models(rel, cpu, hf, limit=None)),
        dict(cpu.qemu_unavailable),
    )  # fmt: skip


def read_host(spec: str, binary: str | None, db: Db) -> HostCpu:
    """One host by spec; qmp asks QEMU's host model of `binary` (default: the installed)."""
    from cpudb import host_load as H

    return H.qmp_host(binary) if spec == "qmp" else H.load_host(spec, db)


def release_for(db: Db, query: str | None, cpu: HostCpu) -> Release:
    """--qemu, else for a QMP reading the release of the binary asked, else the usual pick."""
    if query is None and cpu.kind == "qmp":
        # the release of the binary asked: its own label, else its X.Y.Z, else the newest
        # X.Y cpudb has (11.1.3 -> 11.1.0: stable releases keep the models)
        full = cpu.qemu_version.split("-")[0]
        series = ".".join(full.split(".")[:2])
        for label in dict.fromkeys((cpu.qemu_version, full, series)):
            try:
                return db.release(label)
            except NotFound:
                continue
    from cpudb.app.inputs import pick_release

    return pick_release(db, query)[0]


def drift_case(before: str, after: str, pool: tuple[str, ...] = (), qemu: str | None = None,
               db_path: str | None = None) -> Drift:  # fmt: skip
    from cpudb.app.inputs import load_hosts, pick_release
    from cpudb.drift import drift
    from cpudb.query import open_db

    db = open_db(db_path)
    rel, _ = pick_release(db, qemu)
    b, a = load_hosts([before, after], db, rel)
    return drift(rel, b, a, load_hosts(list(pool), db, rel) if pool else ())


def check_case(vm_file: str, hosts: tuple[str, ...], qemu: str | None = None,
               db_path: str | None = None) -> VmCheck:  # fmt: skip
    """Can the VM of a domain XML (`virsh dumpxml`) start on, or migrate to, the hosts?"""
    from cpudb.app.inputs import load_hosts, pick_release
    from cpudb.app.libvirt import libvirt_names
    from cpudb.libvirt_releases import any_spelling
    from cpudb.query import open_db
    from cpudb.scrapers import libvirt_xml
    from cpudb.textinput import read_small
    from cpudb.vmcheck import check

    vm = libvirt_xml.parse(read_small(vm_file, 16 << 20, "libvirt domain XML"), vm_file)
    if vm.what not in ("domain CPU", "CPU"):
        raise CpudbError(
            f"{vm_file}: {vm.what}, not a domain's <cpu>",
            hint="give `virsh dumpxml VM` (the hosts come after it)",
        )
    db = open_db(db_path)
    rel, _ = pick_release(db, qemu)
    names = libvirt_names(rel)
    by_loc = {f.location: f.name for f in rel.features}
    qemu_name = {n: by_loc[loc] for n, loc in any_spelling().items() if loc in by_loc}
    return check(rel, vm, load_hosts(list(hosts), db, rel), names.model_features, qemu_name)
