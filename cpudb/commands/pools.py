"""`cpudb pools HOST...`: a fleet split into live-migration pools, a CPU for each."""

from __future__ import annotations

import argparse
import sys

from cpudb.commands.baseline import add_format, fleet_fields
from cpudb.commands.common import add_qemu, formatter

EPILOG = """\
examples:
  cpudb pools hosts/*.cpuid                      pools and a -cpu for each
  kubectl get nodes -o json > nodes.json; cpudb pools nodes.json
  cpudb pools rack1/*.xml --weight rack1-a.xml=40 --needs pdpe1gb --json | jq .pools

HOST: a name stored with `cpudb host add`, or a file in any format `cpudb host` reads
(cpuid dump, /proc/cpuinfo, lscpu -J, virsh domcapabilities/capabilities, QMP answers,
kubectl get nodes -o json with KubeVirt's labels, which holds many hosts).

Pools never mix CPU vendors (a KVM guest sees its host's vendor: no migration across).
Within a vendor, hosts are grouped by the model family of their own best CPU name;
a group lighter than --min-pool joins the pool where the merge loses the fewest guest
features, summed over the hosts.
Each pool's -cpu is `cpudb baseline` of its members: every member runs it. For each pool,
"without" says what leaving out its weakest hosts would gain.

Exit status: 0 with a model for every pool, 1 when some pool has none, 2 for bad input."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "pools",
        help="split a fleet into live-migration pools, each with a CPU every member runs",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Split hosts into live-migration pools (never across vendors), each\n"
        "with the best CPU name and flags all its members run, and what leaving out its\n"
        "weakest hosts would gain.",
    )
    p.add_argument("hosts", nargs="+", metavar="HOST", help="stored host name or host file")
    add_qemu(p)
    p.add_argument(
        "--needs", action="append", metavar="F[,F...]", help="features every guest must have"
    )
    p.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="HOST=N",
        help="count HOST as N hosts (N identical machines behind one file)",
    )
    p.add_argument(
        "--min-pool",
        type=int,
        default=2,
        metavar="N",
        help="smallest pool, in hosts (default 2: one host has nowhere to migrate to)",
    )
    p.add_argument(
        "--leave-out",
        type=int,
        default=2,
        metavar="K",
        help="show what leaving out each pool's weakest 1..K CPUs gains (default 2)",
    )
    add_format(p)
    p.set_defaults(run=run)


def _weights(items: list[str]) -> dict[str, int]:
    from cpudb.errors import CpudbError

    out = {}
    for it in items:
        name, _, n = it.rpartition("=")
        if not name or not n.isdigit() or int(n) < 1:
            raise CpudbError(f"--weight {it!r}: not HOST=N", hint="e.g. --weight rack1.cpuid=40")
        out[name] = int(n)
    return out


def run(args: argparse.Namespace) -> int:
    from cpudb.app.fleet import PoolsRequest, pools_case
    from cpudb.render import pools as rp

    fmt = "json" if args.json else args.format
    r = pools_case(
        PoolsRequest(
            **fleet_fields(args, fmt),
            weights=_weights(args.weight),
            min_pool=args.min_pool,
            leave_out=args.leave_out,
        )
    )
    p = r.pools
    if fmt == "json":
        from cpudb.render import print_json

        print_json("pools", rp.to_json(p))
    elif fmt == "text":
        sys.stdout.write(rp.text(p))
    else:
        from cpudb.app.libvirt import nova_traits
        from cpudb.render.baseline import config_of
        from cpudb.render.configs import xml_comment

        traits = nova_traits()
        for i, x in enumerate(p.pools, 1):
            head = f"pool {i}: {x.vendor.strip()}, {', '.join(x.hosts[:8])}"
            head += ", ..." if len(x.hosts) > 8 else ""
            sys.stdout.write((xml_comment(head) if fmt == "libvirt" else f"# {head}") + "\n")
            if x.model is None:
                sys.stdout.write("# no CPU name runs on every member\n\n")
                continue
            sys.stdout.write(config_of(fmt, x.baseline, r.names, r.deprecated, traits) + "\n")
    return 0 if all(x.model for x in p.pools) else 1
