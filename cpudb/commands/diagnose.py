"""`cpudb diagnose [FILE|-]`: from a KVM/QEMU failure log to the missing CPU feature and the fix."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Read a KVM/QEMU failure log and say which CPU feature the guest was missing, with the
evidence, the reasoning down to the page-table bit or CPUID bit, and the -cpu fix.

The log may mix any of:
  QEMU's `KVM internal error. Suberror: N` and the register dump after it
      (CR0/CR3/CR4/EFER are decoded: paging mode, PAE, LA57, NXE, ...)
  `trace-cmd report` lines of the kvm and kvmmmu events: kvm_exit, kvm_emulate_insn ... FAIL,
      kvm_mmu_pagetable_walk, kvm_mmu_paging_element, kvm_mmu_walker_error, kvm_cr, kvm_msr,
      kvm_inj_exception
  QEMU's `host doesn't support requested feature: CPUID.80000001H:EDX.pdpe1gb [bit 26]`,
      `TCG doesn't support requested feature`, phys-bits warnings and errors
  libvirt's `guest CPU doesn't match specification: missing features: ...` and
      `the CPU is incompatible with host CPU: ...`
  the QEMU command line (its -cpu and machine type), e.g. from libvirt's domain log

It finds: 1 GiB pages without pdpe1gb, XD/NX bits without EFER.NXE (nx), 5-level paging
without la57, addresses above the guest's phys-bits, CR4/EFER bits refused with #GP (la57,
pcid, smep, xsave, nx, svm, ...), and each QEMU/libvirt missing-feature message. When the
log cannot support a conclusion (the same KVM error has unrelated causes, e.g. firmware
bugs), it says what is missing instead of guessing.

Each finding is a cause (the log shows the failure it made: a fault, a refusal to
start) or a note (QEMU dropped the feature; nothing shows the guest used it).

Exit status: 0 with a cause, 1 without (notes only, or nothing), 2 on bad input."""

EPILOG = """\
examples:
  cpudb diagnose guest.log                     findings, evidence, fixes for the newest QEMU
  cpudb diagnose guest.log --qemu 7.2 --cpu Haswell-v4
                                               fixes as -cpu Haswell-v4,pdpe1gb=on
  trace-cmd report | cpudb diagnose -          read standard input
  cpudb diagnose /var/log/libvirt/qemu/vm1.log --host host.cpuid
                                               check the fixes against a host's CPUID dump
  cpudb diagnose guest.log --json | jq '.findings[].feature'

recording a log that shows the cause:
  trace-cmd record -e kvm -e kvmmmu -- qemu-system-x86_64 ...  2> qemu.log
  (trace-cmd report; cat qemu.log) > guest.log
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diagnose",
        help="from a KVM/QEMU failure log to the missing CPU feature",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE|-",
        help="the log to read ('-' or nothing: standard input)",
    )
    p.add_argument(
        "--qemu",
        metavar="V",
        help="QEMU release to reason with (default: the one "
        "the log names, else the newest upstream)",
    )
    p.add_argument(
        "--cpu",
        metavar="CPU_ARG",
        help="the guest's current -cpu argument, e.g. "
        "'Haswell-v4,-hle' (default: the log's command line)",
    )
    p.add_argument(
        "--host",
        metavar="SPEC",
        help="a host CPUID dump (or what `cpudb host` accepts) to check the fixes against",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cpudb.app.diagnose import DiagnoseRequest, diagnose_case
    from cpudb.render import diagnose as report
    from cpudb.textinput import open_lines

    source = "<stdin>" if args.file == "-" else args.file
    lines = open_lines(args.file, "QEMU/KVM/libvirt log")
    diagnosis = diagnose_case(
        DiagnoseRequest(lines, source, args.qemu, args.cpu, args.host, args.db)
    )
    if args.json:
        from cpudb.render import print_json

        print_json("diagnose", report.to_json(diagnosis))
    else:
        sys.stdout.write(report.to_text(diagnosis))
    return 0 if any(f.role == "cause" for f in diagnosis.findings) else 1
