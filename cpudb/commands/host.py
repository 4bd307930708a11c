"""`cpudb host`: what a host CPU has and which CPU models it can run under KVM."""

from __future__ import annotations

import argparse
import sys

from cpudb.commands.common import add_json, add_qemu, formatter
from cpudb.errors import CpudbError

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    pass

DESCRIPTION = """\
Decode a host CPU against one QEMU release. A host FILE is read by its content: a `cpuid
-1 -r` or `cpuid -r` dump, /proc/cpuinfo, `lscpu -J`, `virsh domcapabilities` (libvirt's
host-model, and QEMU's own usable/blockers verdicts, which are honoured), `virsh
capabilities`, QMP answers (query-cpu-model-expansion of host, query-cpu-definitions) or
`kubectl get nodes -o json` (KubeVirt labels; many hosts, for baseline and pools); or
this machine, or QEMU itself under KVM. It shows its features by QEMU name, and for
every CPU name of the release whether it is usable under KVM or which features it
enables that the host lacks (its blockers; QEMU drops those with "host doesn't support
requested feature" unless `enforce` is set). Features the source cannot tell (MSR-based
ones such as mds-no or vmx-*, leaves missing from a dump) are reported as unknown, never
as absent, and are not blockers."""

EPILOG = """\
examples:
  cpuid -1 -r > box1.cpuid; cpudb host box1.cpuid      decode a dump, list usable models
  cpudb host box1.cpuid --qemu 7.2 --json              the same as JSON, for QEMU 7.2
  cpuid -1 -r | ssh admin cpudb host -                 a dump on stdin
  cpudb host --this-host                               what KVM gives a guest here (asked
                                                       of /dev/kvm; else this CPU's CPUID)
  cpudb host --qmp                                     ask QEMU under KVM what it allows
  cpudb host add box1 box1.cpuid                       keep it in the database as "box1"
  cpudb host box1 --qemu 9.2                           decode a stored host for QEMU 9.2
  cpudb host list                                      stored hosts
  cpudb host "Xeon Gold 6148"                          a catalogued real CPU, no dump needed
  cpudb host list --catalogue                          every catalogued CPU (libvirt's dumps)
  cpudb host rm box1
  cpudb host diff box1.cpuid box1-after.cpuid         drift after a microcode/kernel update:
                                                       features lost/gained, names now blocked
  cpudb host diff old.xml new.xml --pool b.xml c.xml  ... and whether the pool's -cpu still runs
  virsh dumpxml vm1 > vm1.xml; cpudb host check vm1.xml hostB.xml hostC.xml
                                                       can vm1 start on / migrate to these hosts?

JSON (`--json`): {"vendor", "family", "model", "stepping", "brand", "hypervisor",
"source", "qemu", "features": [QEMU names], "unknown": [...], "missing_leaves": [...],
"kvm_supplied": [...], "best": [...], "models": [{"name", "usable", "blockers",
"unknown", "alias_of"}]}; with --qmp each model also has "qemu_unavailable"."""

SUBCOMMANDS = ("add", "list", "rm", "diff", "check")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "host",
        help="what a host CPU has; which models it can run under KVM",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=formatter(),
    )
    p.add_argument(
        "args",
        nargs="*",
        metavar="FILE|NAME|add|list|rm",
        help="a dump file, - for stdin, a stored host NAME; or `add NAME SOURCE`, "
        "`list`, `rm NAME`",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--this-host",
        action="store_true",
        help="this machine: what KVM gives a guest (KVM_GET_SUPPORTED_CPUID on /dev/kvm), "
        "else the CPU's CPUID (/dev/cpu/0/cpuid, cpuid -1 -r or /proc/cpuinfo)",
    )
    src.add_argument(
        "--qmp",
        action="store_true",
        help="ask QEMU under KVM on this machine (the `host` model and each "
        "model's unavailable-features)",
    )
    p.add_argument("--binary", metavar="PATH", help="QEMU binary for --qmp")
    p.add_argument(
        "--pool",
        nargs="+",
        default=[],
        metavar="HOST",
        help="with `diff`: the other hosts of its pool (does the pool's -cpu still run?)",
    )
    add_qemu(p)
    p.add_argument(
        "--all",
        action="store_true",
        help="list every usable CPU name (default: usable names grouped by model)",
    )
    p.add_argument(
        "--catalogue",
        action="store_true",
        help="with `list`: the catalogued real CPUs (names `cpudb host` and `advise "
        "--host` take when no dump is at hand) instead of the stored hosts",
    )
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    words = list(args.args)
    if words and words[0] == "diff":
        return _diff(args, words[1:])
    if words and words[0] == "check":
        return _check(args, words[1:])
    if words and words[0] in SUBCOMMANDS:
        return _manage(args, words)
    spec = _spec(args, words, "cpudb host FILE")
    return _show(args, spec)


def _spec(args: argparse.Namespace, words: list[str], usage: str) -> str:
    given = (
        [w for w in words]
        + (["this-host"] if args.this_host else [])
        + (["qmp"] if args.qmp else [])
    )
    if len(given) != 1:
        what = "no host given" if not given else f"one host at a time, got {' '.join(given)}"
        raise CpudbError(f"{what}", hint=f"{usage}, - (stdin), --this-host or --qmp")
    return given[0]


def _show(args: argparse.Namespace, spec: str) -> int:
    from cpudb.app.host import host_case
    from cpudb.render import host as rh

    v = host_case(spec, args.qemu, args.binary, args.db)
    if args.json:
        from cpudb.render import print_json

        print_json("host", rh.to_json(v))
    else:
        sys.stdout.write(rh.text(v, show_all=args.all))
    return 0


# ----------------------------------------------------------- diff


def _diff(args: argparse.Namespace, rest: list[str]) -> int:
    from cpudb.app.host import drift_case
    from cpudb.render import host as rh

    if len(rest) != 2:
        raise CpudbError(
            f"`cpudb host diff` takes BEFORE and AFTER (got {len(rest)})",
            hint="cpudb host diff box1-before.cpuid box1-after.cpuid",
        )
    d = drift_case(rest[0], rest[1], tuple(args.pool or ()), args.qemu, args.db)
    if args.json:
        from cpudb.render import print_json

        print_json("host.diff", rh.drift_json(d))
    else:
        sys.stdout.write(rh.drift_text(d))
    return 1 if d.changed else 0


def _check(args: argparse.Namespace, rest: list[str]) -> int:
    from cpudb.app.host import check_case
    from cpudb.render import host as rh

    if len(rest) < 2:
        raise CpudbError(
            "`cpudb host check` takes a domain XML and one or more hosts",
            hint="virsh dumpxml VM > vm.xml; cpudb host check vm.xml HOST...",
        )
    r = check_case(rest[0], tuple(rest[1:]), args.qemu, args.db)
    if args.json:
        from cpudb.render import print_json

        print_json("host.check", rh.check_json(r))
    else:
        sys.stdout.write(rh.check_text(r))
    return 0 if r.runs_everywhere else 1


# ----------------------------------------------------------- add / list / rm


def _manage(args: argparse.Namespace, words: list[str]) -> int:
    from cpudb.app import hosts
    from cpudb.render import hosts as rh
    from cpudb.render import print_json

    verb, rest = words[0], words[1:]
    if verb == "list":
        if rest:
            raise CpudbError(f"`cpudb host list` takes no arguments (got {' '.join(rest)})")
        if args.catalogue:
            from cpudb import cpus

            rows, source = cpus.entries(), cpus.source()
            if args.json:
                print_json("host.catalogue", rh.catalogue_json(rows, source))
            else:
                sys.stdout.write(rh.catalogue_text(rows, source))
            return 0
        stored = hosts.stored_hosts()
        if args.json:
            print_json("hosts", rh.stored_json(stored))
        else:
            sys.stdout.write(rh.stored_text(stored))
        return 0
    if not rest:
        raise CpudbError(
            f"`cpudb host {verb}` needs a NAME",
            hint="cpudb host add NAME FILE | cpudb host rm NAME",
        )
    name = rest[0]
    if verb == "rm":
        if len(rest) > 1 or args.this_host or args.qmp:
            raise CpudbError("`cpudb host rm` takes one NAME")
        hosts.remove_host(name)
        print(f"removed host {name}")
        return 0
    hosts.check_name(name, SUBCOMMANDS)
    spec = _spec(args, rest[1:], f"cpudb host add {name} FILE")
    added = hosts.add_host(hosts.AddRequest(name, spec, args.binary, SUBCOMMANDS, args.db))
    if args.json:
        print_json("host.add", rh.added_json(added))
    else:
        sys.stdout.write(rh.added_text(added))
    return 0
