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
    import time

    from cpudb import store
    from cpudb.paths import db_path
    from cpudb.render import print_json
    from cpudb.store_build import build

    path = db_path(args.db)
    if args.action == "path":
        print(path)
        return 0
    if args.action == "rebuild":
        t = time.perf_counter()
        counts = build(path)
        dt = time.perf_counter() - t
        if args.json:
            print_json("db.rebuild", {"path": str(path), "seconds": round(dt, 3), **counts})
        else:
            print(
                f"rebuilt {path}: {counts['releases']} releases, {counts['cpus']} CPU names, "
                f"{counts['matrix']} matrix rows in {dt:.2f}s"
            )
        return 0
    info = store.Store.open(path).info()
    if args.json:
        print_json("db.info", info)
        return 0
    print(
        f"{info['path']} ({info['size'] / 1e6:.1f} MB, schema {info['schema']}, "
        f"built by cpudb {info['built_by']})"
    )
    for t, n in info["tables"].items():
        print(f"  {t:<13} {n}")
    return 0
