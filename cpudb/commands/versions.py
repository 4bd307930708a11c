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
    import sys

    from cpudb.app.database import versions
    from cpudb.render import database as rd
    from cpudb.render import print_json

    infos = versions(path=args.db)
    if args.json:
        print_json("versions", rd.versions_json(infos))
    else:
        sys.stdout.write(rd.versions_text(infos))
    return 0
