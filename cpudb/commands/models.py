"""`cpudb models`: the CPU names of a release, filtered."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_accel, add_json, add_qemu, formatter, pick_release, split_list

EPILOG = """\
examples:
  cpudb models --has pdpe1gb              CPU names whose definition has 1 GiB pages
  cpudb models --qemu 7.2 --vendor amd --level v3
  cpudb models --json | jq '.[] | select(.alias_of == null) | .name'

Kinds: version (Name-vN), alias (a named alias of a version), bare (Name = Name-v1 on
machine types >= 4.1), model (a full table entry, before QEMU 4.1)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    from cpudb import levels
    from cpudb.describe import filter_models
    from cpudb.query import open_db
    from cpudb.render import print_json, table

    rel, _ = pick_release(open_db(args.db), args.qemu)
    min_level = levels.parse_level(args.level) if args.level else None
    rows = filter_models(
        rel, has=split_list(args.has), vendor=args.vendor, min_level=min_level, accel=args.accel
    )
    if args.json:
        print_json(
            "models",
            [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "alias_of": c.alias_of,
                    "vendor": c.vendor,
                    "family": c.family,
                    "model": c.model_number,
                    "stepping": c.stepping,
                    "level": levels.level(rel, f),
                    "deprecated": bool(c.deprecation_note),
                    "features": sorted(f),
                }
                for c, f in rows
            ],
        )
        return 0
    print(f"QEMU {rel.version}: {len(rows)} of {len(rel.cpus)} CPU names")
    table(
        (
            [
                c.name,
                c.kind if not c.alias_of else f"{c.kind} -> {c.alias_of}",
                c.vendor,
                f"{c.family}/{c.model_number}",
                len(f),
                f"v{levels.level(rel, f)}",
                "deprecated" if c.deprecation_note else "",
            ]
            for c, f in rows
        ),
        ["name", "kind", "vendor", "fam/model", "features", "level", ""],
    )
    return 0
