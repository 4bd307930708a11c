"""The context a log is reasoned in: the release, the guest's `-cpu` (from the log's
command line or given), the machine, the accelerator, the host's features and the
catalogue, with notes on what could not be resolved. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

import cpudb.diagnose.events as lp
import cpudb.diagnose.fixes as fx
from cpudb.decide.rank import CatalogOffer
from cpudb.diagnose.findings import (
    Context,
)
from cpudb.diagnose.guestcpu import GuestCpu, parse_cpu_arg, resolve
from cpudb.model import Release
from cpudb.names import FeatureNames


def build_context(
    log: lp.Log,
    release: Release,
    *,
    cpu_arg: str | None = None,
    host: fx.HostView | None = None,
    catalogue: Sequence[CatalogOffer] | None = None,
    linux_deps: Sequence[tuple[str, str]] = (),
    notes: tuple[str, ...] = (),
) -> Context:
    """The guest CPU (from `cpu_arg`, else the log's command line), accelerator and machine.

    A `cpu_arg` the release does not know raises NotFound (it is the user's argument); the
    same in a log's command line becomes a note.
    """
    names = FeatureNames(release)
    cmds = log.of(lp.CommandLine)
    cmd = cmds[-1] if cmds else None
    accel = cmd.accel if cmd and cmd.accel else None
    if accel is None and cmd is not None:
        accel = "tcg"  # QEMU's default accelerator when none is named
    if cmd is None:
        kvm_seen = any(
            isinstance(e, lp.InternalError | lp.EntryFailed | lp.Trace)
            or log.plain_traces
            or (isinstance(e, lp.FeatureWarning) and e.accel == "host")
            for e in log.events
        )
        tcg_seen = any(isinstance(e, lp.FeatureWarning) and e.accel == "TCG" for e in log.events)
        accel = "kvm" if kvm_seen else "tcg" if tcg_seen else None
    out_notes = list(notes)
    cpu: GuestCpu | None = None
    if cpu_arg is not None:
        cpu = resolve(
            parse_cpu_arg(cpu_arg), release, names, source="--cpu", accel=accel, strict=True
        )
    elif cmd is not None:
        if cmd.cpu:
            cpu = resolve(
                parse_cpu_arg(cmd.cpu),
                release,
                names,
                source=f"command line, line {cmd.line}",
                accel=accel,
                strict=False,
            )
        else:
            default = "qemu32" if cmd.argv and cmd.argv[0].endswith("i386") else "qemu64"
            cpu = resolve(
                parse_cpu_arg(default),
                release,
                names,
                source=f"QEMU's default: no -cpu on the command line, line {cmd.line}",
                accel=accel,
                strict=False,
            )
        out_notes.extend(cpu.problems)
    else:
        out_notes.append(
            "the log has no QEMU command line and no --cpu was given: the guest "
            "CPU model is unknown (pass --cpu 'MODEL,flags' for exact fixes)"
        )
    if cmd is not None and cmd.machine:
        out_notes.extend(_machine_notes(cmd.machine, cpu, release))
    return Context(
        release,
        names,
        cpu,
        accel,
        cmd.machine if cmd else None,
        host,
        catalogue,
        tuple(linux_deps),
        tuple(out_notes),
    )


def _machine_notes(machine: str, cpu: GuestCpu | None, release: Release) -> list[str]:
    m = re.search(r"-(\d+)\.(\d+)$", machine)
    if not m or cpu is None or cpu.name is None or release.default_version is None:
        return []
    if (int(m.group(1)), int(m.group(2))) < (4, 1) and "-v" not in cpu.arg.model:
        return [
            f"machine type {machine} predates QEMU 4.1: the bare name {cpu.arg.model} "
            "means the legacy (unversioned) definition there, taken here as -v1"
        ]
    return []
