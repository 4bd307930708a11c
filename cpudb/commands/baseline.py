"""`cpudb baseline HOST...`: one CPU for a pool of hosts (live migration)."""

from __future__ import annotations

import argparse
import sys

from cpudb.app.inputs import split_list
from cpudb.commands.common import add_qemu, formatter

CONFIGS = ("qemu", "libvirt", "nova", "proxmox", "kubevirt")


def add_format(p: argparse.ArgumentParser) -> None:
    """--format/--json of the fleet commands (baseline, pools)."""
    p.add_argument(
        "--format",
        choices=("text", "json", *CONFIGS),
        default="text",
        help="text (default), json, qemu (the -cpu argument), libvirt (domain XML <cpu>), "
        "nova (nova.conf and flavor traits), proxmox, kubevirt",
    )
    p.add_argument("--json", action="store_true", help="same as --format json")
    from cpudb.commands.advise import add_libvirt

    add_libvirt(p)


def fleet_fields(args: argparse.Namespace, fmt: str) -> dict[str, Any]:
    """The `cpudb.app.fleet.FleetRequest` fields of baseline's and pools' arguments."""
    return {
        "hosts": tuple(args.hosts),
        "needs": tuple(split_list(args.needs)),
        "qemu": args.qemu,
        "fmt": fmt,
        "libvirt": args.libvirt,
        "db": args.db,
    }


TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

EPILOG = """\
examples:
  cpudb baseline haswell.cpuid skylake.cpuid          the -cpu every host can run
  cpudb baseline rack1-a rack1-b --needs pdpe1gb --qemu 7.2
  cpudb baseline *.cpuid --json | jq -r .cpu

HOST: a name stored with `cpudb host add`, a host FILE in any format `cpudb host` reads
(cpuid dump, /proc/cpuinfo, lscpu -J, virsh domcapabilities/capabilities, QMP answers,
kubectl get nodes -o json), - for stdin, this-host (what this machine's KVM gives a
guest) or qmp (QEMU's own `host` model here). Hosts of several CPU vendors cannot
live-migrate between each other: `cpudb pools` splits them (or --cross-vendor).
Under KVM a guest can only see what every host has, or it cannot migrate.
The answer: the best CPU name with no blocker on any host (ranked as `cpudb advise`
ranks, closeness to what the hosts share), the extra flags every host has, and the next
better model with which host lacks which features.

Exit status: 0 with an answer, 1 when no CPU name fits every host, 2 for bad input."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "baseline",
        help="the best CPU name and flags every host of a pool can run (live migration)",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="For a pool of hosts (live migration): the newest CPU name usable on\n"
        "every host, plus the extra flags all hosts share; and for the next better\n"
        "model, which host blocks it with which features.",
    )
    p.add_argument(
        "hosts", nargs="+", metavar="HOST", help="stored host name, dump file, -, this-host or qmp"
    )
    add_qemu(p)
    p.add_argument(
        "--needs",
        action="append",
        metavar="F[,F...]",
        help="features the guest must have (any spelling)",
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
        help="one model for hosts of several CPU vendors anyway (no live migration between them)",
    )
    add_format(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cpudb.app.fleet import BaselineRequest, baseline_case
    from cpudb.render import baseline as rb

    fmt = "json" if args.json else args.format
    r = baseline_case(
        BaselineRequest(
            **fleet_fields(args, fmt),
            vendors=tuple(split_list(args.vendor)),
            cross_vendor=args.cross_vendor,
        )
    )
    b = r.baseline
    if b.best is None:
        for s in b.advice.impossible:
            print(f"cpudb: {s}", file=sys.stderr)
    if fmt == "json":
        from cpudb.render import print_json

        print_json("baseline", rb.to_json(b))
    elif fmt == "text":
        sys.stdout.write(rb.text(b))
    elif b.best is not None:
        from cpudb.app.libvirt import nova_traits

        sys.stdout.write(rb.config_of(fmt, b, r.names, r.deprecated, nova_traits()))
    return 0 if b.best is not None else 1
