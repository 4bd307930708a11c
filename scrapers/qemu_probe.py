"""Boot the probe guest (data/probe.bin, built from probe/probe.asm) under a real QEMU.

The guest prints what it sees on the first serial port and leaves through
`isa-debug-exit` (QEMU exits with status 1 after "done", 3 after "fatal"). QEMU exits 0
when the guest triple-faults (`-no-reboot` turns the reset into an exit) and 1 with its
own message when `enforce` refuses the CPU; a guest that hangs is killed at the timeout.

Firmware: qboot (shipped with QEMU since 4.0) loads a multiboot kernel in 0.2 s where
SeaBIOS takes 6 s on a KVM that emulates real mode; without qboot, SeaBIOS.
"""

from __future__ import annotations

import os
import subprocess
import time

from cpudb.errors import SourceError
from cpudb.record import Record

SERIAL_LIMIT = 1 << 20  # the guest prints ~6 KiB; anything beyond is not ours
QBOOT = "qboot.rom"


class Boot(Record):
    command: tuple[str, ...]
    status: int | None  # QEMU's exit status; None when killed at the timeout
    serial: str  # what the guest printed
    stderr: str  # QEMU's messages
    seconds: float
    firmware: str  # "qboot" or "seabios"


def kernel_path() -> str:
    from cpudb.paths import shipped_data_dir

    return str(shipped_data_dir() / "probe.bin")


def command(
    binary: str,
    cpu: str | None,
    accel: str,
    checks: tuple[str, ...],
    *,
    kernel: str,
    no_handlers: bool = False,
    ignore_cpuid: bool = False,
    qboot: bool = True,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The QEMU command line of one probe boot (`cpu` None: the binary's default model)."""
    append = "cpudb-probe"
    if checks:
        append += " checks=" + ",".join(checks)
    if no_handlers:
        append += " nohandlers"
    if ignore_cpuid:
        append += " ignore-cpuid"
    cmd = [binary, "-accel", accel]
    if cpu is not None:
        cmd += ["-cpu", cpu]
    if qboot:
        cmd += ["-bios", QBOOT]
    cmd += ["-machine", "pc", "-m", "64", "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel, "-append", append, *extra]  # fmt: skip
    return cmd


def boot(
    binary: str,
    cpu: str | None,
    accel: str,
    checks: tuple[str, ...],
    *,
    timeout: float = 60.0,
    kernel: str | None = None,
    no_handlers: bool = False,
    ignore_cpuid: bool = False,
    extra: tuple[str, ...] = (),
) -> Boot:
    kernel = kernel or kernel_path()
    if not os.path.isfile(kernel):
        raise SourceError(f"{kernel}: the probe guest is missing", hint="reinstall cpudb")
    for qboot in (True, False):
        cmd = command(
            binary, cpu, accel, checks, kernel=kernel, no_handlers=no_handlers,
            ignore_cpuid=ignore_cpuid, qboot=qboot,
            extra=extra,
        )  # fmt: skip
        b = _run(cmd, timeout, "qboot" if qboot else "seabios")
        if not (qboot and b.status == 1 and not b.serial and QBOOT in b.stderr):
            return b
    return b


def _run(cmd: list[str], timeout: float, firmware: str) -> Boot:
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError as e:
        raise SourceError(f"{cmd[0]}: not found", hint="apt-get install qemu-system-x86") from e
    except PermissionError as e:
        raise SourceError(f"{cmd[0]}: cannot run ({e.strerror})") from e
    status: int | None
    try:
        out, err = p.communicate(timeout=timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        status = None
    return Boot(
        tuple(cmd),
        status,
        out[:SERIAL_LIMIT].decode("ascii", "replace"),
        err[:SERIAL_LIMIT].decode("utf-8", "replace"),
        round(time.monotonic() - t0, 2),
        firmware,
    )
