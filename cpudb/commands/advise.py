"""`cpudb advise --needs F`: which -cpu (and which extra flags) give a guest what it needs."""

from __future__ import annotations

import argparse
import sys

from cpudb.app.inputs import split_list
from cpudb.commands.common import add_qemu, formatter

EPILOG = """\
examples:
  cpudb advise --needs pdpe1gb                  1 GiB pages: a model that has it, or
                                                Haswell-v4,pdpe1gb=on
  cpudb advise --needs pdpe1gb --qemu 7.2 --json | jq -r '.candidates[0].cpu'
  cpudb advise --needs la57 --host prod-haswell   impossible under KVM there, and why
  cpudb advise --needs avx2,CPUID.80000001H:EDX[26] --host a.cpuid --host b.cpuid
  cpudb advise --needs x86-64-v3 --vendor amd --format libvirt
  cpudb advise --needs rhel9                    "CPU does not support x86-64-v2"
  cpudb advise --needs pdpe1gb --this-host --recommended --format proxmox

Needs in any spelling: QEMU names old and new (sse4.1, sse4_1), Linux /proc/cpuinfo
names, libvirt names, CPUID locations (CPUID.80000001H:EDX[26], 0x80000001.edx.26),
an x86-64 level (x86-64-v3 = every feature of levels v1-v3), or a guest OS whose
vendor states what it needs: rhel9 (x86-64-v2), rhel10 (x86-64-v3), sles16,
windows10, windows11 (24H2: + sse4.2, popcnt), centos-stream9/10, alma9, rocky9.

Hosts: a name stored with `cpudb host add`, a `cpuid -1 -r` dump FILE, `-` for stdin,
--this-host (what this machine's KVM gives a guest) or --qmp (QEMU's own `host` model
here). Under KVM a guest can only get what every host has: names whose features a host
lacks are dropped (--all keeps them, marked), and no flag a host lacks is added. With no
host the answer is ranked for the most real hosts (a catalogue of real CPUs), and when
/dev/kvm works here the answer for this machine and `-cpu host` follow it. Under TCG
hosts do not matter; what TCG emulates does.

The release: --qemu, else that of the installed qemu-system-x86_64 (the header says
which), else the newest.

Exit status: 0 with at least one candidate, 1 when none (the reason on stderr),
2 for bad input."""

FORMATS = ("text", "json", "qemu", "libvirt", "nova", "proxmox", "kubevirt")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "advise",
        help="which -cpu (and extra flags) give a guest the features it needs",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Rank the CPU names of a QEMU release for the features a guest needs:\n"
        "names that have them natively first, then names plus the fewest added flags,\n"
        "on the hosts given. Every answer carries its reasons.",
    )
    p.add_argument(
        "--needs",
        action="append",
        required=True,
        metavar="F[,F...]",
        help="features the guest needs (repeatable; comma or space separated)",
    )
    add_qemu(p)
    p.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME|FILE",
        help="a host the guest must run on (repeatable): stored name, cpuid "
        "dump file, or - for stdin",
    )
    p.add_argument(
        "--this-host",
        action="store_true",
        help="add this machine: what its KVM gives a guest (asked of /dev/kvm)",
    )
    p.add_argument(
        "--qmp",
        action="store_true",
        help="add this machine as QEMU itself sees it under KVM (the `host` model)",
    )
    p.add_argument(
        "--accel", choices=("kvm", "tcg"), default="kvm", help="accelerator (default: kvm)"
    )
    p.add_argument(
        "--vendor",
        action="append",
        metavar="V",
        help="only CPU models of this vendor: intel, amd, hygon, zhaoxin",
    )
    p.add_argument(
        "--cross-vendor",
        action="store_true",
        help="allow adding a flag that only another vendor's models have "
        "(svm on an Intel model, ...)",
    )
    p.add_argument(
        "--recommended",
        action="store_true",
        help="also add the flags QEMU's documentation recommends for the model's "
        "vendor (pcid, spec-ctrl, ssbd, md-clear, ibpb, virt-ssbd, ...) that "
        "every host supports",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default, with reasons), json, qemu (the -cpu argument), "
        "libvirt (domain XML <cpu>), nova (nova.conf and flavor traits), proxmox, "
        "kubevirt (VM spec.domain.cpu and the KubeVirt CR)",
    )
    p.add_argument("--json", action="store_true", help="same as --format json")
    add_libvirt(p)
    p.add_argument(
        "--all",
        action="store_true",
        help="list every CPU name (text), and keep blocked ones, marked",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="boot the first answer (and this machine's) in the probe guest under this "
        "machine's QEMU and mark each proven or not (see `cpudb probe`)",
    )
    p.add_argument(
        "--limit",
        type=int,
        default=8,
        metavar="N",
        help="models shown per group in text (default: 8)",
    )
    p.set_defaults(run=run)


def add_libvirt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--libvirt",
        metavar="V",
        help="for libvirt, nova, proxmox and kubevirt: the names libvirt V knows "
        "(default: the installed libvirt; libvirt before 10.x has no versioned names)",
    )


def run(args: argparse.Namespace) -> int:
    from cpudb.app.advise import AdviseRequest, advise_case
    from cpudb.errors import CpudbError
    from cpudb.render import advice as ra

    fmt = "json" if args.json else args.format
    if args.limit < 1:
        raise CpudbError(f"--limit {args.limit}: must be at least 1")
    if args.verify and fmt not in ("text", "json"):
        raise CpudbError(f"--verify with --format {fmt}", hint="--verify reports in text or json")
    specs = (
        list(args.host) + (["this-host"] if args.this_host else []) + (["qmp"] if args.qmp else [])
    )
    r = advise_case(
        AdviseRequest(
            needs=tuple(split_list(args.needs)),
            qemu=args.qemu,
            accel=args.accel,
            vendors=tuple(split_list(args.vendor)),
            cross_vendor=args.cross_vendor,
            hosts=tuple(specs),
            recommended=args.recommended,
            keep_blocked=args.all,
            verify=args.verify,
            history=fmt in ("text", "json"),
            db=args.db,
        )
    )
    best = r.advice.best
    if best is None:
        for s in r.advice.impossible:
            print(f"cpudb: {s}", file=sys.stderr)
    if fmt == "json":
        from cpudb.render import print_json

        doc = ra.to_json(
            r.advice,
            since_model=r.since_model,
            since_name=r.since_name,
            qemu_from=r.picked.why,
            here=r.here,
        )
        if r.verified is not None:
            doc["verified"] = [v.to_json() for v in r.verified]
        print_json("advise", doc)
    elif fmt == "text":
        sys.stdout.write(
            ra.text(
                r.advice,
                limit=args.limit,
                show_all=args.all,
                since_model=r.since_model,
                qemu_from="" if args.qemu else r.picked.why,
                here=r.here,
            )
        )
        if r.verified is not None:
            sys.stdout.write(ra.verified_text(r.verified))
    elif best is not None and fmt == "qemu":
        print(ra.qemu_arg(best))
    elif best is not None:
        from cpudb.app.advise import config_pick
        from cpudb.app.libvirt import deprecated_names, libvirt_names, nova_traits
        from cpudb.libvirt_model import Answer
        from cpudb.render.configs import config

        names = libvirt_names(r.release, args.libvirt)
        pick, rest = config_pick(r.advice, names)
        answer = Answer(pick, r.needs, alternates=rest, deprecated=deprecated_names(r.release))
        sys.stdout.write(config(fmt, answer, names, nova_traits()))
    return 0 if best is not None else 1
