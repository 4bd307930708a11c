"""`cpudb models`: the CPU names of a release, filtered."""

from __future__ import annotations

import argparse

from cpudb.app.inputs import split_list
from cpudb.commands.common import add_accel, add_json, add_qemu, formatter

EPILOG = """\
examples:
  cpudb models --has pdpe1gb              CPU names whose definition has 1 GiB pages
  cpudb models --qemu 7.2 --vendor amd --level v3
  cpudb models --json | jq '.[] | select(.alias_of == null) | .name'

Kinds: version (Name-vN), alias (a named alias of a version), bare (Name = Name-v1 on
machine types >= 4.1), model (a full table entry, before QEMU 4.1)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "models",
        help="list the CPU names of a release (filter by features)",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Every name QEMU accepts after -cpu in one release, with "
        "vendor and feature count.",
    )
    add_qemu(p)
    p.add_argument(
        "--has",
        action="append",
        metavar="F,...",
        help="keep names that have all these features (any spelling)",
    )
    p.add_argument("--vendor", help="intel, amd, hygon or zhaoxin")
    p.add_argument("--level", metavar="vN", help="x86-64 micro-architecture level at least vN")
    add_accel(p)
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from cpudb.app.lookup import ModelsRequest, models_case
    from cpudb.render import print_json
    from cpudb.render.models import models_json, models_text

    has = tuple(split_list(args.has))
    models = models_case(
        ModelsRequest(args.qemu, has, args.vendor, args.level, args.accel, args.db)
    )
    if args.json:
        print_json("models", models_json(models))
    else:
        sys.stdout.write(models_text(models))
    return 0
