"""`cpudb feature NAME`: where a feature lives and which CPU names have it."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_json, add_qemu, formatter

EPILOG = """\
examples:
  cpudb feature pdpe1gb
  cpudb feature sse4_1                     any spelling: QEMU old/new, Linux, libvirt
  cpudb feature CPUID.80000001H:EDX[26]    or a CPUID location"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "feature",
        help="where a feature lives and which CPU names have it",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Where a feature lives (CPUID leaf/register/bit or MSR), its "
        "names, which CPU names of a release have it, and since when.",
    )
    p.add_argument("name", metavar="NAME", help="feature name or CPUID location")
    add_qemu(p)
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from cpudb.app.lookup import FeatureRequest, feature_case
    from cpudb.render import print_json
    from cpudb.render.feature import feature_json, feature_text

    result = feature_case(FeatureRequest(args.name, args.qemu, args.db))
    if args.json:
        print_json("feature", feature_json(result))
    else:
        sys.stdout.write(feature_text(result))
    return 0
