"""`cpudb probe --cpu SPEC`: boot the probe guest under this machine's QEMU and report
what the guest really sees and can do."""

from __future__ import annotations

import argparse
import sys

from cpudb.app.inputs import split_list
from cpudb.commands.common import add_json, formatter

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.probe import Probe

EPILOG = """\
examples:
  cpudb probe --cpu Haswell-v2,pdpe1gb=on,enforce    does it start, and does the guest
                                                     really get 1 GiB pages?
  cpudb probe                                        QEMU's default model (no -cpu)
  cpudb probe --cpu qemu64,la57=on --check la57 --json | jq .checks
  cpudb probe --cpu host --accel kvm --binary ~/qemu/build/qemu-system-x86_64

The guest (data/probe.bin, built from probe/probe.asm) prints the CPUID it sees and
runs checks, each reported ok or with the fault it drew:
  nx        set EFER.NXE (what a kernel does to use no-execute pages)
  la57      set CR4.LA57 with 5-level page tables, then read through a 57-bit address
  1g-pages  map RAM with a 1 GiB page, read it, and write VGA memory through it (an MMIO
            access: on hardware page walks only emulated accesses meet KVM's checks)
  long-mode always runs: EFER.LME and paging, needed by the checks after it
A fault is reported, never a silent triple fault (--no-handlers boots as a kernel
without exception handlers would: then a fault does triple-fault, as in a real crash).

"Requested" is what cpudb reads the -cpu as (the model, its flags and the
accelerator's defaults, in the release of that QEMU); "seen" is what the guest's CPUID
shows; "dropped" is requested but not seen (QEMU without `enforce` drops what the
accelerator cannot give, and says so in its warnings).

Exit status: 0 when the guest started and finished, saw every requested feature, and
every check of a feature its CPUID offers passed; 1 when QEMU refused the CPU, a feature
was dropped, a check of an offered feature failed or the guest died; 2 for bad input."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="boot a tiny guest under this QEMU: what a -cpu really gives a guest",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Boot the probe guest with a -cpu under the real QEMU and accelerator\n"
        "of this machine, and report what the guest sees and which checks pass.",
    )
    p.add_argument("--cpu", metavar="SPEC", help="the -cpu argument (default: none, i.e. the "
                   "binary's default model)")  # fmt: skip
    p.add_argument(
        "--accel",
        choices=("kvm", "tcg"),
        help="accelerator (default: kvm when /dev/kvm is usable, else tcg)",
    )
    p.add_argument("--binary", metavar="PATH", help="the QEMU to run (default: the installed "
                   "qemu-system-x86_64)")  # fmt: skip
    p.add_argument(
        "--check",
        action="append",
        metavar="C[,C...]",
        help="checks to run: nx, la57, 1g-pages, all (default) or none",
    )
    p.add_argument(
        "--no-handlers",
        action="store_true",
        help="no exception handlers in the guest: a fault triple-faults (a real crash)",
    )
    p.add_argument(
        "--ignore-cpuid",
        action="store_true",
        help="set CR4.LA57 even when the guest's CPUID denies la57 (as a kernel built "
        "for 5-level paging does); QEMU 7.2's TCG then hangs instead of raising #GP",
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="give up after S seconds "
        "(default 60; a boot takes 0.1-0.3 s, 2-6 s under an emulating KVM without qboot)",
    )  # fmt: skip
    add_json(p)
    p.set_defaults(run=run)


def parse_checks(values: list[str] | None) -> tuple[str, ...]:
    from cpudb.errors import CpudbError
    from cpudb.probe import ASKABLE

    names = split_list(values) or ["all"]
    out: list[str] = []
    for n in names:
        if n == "all":
            out += ASKABLE
        elif n == "none":
            continue
        elif n in ASKABLE:
            out.append(n)
        else:
            raise CpudbError(
                f"--check {n}: no such check", hint=f"give {', '.join(ASKABLE)}, all or none"
            )
    return tuple(c for c in ASKABLE if c in out)


def run(args: argparse.Namespace) -> int:
    from cpudb.app.probe import default_accel, probe
    from cpudb.errors import CpudbError
    from cpudb.query import open_db

    if args.timeout <= 0:
        raise CpudbError(f"--timeout {args.timeout:g}: must be more than 0")
    checks = parse_checks(args.check)
    accel = args.accel or default_accel()
    db = open_db(args.db)
    p: Probe = probe(
        db, args.cpu, accel, checks, args.binary, args.timeout, args.no_handlers,
        args.ignore_cpuid,
    )  # fmt: skip
    if args.json:
        from cpudb.render import print_json

        print_json("probe", p.to_json())
    else:
        sys.stdout.write(text(p))
    return 0 if p.clean else 1


def _names(items: tuple[str, ...] | list[str], limit: int = 12) -> str:
    items = list(items)
    more = f" ... (+{len(items) - limit})" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def text(p: Probe) -> str:
    from cpudb.probe import FEATURE_OF

    cpu = f"-cpu {p.cpu}" if p.cpu else f"no -cpu (the default model, {p.model})"
    same = "" if p.release == p.qemu else f", names of QEMU {p.release}"
    out = [f"Probe: {cpu} under {p.accel.upper()}, {p.binary} {p.qemu}{same}"]
    if not p.started:
        if p.ended == "timeout":
            out.append(f"Started: no answer from QEMU in {p.seconds:g} s (killed)")
        else:
            out.append(f"Started: no, QEMU refused: {p.refused}")
    else:
        how = {
            "done": "the guest finished",
            "fatal": "the guest stopped at a fault outside the checks",
            "triple-fault": "the guest triple-faulted (QEMU reset it and exited 0)",
            "timeout": "the guest hung and was killed at the timeout",
        }.get(p.ended, p.ended)
        out.append(f"Started: yes; {how}")
        if p.requested:
            out.append(f"Features: {len(p.requested)} requested, the guest sees {len(p.seen)}")
            out.append(f"  dropped (requested, not seen): {_names(p.dropped) or 'none'}")
            if p.extra:
                out.append(f"  extra (seen, not requested):   {_names(p.extra)}")
        else:
            out.append(f"Features: the guest sees {len(p.seen)}: {_names(p.seen)}")
    if p.checks and p.started:
        out.append("Checks:")
        width = max(len(c) for c in p.checks)
        broken = p.broken()
        for name, o in p.checks.items():
            why = "  (yet the guest's CPUID offers it)" if name in broken else ""
            feature = FEATURE_OF.get(name)
            if o.result == "ok" and p.requested and feature and feature not in p.seen:
                why = f"  (though the guest's CPUID has no {feature}: not enforced)"
            out.append(f"  {name:<{width}}  {o.text()}{why}")
    warned = p.warned
    if warned:
        out.append(f"QEMU warned that it dropped {len(warned)}: {_names(warned)}")
    for n in p.notes:
        out.append(f"Note: {n}")
    from shlex import join

    out.append(f"Booted in {p.seconds:g} s ({p.firmware}): {join(p.command)}")
    return "\n".join(out) + "\n"
