"""`cpudb tui`: the Textual interface (textual is imported only here, inside `run`)."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_qemu, formatter

EPILOG = """\
examples:
  cpudb tui                                 newest release; type / to filter by name
  cpudb tui --qemu 7.2                      the newest 7.2.x
  cpudb tui --host prod-haswell             which names run on a stored host under KVM
  cpudb tui --host ../shared/hosts/intel-xeon-e5-2650-v3.cpuid

keys (? shows them all): / name filter · n needs (pdpe1gb la57) · w what each name
would need added · s sort · r release · Enter open · f feature · c compare · a advise
(y copies the -cpu line) · t light/dark · q quit"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tui",
        help="browse releases, CPU names and features in a terminal interface",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Browse the CPU names of a QEMU release, filter them by name and by "
        "the features a guest needs, open a name or a feature, compare two names (across "
        "releases too) and ask the advisor, keyboard first.",
    )
    add_qemu(p)
    p.add_argument(
        "--host",
        metavar="NAME|FILE",
        help="a host stored with `cpudb host add`, or a `cpuid -1 -r` dump FILE: show which "
        "CPU names it runs under KVM and their blockers",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cpudb.query import open_db

    # Bad --qemu / --host: a one-line error (exit 2) before the screen is taken over.
    db = open_db(args.db)
    qemu = db.resolve_version(args.qemu)
    if args.host:
        from cpudb.app.browse import host_brand

        host_brand(db, args.host)

    from cpudb.tui.app import make_app

    app = make_app(db_path=args.db, qemu=qemu, host=args.host)
    app.run()
    return int(app.return_code or 0)
