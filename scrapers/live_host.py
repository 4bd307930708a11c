"""Read this machine's CPU: /dev/cpu/0/cpuid, else `cpuid -1 -r`, else /proc/cpuinfo.

And, with `qmp_host()`, ask QEMU under KVM what it would really give a guest (the `host`
model expansion, and each model's `unavailable-features`), which can be less than
CPUID says on nested or restricted hosts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any, cast

from cpudb.errors import CpudbError, SourceError
from cpudb.record import Record

from . import cpuid_dump, cpuinfo
from .cpuid_dump import CpuidCpu, CpuidDump, CpuidLeaf

DEV_CPUID = "/dev/cpu/0/cpuid"
PROC_CPUINFO = "/proc/cpuinfo"

Reader = Callable[[int, int], tuple[int, int, int, int]]


class LiveCapture(Record):
    source: str  # what was read: "/dev/cpu/0/cpuid", "cpuid -1 -r", "/proc/cpuinfo"
    dump: CpuidDump | None = None
    cpuinfo: cpuinfo.Cpuinfo | None = None
    tried: tuple[str, ...] = ()  # why the better sources were not used


def capture() -> LiveCapture:
    tried = []
    try:
        return LiveCapture(f"{DEV_CPUID} (CPU 0, read directly)", dump=read_dev_cpuid(), tried=())
    except SourceError as e:
        tried.append(f"{DEV_CPUID} not used: {e.message}")
    tool = shutil.which("cpuid")
    if tool:
        try:
            out = subprocess.run(
                [tool, "-1", "-r"], capture_output=True, text=True, timeout=30, check=True
            ).stdout
            return LiveCapture(
                "cpuid -1 -r (this machine)",
                dump=cpuid_dump.parse(out, "cpuid -1 -r"),
                tried=tuple(tried),
            )
        except (OSError, subprocess.SubprocessError) as e:
            tried.append(f"cpuid -1 -r failed: {e}")
    else:
        tried.append("cpuid not installed (apt-get install cpuid)")
    try:
        with open(PROC_CPUINFO, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as e:
        raise SourceError(
            f"cannot read this machine's CPU: {'; '.join(tried)}; {PROC_CPUINFO}: {e.strerror}",
            hint="run as root with `modprobe cpuid`, or install `cpuid`",
        ) from e
    return LiveCapture(PROC_CPUINFO, cpuinfo=cpuinfo.parse(text, PROC_CPUINFO), tried=tuple(tried))


def read_dev_cpuid(path: str = DEV_CPUID) -> CpuidDump:
    """CPU 0's CPUID through the Linux cpuid driver (needs root and `modprobe cpuid`)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        raise SourceError(f"{path}: {e.strerror}", hint="run as root and `modprobe cpuid`") from e
    try:

        def read(leaf: int, sub: int) -> tuple[int, int, int, int]:
            data = os.pread(fd, 16, leaf | sub << 32)
            if len(data) != 16:
                raise SourceError(f"{path}: short read at leaf {leaf:#x}")
            eax, ebx, ecx, edx = (
                int.from_bytes(data[i : i + 4], "little") for i in range(0, 16, 4)
            )
            return eax, ebx, ecx, edx

        try:
            leaves = enumerate_leaves(read)
        except OSError as e:
            raise SourceError(f"{path}: {e.strerror}") from e
    finally:
        os.close(fd)
    return CpuidDump((CpuidCpu(0, leaves),), path)


def enumerate_leaves(read: Reader) -> tuple[CpuidLeaf, ...]:
    """Every leaf/subleaf a `cpuid -1 -r` dump would hold, asked through `read`."""
    out: list[CpuidLeaf] = []

    def ask(leaf: int, sub: int = 0) -> CpuidLeaf:
        r = CpuidLeaf(leaf, sub, *read(leaf, sub))
        out.append(r)
        return r

    top = ask(0).eax
    for leaf in range(1, min(top, 0xFF) + 1):
        r = ask(leaf)
        for sub in _subleaves(leaf, r, ask):
            ask(leaf, sub)
    vendor = b"".join(x.to_bytes(4, "little") for x in (out[0].ebx, out[0].edx, out[0].ecx))
    hv = out[1].ecx >> 31 & 1 if len(out) > 1 else 0
    ranges = [0x80000000]
    if hv:
        ranges.insert(0, 0x40000000)
    if vendor in (b"CentaurHauls", b"  Shanghai  "):
        ranges.append(0xC0000000)
    for base in ranges:
        first = ask(base)
        if not base <= first.eax <= base + 0xFF:
            continue
        for leaf in range(base + 1, first.eax + 1):
            r = ask(leaf)
            if leaf == 0x8000001D:
                for sub in range(1, 16):
                    if not ask(leaf, sub).eax & 0x1F:
                        break
    return tuple(out)


def _subleaves(leaf: int, first: CpuidLeaf, ask: Callable[[int, int], CpuidLeaf]) -> list[int]:
    """Subleaves after 0 worth reading, by each leaf's own rule (as `cpuid` does)."""
    if leaf in (0x7, 0x14, 0x17, 0x18, 0x1D, 0x1E, 0x20, 0x23, 0x24):
        return list(range(1, min(first.eax, 31) + 1))  # EAX = highest subleaf
    if leaf == 0xD:
        mask = first.eax | first.edx << 32
        sub1 = ask(0xD, 1)
        mask |= sub1.ecx | sub1.edx << 32
        return [i for i in range(2, 63) if mask >> i & 1]
    if leaf in (0xF, 0x10):
        return [1, 2, 3]
    if leaf == 0x12:
        return [1]
    if leaf in (0x4, 0xB, 0x1F):

        def valid(r: CpuidLeaf) -> bool:  # cache type / level type 0 ends the list
            return bool(r.eax & 0x1F) if leaf == 0x4 else bool(r.ecx >> 8 & 0xFF)

        if valid(first):
            for sub in range(1, 16):
                if not valid(ask(leaf, sub)):  # asked (and recorded) up to the first invalid
                    break
    return []


def hypervisor_bit() -> bool | None:
    """Whether this machine runs under a hypervisor (CPUID.1:ECX[31]), None if unreadable."""
    try:
        with open(PROC_CPUINFO, encoding="utf-8", errors="replace") as fh:
            info = cpuinfo.parse(fh.read(), PROC_CPUINFO)
    except (OSError, CpudbError):
        return None
    return "hypervisor" in info.cpu0.flags


# --------------------------------------------------------------------- QMP


class QmpHost(Record):
    binary: str
    version: str
    label: str  # 7.2.22-debian
    props: dict[str, object]  # query-cpu-model-expansion (full) of `host`
    unavailable: tuple[tuple[str, tuple[str, ...]], ...]  # query-cpu-definitions


def qmp_host(binary: str | None = None, timeout: float = 30.0) -> QmpHost:
    """Start QEMU (`-machine none -accel kvm`) and ask it about `host` and every model."""
    from . import qmp

    path = qmp.find_binary(binary)
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        raise SourceError(
            "/dev/kvm is not usable here: no KVM, no `host` model",
            hint="load kvm_intel/kvm_amd and check /dev/kvm permissions",
        )
    import asyncio  # lazy: 90 ms of imports that only --qmp needs

    return asyncio.run(_qmp_host(path, timeout))


async def _qmp_host(binary: str, timeout: float) -> QmpHost:
    from . import qmp

    hint = "is /dev/kvm usable? (try `cpudb host --this-host`)"
    async with qmp.session(binary, "kvm", timeout, hint=hint) as (client, version, package):
        label = qmp.distro_label(qmp.QmpCapture(binary, version, package, "kvm", ()))
        # migratable off: what KVM supports, unmigratable bits (invtsc) included. That is
        # the set QEMU checks a named model against (x86_cpu_filter_features asks
        # x86_cpu_get_supported_feature_word(NULL, w): no migratable mask); the default
        # (migratable) `host` expansion leaves invtsc out although YongFeng gets it.
        model = {"name": "host", "props": {"migratable": False}}
        exp = await client.execute("query-cpu-model-expansion", {"type": "full", "model": model})
        defs = cast(list[dict[str, Any]], await client.execute("query-cpu-definitions"))
        unavailable = tuple(
            sorted(
                (d["name"], tuple(dict.fromkeys(d.get("unavailable-features", ()))))
                for d in defs
                if d["name"] not in qmp.SPECIAL
            )
        )
        props = dict(cast(dict[str, Any], exp)["model"].get("props", {}))
        return QmpHost(binary, version, label, props, unavailable)
