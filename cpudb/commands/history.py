"""`cpudb history`: a CPU name's or a feature's timeline over every release."""

from __future__ import annotations

import argparse
import sys

from cpudb.commands.common import formatter
from cpudb.errors import CpudbError, NotFound

DESCRIPTION = """\
A timeline over every release in the database. For a CPU name: when it appeared, which
features came and went in which release, when it became versioned (4.1), which versions
were added, when it was deprecated or removed. For a feature: when QEMU first named its
CPUID bit, its renames, and which CPU names gained or lost it (--model: one name, or a
model and every name built from it)."""

EPILOG = """\
examples:
  cpudb history Skylake-Server              its life from 2.10 on
  cpudb history --feature hle --model Skylake-Server
                                            which Skylake-Server names have TSX, since when
  cpudb history --feature pdpe1gb           every CPU name that gained or lost 1 GiB pages
  cpudb history --feature 0x80000001.edx.26 the same, by CPUID location
  cpudb history Haswell-IBRS --markdown
  cpudb history Icelake-Client --json | jq '.timeline[] | select(.events != [])'

Each upstream release is compared with the previous upstream release in the database;
releases not listed changed nothing. Gaps: the expected releases are every X.Y.0 from
the first to the last upstream release (Y up to the highest minor the database knows
for X); those missing from the database are shown as gaps, since a change listed in
the next release may have happened in them. Downstream builds (e.g. a RHEL fork) are not
part of the upstream line and are left out; --downstream shows each one as a branch,
compared with the newest upstream release not newer than it."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "history",
        help="when a CPU name or a feature changed, release by release",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=formatter(),
    )
    p.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help="a CPU name (with --feature: the same as --model NAME)",
    )
    p.add_argument(
        "--feature",
        metavar="F",
        help="a feature in any spelling, or a CPUID location such as 0x80000001.edx.26",
    )
    p.add_argument(
        "--model",
        metavar="NAME",
        help="with --feature: only this CPU name, or this model and every name built from it",
    )
    p.add_argument(
        "--downstream",
        action="store_true",
        help="also show downstream releases, each compared with its upstream base",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable output")
    out.add_argument("--markdown", action="store_true", help="Markdown, e.g. for release notes")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: on a terminal)",
    )
    p.set_defaults(run=run)


def resolve_feature(releases: list, text: str) -> str:  # noqa: ANN001
    """A feature name in any spelling (newest release first) -> comparable location id."""
    from cpudb.locations import canonical_location, subleafed_leaves
    from cpudb.names import FeatureNames

    first: NotFound | None = None
    for rel in reversed(releases):
        try:
            f = FeatureNames(rel).lookup(text)
        except NotFound as e:
            first = first or e
            continue
        return canonical_location(f.location, subleafed_leaves(releases))
    assert first is not None
    raise NotFound(f"no release in the database has a feature {text!r}", hint=first.hint)


def run(args: argparse.Namespace) -> int:
    from cpudb import history
    from cpudb.query import open_db
    from cpudb.render import history as render_history
    from cpudb.render import print_json
    from cpudb.render.paint import use_color

    if args.model and args.name and args.model != args.name:
        raise CpudbError(
            f"two CPU names given: {args.name} and --model {args.model}",
            hint="cpudb history --feature F --model NAME",
        )
    if args.model and not args.feature:
        raise CpudbError(
            "--model goes with --feature",
            hint=f"cpudb history {args.model}, or cpudb history --feature F --model {args.model}",
        )
    if not args.name and not args.feature:
        raise CpudbError(
            "history of what? give a CPU name or --feature F",
            hint="cpudb history Skylake-Server, cpudb history --feature hle",
        )
    releases = open_db(args.db).releases()
    if not releases:
        raise NotFound("the database has no releases", hint="cpudb db rebuild")
    if args.feature:
        location = resolve_feature(releases, args.feature)
        h = history.feature_history(
            releases, location, model=args.model or args.name, downstream=args.downstream
        )
    else:
        h = history.cpu_history(releases, args.name, downstream=args.downstream)
    if args.json:
        print_json("history", render_history.history_json(h))
    elif args.markdown:
        sys.stdout.write(render_history.history_markdown(h))
    else:
        sys.stdout.write(render_history.history_text(h, use_color(sys.stdout, args.color)))
    return 0
