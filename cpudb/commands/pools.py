"""`cpudb pools HOST...`: a fleet split into live-migration pools, a CPU for each."""

from __future__ import annotations

import argparse
import sys

from cpudb.commands.baseline import add_format
from cpudb.commands.common import add_qemu, formatter, pick_release, split_list

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

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


def add_parser(sub: argparse._SubParsersAction) -> None:
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


def to_json(p: Any) -> dict[str, Any]:  # p: pools.Pools
    return {
        "qemu": p.qemu,
        "distinct_cpus": p.distinct,
        "pools": [
            {
                "vendor": x.vendor,
                "hosts": list(x.hosts),
                "weight": x.weight,
                "model": x.model,
                "cpu": x.baseline.cpu(),
                "qemu_args": f"-cpu {x.baseline.cpu(enforce=True)}" if x.model else None,
                "features": len(x.features),
                "without": [
                    {
                        "left_out": list(w.left_out),
                        "weight": w.weight,
                        "cpu": w.cpu,
                        "gains": list(w.gains),
                    }  # fmt: skip
                    for w in x.without
                ],
            }
            for x in p.pools
        ],
        "together": [{"vendor": v, "cpu": b.cpu(), "features": _n(b)} for v, b in p.together],
        "notes": list(p.notes),
    }


def _n(b: Any) -> int:
    from cpudb.pools import guest_features

    return len(guest_features(b))


def text(p: Any) -> str:
    n = sum(x.weight for x in p.pools)
    out = [
        f"QEMU {p.qemu}, KVM: {len(p.pools)} pool{'s' * (len(p.pools) != 1)} for {n} "
        f"host{'s' * (n != 1)} ({p.distinct} distinct CPU{'s' * (p.distinct != 1)})",
        "",
    ]
    for i, x in enumerate(p.pools, 1):
        hosts = ", ".join(x.hosts[:8]) + (f", ... ({len(x.hosts)})" if len(x.hosts) > 8 else "")
        out.append(f"Pool {i}: {x.vendor.strip()}, {x.weight} host{'s' * (x.weight != 1)}: {hosts}")
        if x.model is None:
            out.append("  no CPU name runs on every member:")
            out += [f"    - {s}" for s in x.baseline.advice.impossible]
        else:
            out.append(f"  -cpu {x.baseline.cpu(enforce=True)}")
            out.append(f"  {len(x.features)} guest features; {'; '.join(x.baseline.best.reasons)}")
        for w in x.without:
            left = ", ".join(w.left_out[:4]) + (", ..." if len(w.left_out) > 4 else "")
            out.append(
                f"  without {left} ({w.weight} host{'s' * (w.weight != 1)}): +{len(w.gains)} "
                f"({', '.join(w.gains[:8])}{', ...' if len(w.gains) > 8 else ''}): -cpu {w.cpu}"
            )
        out.append("")
    split = {x.vendor for x in p.pools if sum(y.vendor == x.vendor for y in p.pools) > 1}
    for v, b in p.together:
        if v in split:
            out.append(
                f"All {v.strip()} hosts in one pool: -cpu {b.cpu(enforce=True)} ({_n(b)} features)"
            )
    if p.notes:
        out += ([] if out[-1] == "" else [""]) + ["Notes:"] + [f"  - {s}" for s in p.notes]
    return "\n".join(out).rstrip("\n") + "\n"


def run(args: argparse.Namespace) -> int:
    from cpudb import linux_deps
    from cpudb.commands.advise import load_hosts, resolve_needs
    from cpudb.errors import CpudbError
    from cpudb.pools import pools
    from cpudb.query import open_db

    if args.min_pool < 1 or args.leave_out < 0:
        raise CpudbError(
            "--min-pool must be 1 or more, --leave-out 0 or more", hint="e.g. --min-pool 2"
        )
    weights = _weights(args.weight)
    db = open_db(args.db)
    release, _ = pick_release(db, args.qemu)
    needs = resolve_needs(release, split_list(args.needs)) if args.needs else []
    hosts = load_hosts(args.hosts, db, release)
    unknown = sorted(set(weights) - {h.name for h in hosts})
    if unknown:
        raise CpudbError(
            f"--weight names no host: {', '.join(unknown)}",
            hint="use the host's name as the output shows it (file name or node name)",
        )
    from cpudb.commands.baseline import names_for

    fmt = "json" if args.json else args.format
    names = names_for(fmt, release, args.libvirt)
    p = pools(
        release, hosts, needs, weights=weights, min_pool=args.min_pool,
        leave_out=args.leave_out, linux_deps=linux_deps.pairs(),
        accept=names.knows if names else None,
    )  # fmt: skip
    if fmt == "json":
        from cpudb.render import print_json

        print_json("pools", to_json(p))
    elif fmt == "text":
        sys.stdout.write(text(p))
    else:
        from cpudb.commands.baseline import config_of
        from cpudb.render_configs import xml_comment

        for i, x in enumerate(p.pools, 1):
            head = f"pool {i}: {x.vendor.strip()}, {', '.join(x.hosts[:8])}"
            head += ", ..." if len(x.hosts) > 8 else ""
            sys.stdout.write((xml_comment(head) if fmt == "libvirt" else f"# {head}") + "\n")
            if x.model is None:
                sys.stdout.write("# no CPU name runs on every member\n\n")
                continue
            sys.stdout.write(config_of(fmt, x.baseline, release, names) + "\n")
    return 0 if all(x.model for x in p.pools) else 1
