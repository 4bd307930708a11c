"""`cpudb versions`: the QEMU releases in the database."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_json, formatter


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "versions",
        help="list the QEMU releases in the database",
        formatter_class=formatter(),
        description="List the QEMU releases in the database, oldest first.\n"
        "Downstream/patched builds (e.g. 8.1.0-rhel) are marked as such.",
        epilog="example:\n  cpudb versions --json | jq -r '.[].version'",
    )
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cpudb.query import open_db
    from cpudb.render import print_json, table

    infos = open_db(args.db).versions()
    if args.json:
        print_json(
            "versions",
            [
                {
                    "version": i.version,
                    "upstream": i.upstream,
                    "shipped": i.shipped,
                    "source": i.source,
                    "origin": i.origin,
                    "cpu_names": i.cpu_count,
                    "features": i.feature_count,
                }
                for i in infos
            ],
        )
        return 0
    table(
        (
            [
                i.version,
                "upstream" if i.upstream else "downstream",
                "shipped" if i.shipped else "yours",
                i.cpu_count,
                i.feature_count,
                i.origin,
            ]
            for i in infos
        ),
        ["version", "kind", "data", "cpu names", "features", "origin"],
    )
    return 0
