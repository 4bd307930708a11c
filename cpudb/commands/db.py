"""`cpudb db path|rebuild|info`: the derived SQLite database."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_json, formatter


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "db",
        help="where the database is; rebuild it; what it holds",
        formatter_class=formatter(),
        description="The SQLite feature matrix is derived from the shipped "
        "snapshots (and those you scraped). It is rebuilt automatically when "
        "they change; `rebuild` forces it. --db PATH or $CPUDB_DB choose the file.",
        epilog="examples:\n  cpudb db path\n  cpudb db rebuild\n"
        '  datasette "$(cpudb db path)"     browse the matrix',
    )
    p.add_argument("action", choices=("path", "rebuild", "info"))
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from cpudb.app import database
    from cpudb.render import database as rd
    from cpudb.render import print_json

    if args.action == "path":
        print(database.database_path(args.db))
    elif args.action == "rebuild":
        r = database.rebuild(args.db)
        if args.json:
            print_json("db.rebuild", rd.rebuilt_json(r))
        else:
            sys.stdout.write(rd.rebuilt_text(r))
    elif args.json:
        print_json("db.info", rd.info_json(database.info(args.db)))
    else:
        sys.stdout.write(rd.info_text(database.info(args.db)))
    return 0
