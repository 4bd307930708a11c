"""`cpudb baseline HOST...`: one CPU for a pool of hosts (live migration)."""

from __future__ import annotations

import argparse
import sys

from cpudb.commands.common import add_qemu, formatter, pick_release, split_list

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


def names_for(fmt: str, release: Any, libvirt: str | None = None) -> Any:
    """For libvirt's formats, the libvirt names they use (read once per command); None for
    text, json and qemu. Its `knows` keeps the CPU names libvirt has (libvirt < 10: no -vN)."""
    if fmt in ("text", "json", "qemu"):
        return None
    from cpudb.commands.advise import libvirt_names

    return libvirt_names(release, libvirt)


def config_of(fmt: str, b: Any, release: Any, names: Any) -> str:  # b: baseline.Baseline
    """One pool's CPU in a config format: its best name plus the extra flags."""
    from cpudb.commands.advise import deprecated_names, render_config
    from cpudb.render_configs import Answer

    if fmt == "qemu":
        return f"-cpu {b.cpu(enforce=True)}\n"
    answer = Answer(
        b.best,
        tuple(b.needs),
        extras=tuple(a.name for a in b.extras),
        deprecated=deprecated_names(release),
    )
    return render_config(fmt, answer, names)


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


def add_parser(sub: argparse._SubParsersAction) -> None:
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


def to_json(b: Any) -> dict[str, Any]:  # b: baseline.Baseline
    from cpudb.render_advice import candidate_json, need_json

    nxt = b.next_better
    return {
        "qemu": b.qemu,
        "hosts": list(b.hosts),
        "needs": [need_json(n, None) for n in b.needs],
        "model": b.best.name if b.best else None,
        "adds": [a.name for a in b.best.adds] if b.best else [],
        "extras": [a.name for a in b.extras],
        "cpu": b.cpu(),
        "qemu_args": f"-cpu {b.cpu(enforce=True)}" if b.best else None,
        "skipped": [{"flag": f, "why": w} for f, w in b.skipped],
        "next_better": None
        if nxt is None
        else {
            "model": nxt.name,
            "model_family": nxt.model,
            "blockers": [{"host": h, "missing": list(m)} for h, m in nxt.blockers],
        },
        "candidate": candidate_json(b.best) if b.best else None,
        "impossible": list(b.advice.impossible),
        "notes": list(b.notes),
    }


def text(b: Any) -> str:  # b: baseline.Baseline
    n = len(b.hosts)
    out = [f"QEMU {b.qemu}, KVM, pool of {n} host{'s' * (n != 1)}: {', '.join(b.hosts)}"]
    if b.needs:
        out.append(f"needs: {', '.join(n.name for n in b.needs)}")
    out.append("")
    if b.best is None:
        out.append("No CPU name runs on every host:")
        out += [f"  - {s}" for s in b.advice.impossible]
        return "\n".join(out) + "\n"
    out.append(f"Baseline:  -cpu {b.cpu(enforce=True)}")
    out.append(f"  {b.best.name}: {'; '.join(b.best.reasons)}")
    for n in b.best.notes:
        out.append(f"  note: {n}")
    if b.extras:
        out.append(
            f"  extra flags every host has ({len(b.extras)}): "
            + ", ".join(a.name for a in b.extras)
        )
    if b.skipped:
        out.append("  shared by every host but not added:")
        out += [f"    {f}: {why}" for f, why in b.skipped]
    out.append("")
    nxt = b.next_better
    if nxt is None:
        out.append("Next better model: none (no newer model of the hosts' vendor in this QEMU)")
    else:
        out.append(f"Next better model: {nxt.name} ({nxt.model})")
        if not nxt.blockers:
            out.append("  no host blocks it (it ranked lower: see `cpudb advise --host ...`)")
        for h, missing in nxt.blockers:
            out.append(f"  {h} lacks {len(missing)}: {', '.join(missing)}")
    out.append("")
    out.append("Notes:")
    out += [f"  - {n}" for n in b.notes]
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    from cpudb import linux_deps
    from cpudb.baseline import baseline
    from cpudb.commands.advise import load_hosts, resolve_needs
    from cpudb.query import open_db

    db = open_db(args.db)
    release, _ = pick_release(db, args.qemu)
    needs = resolve_needs(release, split_list(args.needs)) if args.needs else []
    vendors: list[str] = []
    if args.vendor:
        from cpudb.describe import vendor_strings

        for v in split_list(args.vendor):
            vendors += vendor_strings(v)
    hosts = load_hosts(args.hosts, db, release)
    makers = sorted({h.vendor.strip() or "unknown" for h in hosts})
    if len(makers) > 1 and not args.cross_vendor:
        from cpudb.errors import CpudbError

        raise CpudbError(
            f"the hosts are of {len(makers)} CPU vendors ({', '.join(makers)}): a KVM guest "
            "sees its host's vendor, and QEMU/KVM do not live-migrate between vendors",
            hint="`cpudb pools HOST...` splits them into pools; --cross-vendor for one "
            "model anyway",
        )
    fmt = "json" if args.json else args.format
    names = names_for(fmt, release, args.libvirt)
    b = baseline(
        release,
        hosts,
        needs,
        vendors=vendors,
        linux_deps=linux_deps.pairs(),
        accept=names.knows if names else None,
    )
    if b.best is None:
        for s in b.advice.impossible:
            print(f"cpudb: {s}", file=sys.stderr)
    if fmt == "json":
        from cpudb.render import print_json

        print_json("baseline", to_json(b))
    elif fmt == "text":
        sys.stdout.write(text(b))
    elif b.best is not None:
        sys.stdout.write(config_of(fmt, b, release, names))
    return 0 if b.best is not None else 1
