"""`cpudb diff`: what changed between two releases, or between two CPU names."""

from __future__ import annotations

import argparse
import re
import sys

from cpudb.commands.common import add_accel, formatter

DESCRIPTION = """\
Compare two QEMU releases (what an upgrade changes for guests), or two CPU names side
by side, in one release or across two. Features are compared by CPUID location, so a
new spelling of the same bit (sse4_1 -> sse4.1, fxsr_opt -> fxsr-opt) is listed as a
rename, not as a removal plus an addition."""

EPILOG = """\
two releases: --qemu A B [NAME...]
  cpudb diff --qemu 4.0 4.1                 names added/removed, models that became
                                            aliases, features gained/lost per name
  cpudb diff --qemu 7.2 8.2 Haswell EPYC    only for these CPU names
  cpudb diff --qemu 2.7 2.8 --markdown      release notes (2.8 renamed 19 features)
  cpudb diff --qemu 8.2 9.0 --json | jq '.changed | keys'

two CPU names: NAME1 NAME2 [--qemu V], or NAME@A NAME@B across releases
  cpudb diff Cascadelake-Server-v1 Cascadelake-Server-v5
  cpudb diff Haswell Broadwell --qemu 7.2
  cpudb diff Skylake-Server@2.12 Skylake-Server@9.2
  cpudb diff Skylake-Server@libvirt-9.0 Skylake-Server-v1@7.2   libvirt's model vs QEMU's

Releases: 7.2.0 exactly, or a prefix such as 7.2 (the newest 7.2.x); default: the newest
upstream release. Text output marks + added / - removed / ~ changed / = renamed, with
the CPUID location of each feature; colour on a terminal (--color, NO_COLOR).
JSON: {"from", "to", "added", "removed", "nature_changed", "changed": {name: {"added",
"removed"}}, "aliases_moved", "notes_changed", "renamed", "features_new", ...} for
releases; {"first", "second", "only_in_first", "only_in_second", "common", "renamed"}
for CPU names."""

_VERSION = re.compile(r"v?\d+(?:\.\d+)+(?:[-+~][\w.+~-]*)?|v?\d{1,2}")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff",
        help="what changed between two releases or two CPU names",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=formatter(),
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="CPU names: two to compare (NAME or NAME@RELEASE), or with --qemu A B "
        "the names to limit the release diff to",
    )
    p.add_argument(
        "--qemu",
        nargs="+",
        metavar="V",
        help="two releases to compare (A B), or one release for NAME1 NAME2",
    )
    add_accel(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable output")
    out.add_argument("--markdown", action="store_true", help="Markdown, e.g. for release notes")
    p.add_argument(
        "--common",
        action="store_true",
        help="NAME1 NAME2: list the features in both with their locations too",
    )
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: on a terminal)",
    )
    p.set_defaults(run=run)


def split_arguments(qemu: list[str], names: list[str]) -> tuple[list[str], list[str]]:
    """(releases, CPU names): `--qemu 4.0 4.1 Haswell` puts Haswell in --qemu's list, so
    only the version-shaped leading values of --qemu are releases."""
    versions: list[str] = []
    rest = list(qemu)
    while rest and _VERSION.fullmatch(rest[0]):
        versions.append(rest.pop(0))
    extra = rest + list(names)
    if not qemu and len(extra) == 2 and all(_VERSION.fullmatch(n) for n in extra):
        return extra, []  # `cpudb diff 4.0 4.1`
    return versions, extra


def run(args: argparse.Namespace) -> int:
    from cpudb.app.compare import DiffRequest, diff_case
    from cpudb.diff import ReleaseDiff
    from cpudb.render import diff as render_diff
    from cpudb.render import print_json
    from cpudb.render.paint import use_color

    versions, names = split_arguments(args.qemu or [], args.names)
    d = diff_case(DiffRequest(tuple(versions), tuple(names), args.accel, args.db))
    if isinstance(d, ReleaseDiff):
        if args.json:
            print_json("diff.releases", render_diff.release_diff_json(d))
        elif args.markdown:
            sys.stdout.write(render_diff.release_diff_markdown(d))
        else:
            sys.stdout.write(render_diff.release_diff_text(d, use_color(sys.stdout, args.color)))
    elif args.json:
        print_json("diff.cpus", render_diff.cpu_diff_json(d))
    elif args.markdown:
        sys.stdout.write(render_diff.cpu_diff_markdown(d))
    else:
        color = use_color(sys.stdout, args.color)
        sys.stdout.write(render_diff.cpu_diff_text(d, color, show_common=args.common))
    return 0
