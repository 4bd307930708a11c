"""Ask KVM itself what it can give a guest: `KVM_GET_SUPPORTED_CPUID` and the feature
MSRs (`KVM_GET_MSR_FEATURE_INDEX_LIST` + `KVM_GET_MSRS`) on `/dev/kvm`.

This is what QEMU's `host` model starts from (`kvm_arch_get_supported_cpuid`), so on a
host that is itself a VM (nested KVM, PVM) it is the truth where raw CPUID is not.
The ioctl numbers and structures are Linux's `include/uapi/linux/kvm.h`:

    struct kvm_cpuid2 { __u32 nent, padding; struct kvm_cpuid_entry2 entries[]; };
    struct kvm_cpuid_entry2 { __u32 function, index, flags, eax, ebx, ecx, edx, pad[3]; };
    struct kvm_msr_list { __u32 nmsrs; __u32 indices[]; };
    struct kvm_msrs { __u32 nmsrs, pad; struct kvm_msr_entry { __u32 index, reserved;
                      __u64 data; } entries[]; };
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct

from cpudb.errors import SourceError
from cpudb.record import Record

from .cpuid_dump import CpuidLeaf

DEV_KVM = "/dev/kvm"


def _iowr(nr: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (0xAE << 8) | nr


KVM_GET_API_VERSION = 0xAE00
KVM_CHECK_EXTENSION = 0xAE03
KVM_GET_SUPPORTED_CPUID = _iowr(0x05, 8)  # 0xC008AE05
KVM_GET_MSR_FEATURE_INDEX_LIST = _iowr(0x0A, 4)  # 0xC004AE0A
KVM_GET_MSRS = _iowr(0x88, 8)  # 0xC008AE88
KVM_CAP_GET_MSR_FEATURES = 153

_ENTRY = struct.Struct("<7I12x")  # 40 bytes
_MAX_ENTRIES = 4096


class KvmCapture(Record):
    leaves: tuple[CpuidLeaf, ...]
    msrs: tuple[tuple[int, int], ...]  # feature MSR index -> value KVM allows
    api_version: int
    module: str  # the module serving /dev/kvm (kvm_intel, kvm_amd, kvm_pvm, ...)


def capture(path: str = DEV_KVM) -> KvmCapture:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        raise SourceError(
            f"{path}: cannot open ({e.strerror})",
            hint="load kvm_intel/kvm_amd and add yourself to the kvm group",
        ) from e
    try:
        api = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        return KvmCapture(_supported_cpuid(fd, path), _feature_msrs(fd), api, kvm_module())
    finally:
        os.close(fd)


def _supported_cpuid(fd: int, path: str) -> tuple[CpuidLeaf, ...]:
    n = 128
    while True:
        buf = bytearray(struct.pack("<II", n, 0) + bytes(_ENTRY.size * n))
        try:
            fcntl.ioctl(fd, KVM_GET_SUPPORTED_CPUID, buf)
        except OSError as e:
            if e.errno == errno.E2BIG and n < _MAX_ENTRIES:
                n *= 2
                continue
            raise SourceError(f"{path}: KVM_GET_SUPPORTED_CPUID failed ({e.strerror})") from e
        count = struct.unpack_from("<I", buf)[0]
        rows = [_ENTRY.unpack_from(buf, 8 + i * _ENTRY.size) for i in range(count)]
        leaves = {(f, i): CpuidLeaf(f, i, a, b, c, d) for f, i, _flags, a, b, c, d in rows}
        return tuple(leaves[k] for k in sorted(leaves))


def _feature_msrs(fd: int) -> tuple[tuple[int, int], ...]:
    """The feature MSRs KVM reports (arch-capabilities, VMX capabilities, ...); () when
    this KVM cannot tell."""
    try:
        if fcntl.ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES) <= 0:
            return ()
        head = bytearray(struct.pack("<I", 0))
        try:
            fcntl.ioctl(fd, KVM_GET_MSR_FEATURE_INDEX_LIST, head)
        except OSError as e:
            if e.errno != errno.E2BIG:
                return ()
        n = struct.unpack_from("<I", head)[0]
        lst = bytearray(struct.pack("<I", n) + bytes(4 * n))
        fcntl.ioctl(fd, KVM_GET_MSR_FEATURE_INDEX_LIST, lst)
        n = struct.unpack_from("<I", lst)[0]
        indices = struct.unpack_from(f"<{n}I", lst, 4)
        out = []
        for index in indices:  # one at a time: KVM stops at the first it cannot read
            buf = bytearray(struct.pack("<IIIIQ", 1, 0, index, 0, 0))
            if fcntl.ioctl(fd, KVM_GET_MSRS, buf) == 1:
                out.append((index, struct.unpack_from("<Q", buf, 16)[0]))
        return tuple(out)
    except OSError:
        return ()


def kvm_module() -> str:
    """Which module serves /dev/kvm here ('' when unknown): built-in modules show in
    /sys/module too, where /proc/modules may not exist."""
    for m in ("kvm_pvm", "kvm_intel", "kvm_amd"):
        if os.path.isdir(f"/sys/module/{m}"):
            return m
    return ""
