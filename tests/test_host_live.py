"""This machine: /dev/cpu/0/cpuid, `cpuid -1 -r`, and QEMU under KVM as ground truth."""

from __future__ import annotations

import os
import platform
import subprocess

import pytest
from cpudb.scrapers import cpuid_dump, live_host

from cpudb.host_build import from_dump
from cpudb.host_cpu import HostCpu
from cpudb.host_fit import blockers
from cpudb.host_load import kvm_host, load_host, qmp_host
from cpudb.query import Db
from cpudb.resolve import name_index
from tests.conftest import FIXTURES, need_kvm, need_tool

HASWELL = FIXTURES / "hosts" / "intel-6-60-3-haswell-no-pdpe1gb.cpuid"


def _linux_x86() -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "i686"):
        pytest.skip("needs an x86 Linux machine")


def test_enumeration_reads_what_a_dump_holds() -> None:
    """enumerate_leaves, driven by a fake CPU answering from a dump, asks for every row
    the dump has (and decodes to the same features)."""
    rows = {(r.leaf, r.subleaf): r for r in cpuid_dump.parse(HASWELL.read_text()).cpu0.leaves}
    asked = []

    def read(leaf: int, sub: int) -> tuple[int, int, int, int]:
        asked.append((leaf, sub))
        r = rows.get((leaf, sub))
        return (r.eax, r.ebx, r.ecx, r.edx) if r else (0, 0, 0, 0)

    live_host.enumerate_leaves(read)
    assert set(rows) <= set(asked)
    assert max(leaf for leaf, _ in asked if leaf < 0x80000000) == 0xD  # stops at max basic
    assert max(asked) == (0x80000008, 0)  # and at max extended
    assert (0x40000000, 0) not in asked  # hypervisor leaves only with the hypervisor bit


def test_dev_cpuid_and_cpuid_tool_agree(db: Db) -> None:
    _linux_x86()
    tool = need_tool("cpuid", "apt-get install cpuid")
    if not os.access(live_host.DEV_CPUID, os.R_OK):
        pytest.skip(f"{live_host.DEV_CPUID} not readable (root + `modprobe cpuid`)")
    direct = from_dump(live_host.read_dev_cpuid(), "dev")
    out = subprocess.run([tool, "-1", "-r"], capture_output=True, text=True, check=True).stdout
    via_tool = from_dump(cpuid_dump.parse(out, "cpuid -1 -r"), "tool")
    assert (direct.vendor, direct.family, direct.model, direct.brand) == (
        via_tool.vendor,
        via_tool.family,
        via_tool.model,
        via_tool.brand,
    )
    rel = db.release(None)
    assert direct.features_in(rel).present == via_tool.features_in(rel).present


def test_this_host_says_which_source() -> None:
    _linux_x86()
    h = load_host("this-cpu")
    assert h.source.split()[0] in (live_host.DEV_CPUID, "cpuid", live_host.PROC_CPUINFO)
    assert h.vendor and h.family > 0


def _qmp_or_skip() -> HostCpu:
    _linux_x86()
    need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    need_kvm()
    return qmp_host()


def test_qmp_blockers_are_qemus_unavailable_features(db: Db) -> None:
    """From QEMU's own `host` expansion, our blockers are exactly QEMU's
    unavailable-features for every CPU name of the binary's release."""
    q = _qmp_or_skip()
    version = q.qemu_version.split("-")[0]
    if version not in {i.version for i in db.versions()}:
        pytest.skip(f"no snapshot of QEMU {version}")
    rel = db.release(version)
    hf = q.features_in(rel)
    idx = name_index(rel.features)
    unavailable = dict(q.qemu_unavailable)
    compared = 0
    for cpu in rel.cpus:
        if cpu.name not in unavailable:
            continue
        assert set(blockers(rel, cpu, hf)) == {idx.get(u, u) for u in unavailable[cpu.name]}, (
            cpu.name
        )
        compared += 1
    assert compared == len(rel.cpus)


def test_qmp_host_is_within_our_cpuid_decoding(db: Db) -> None:
    """What KVM offers (`-cpu host`) is never more than this machine's CPUID plus what our
    KVM rules say KVM adds (the converse need not hold: nested or restricted KVMs offer
    less; the difference is printed for the issue note)."""
    q = _qmp_or_skip()
    rel = (
        db.release(q.qemu_version.split("-")[0])
        if q.qemu_version.split("-")[0] in {i.version for i in db.versions()}
        else db.release(None)
    )
    hq = q.features_in(rel)
    hc = load_host("this-cpu").features_in(rel)
    assert hc.present, "no features decoded from this machine"
    beyond = hq.present - hc.present - hc.kvm_supplied - hc.unknown
    assert beyond == frozenset()
    only_cpuid = sorted(hc.present - hq.present)
    print(f"CPUID has, KVM does not offer ({len(only_cpuid)}): {' '.join(only_cpuid)}")


def test_kvm_ioctl_blockers_are_qemus_unavailable_features(db: Db) -> None:
    """Two readings of what KVM gives a guest here: KVM_GET_SUPPORTED_CPUID (+ feature
    MSRs) decoded by cpudb's KVM rules, and QEMU's own verdict under KVM. For every CPU
    name of the binary's release the blockers are QEMU's unavailable-features."""
    q = _qmp_or_skip()
    version = q.qemu_version.split("-")[0]
    if version not in {i.version for i in db.versions()}:
        pytest.skip(f"no snapshot of QEMU {version}")
    rel = db.release(version)
    k = kvm_host()
    assert k.kind == "kvm" and k.leaves
    hk = k.features_in(rel)
    idx = name_index(rel.features)
    unavailable = dict(q.qemu_unavailable)
    wrong = {
        cpu.name: (set(blockers(rel, cpu, hk)), {idx.get(u, u) for u in unavailable[cpu.name]})
        for cpu in rel.cpus
        if set(blockers(rel, cpu, hk)) != {idx.get(u, u) for u in unavailable[cpu.name]}
    }
    assert wrong == {}
    assert len(unavailable) == len(rel.cpus)


def test_this_host_is_what_kvm_gives(db: Db, machine: None) -> None:
    """--this-host asks KVM when /dev/kvm works, and keeps the notes on stored round trips."""
    _linux_x86()
    need_kvm()
    h = load_host("this-host")
    assert h.kind == "kvm" and "KVM_GET_SUPPORTED_CPUID" in h.source
    again = HostCpu.from_json(h.to_json())
    rel = db.release(None)
    assert again.features_in(rel) == h.features_in(rel)
