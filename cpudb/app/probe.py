"""The probe use case: boot the probe guest under a -cpu and an accelerator, read what
it saw (`cpudb probe`, and `advise --verify`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cpudb.probe import Probe
    from cpudb.query import Db


def default_accel() -> str:
    from cpudb.host_load import kvm_device

    return "kvm" if kvm_device() is not None else "tcg"


def probe(
    db: Db,
    cpu: str | None,
    accel: str,
    checks: tuple[str, ...],
    binary: str | None = None,
    timeout: float = 60.0,
    no_handlers: bool = False,
    ignore_cpuid: bool = False,
) -> Probe:
    """Boot the probe guest and read it (the use case `advise --verify` shares)."""
    import os
    import shutil

    from cpudb import installed
    from cpudb.errors import CpudbError
    from cpudb.probe import DEFAULT_MODEL, read
    from cpudb.scrapers import qemu_probe

    path = (shutil.which(binary) or binary) if binary else installed.binary_path()
    if path is None:
        raise CpudbError(
            f"no {installed.BINARY} on this machine",
            hint="apt-get install qemu-system-x86, or give --binary PATH",
        )
    if binary is not None and not os.path.isfile(path):
        raise CpudbError(f"--binary {binary}: no such file", hint="give a qemu-system-x86_64")
    inst = installed.installed() if binary is None else installed.ask(path)
    if inst is None:
        raise CpudbError(f"{path}: does not answer --version like a QEMU binary")
    version, _ = installed.nearest_release(inst.version, db.versions())
    release = db.release(version)
    boot = qemu_probe.boot(
        path, cpu, accel, checks, timeout=timeout, no_handlers=no_handlers,
        ignore_cpuid=ignore_cpuid,
    )  # fmt: skip
    default = DEFAULT_MODEL.get(os.path.basename(path), "qemu64")
    host_model = None
    model = (cpu or default).split(",")[0]
    if accel == "kvm" and model in ("host", "max") and boot.serial:
        from cpudb.host_load import qmp_host

        host_model = qmp_host(path).features_in(release).present
    return read(
        boot, release, cpu=cpu, accel=accel, qemu=inst.version, binary=path, asked=checks,
        default_model=default, host_model=host_model,
    )  # fmt: skip
