"""`cpudb show NAME`: what a CPU name gives a guest, down to the CPUID bit."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_accel, add_json, add_qemu, formatter

EPILOG = """\
examples:
  cpudb show Haswell-v4
  cpudb show Skylake-Server --qemu 4.0 --accel kvm
  cpudb show EPYC-Rome --json | jq .features
  cpudb show Skylake-Server --libvirt 9.0     libvirt 9.0's definition, in QEMU's terms"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "show",
        help="show one CPU name's features by CPUID leaf/register/bit",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Resolve a CPU name (aliases included) and list its features "
        "grouped by CPUID leaf and register, with its x86-64 level, notes, and "
        "what changed from the previous version.",
    )
    p.add_argument("name", metavar="NAME", help="a CPU name as -cpu takes it")
    add_qemu(p)
    add_accel(p)
    p.add_argument(
        "--libvirt",
        metavar="V",
        help="libvirt V's definition of the model (its cpu_map), in the release's names",
    )
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from cpudb.app.lookup import ShowRequest, show_case
    from cpudb.render import print_json
    from cpudb.render.show import show_json, show_text

    req = ShowRequest(args.name, args.qemu, args.accel, args.libvirt, args.db)
    view = show_case(req)
    if args.json:
        print_json("show", show_json(view))
    else:
        sys.stdout.write(show_text(view))
    return 0
