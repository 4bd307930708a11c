"""`cpudb scrape qemu|qmp`: read a release into a snapshot (and the database)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cpudb.errors import CpudbError, SourceError

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from collections.abc import Callable

    from cpudb.model import Release

HELP_QEMU = """\
Parse QEMU's x86 CPU model table (target/i386/cpu.c + cpu.h) from one source:
  --source DIR       an unpacked QEMU tree
  --tarball FILE     a release or Debian orig tarball (only the few files needed are read)
  --git DIR          a local clone, with --ref REF... or --tags GLOB (many releases)
  --tag vX.Y.Z       download the files of an upstream tag over HTTPS (cached)
The snapshot goes to your cpudb data folder (added to the database), or to --out DIR."""

HELP_QMP = """\
Ask an installed QEMU binary over QMP (query-cpu-definitions and
query-cpu-model-expansion) for every CPU name: QEMU's own answer, including a
distribution's patches. Labelled with the binary's version (e.g. 7.2.22-debian)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scrape",
        help="read QEMU sources or a QEMU binary into snapshots",
        description="Read QEMU sources or a QEMU binary into snapshots.",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)

    q = kinds.add_parser(
        "qemu",
        help="parse QEMU source (tree, tarball, git, upstream tag)",
        description=HELP_QEMU,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = q.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", metavar="DIR", help="an unpacked QEMU source tree")
    src.add_argument("--tarball", metavar="FILE", help="a QEMU release or Debian orig tarball")
    src.add_argument("--git", metavar="DIR", help="a local QEMU git clone (with --ref or --tags)")
    src.add_argument("--tag", metavar="vX.Y.Z", help="an upstream release tag, fetched over HTTPS")
    src.add_argument("--list-tags", action="store_true", help="list upstream release tags")
    q.add_argument("--ref", nargs="+", default=[], metavar="REF", help="git refs to scrape")
    q.add_argument("--tags", metavar="GLOB", help="git tags to scrape, e.g. 'v*.0'")
    q.add_argument(
        "--label",
        help="version label (default: the VERSION file); use e.g. "
        "7.2.22-debian for patched sources",
    )
    q.add_argument(
        "--downstream",
        action="store_true",
        help="mark the snapshot as a downstream/patched build, not upstream",
    )
    q.add_argument(
        "--out", metavar="DIR", help="write <version>.json here instead of the cpudb data folder"
    )
    q.add_argument("--json", action="store_true", help="print the snapshot to stdout instead")
    q.set_defaults(run=run_qemu)

    m = kinds.add_parser(
        "qmp",
        help="ask an installed QEMU binary over QMP",
        description=HELP_QMP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("--binary", metavar="PATH", help="QEMU binary (default: qemu-system-x86_64)")
    m.add_argument(
        "--accel",
        choices=("tcg", "kvm"),
        default="tcg",
        help="accelerator to start QEMU with (default: tcg)",
    )
    m.add_argument("--label", help="version label (default: e.g. 7.2.22-debian)")
    m.add_argument("--out", metavar="DIR", help="write <version>.json here")
    m.add_argument("--json", action="store_true", help="print the snapshot to stdout instead")
    m.set_defaults(run=run_qmp)


def _emit(releases: list[Release], args: argparse.Namespace) -> int:
    from cpudb import snapshot
    from cpudb.paths import atomic_write, user_data_dir

    if args.json:
        for r in releases:
            sys.stdout.write(snapshot.dumps(r))
        return 0
    out = Path(args.out) if args.out else user_data_dir() / "qemu"
    if not args.out:
        releases = [_own_label(r) for r in releases]
    for r in releases:
        path = out / f"{r.version}.json"
        atomic_write(path, snapshot.dumps(r))
        n_names = len(r.cpus)
        print(f"{r.version}: {n_names} CPU names, {len(r.features)} features -> {path}")
    if not args.out:
        from cpudb.store import refresh_user

        refresh_user(getattr(args, "db", None))
    return 0


def _own_label(r: Release) -> Release:
    """A user scrape of a release cpudb ships gets its own label (7.2.0-user): it sits
    beside the shipped snapshot and never replaces or clashes with it."""
    from cpudb.catalog import snapshot_files
    from cpudb.record import replace

    shipped = {p.stem for p, _ in snapshot_files(user=False)}
    if r.version not in shipped:
        return r
    label = f"{r.version}-user"
    print(f"{r.version} is a shipped release: your scrape is labelled {label}", file=sys.stderr)
    return replace(r, version=label, upstream=False)


def run_qemu(args: argparse.Namespace) -> int:
    from cpudb.paths import cache_dir
    from cpudb.scrapers import qemu_source as qs

    if args.list_tags:
        for t in qs.list_upstream_tags():
            print(t)
        return 0
    if (args.ref or args.tags) and not args.git:
        raise CpudbError(
            "--ref/--tags go with --git DIR", hint="cpudb scrape qemu --git ~/qemu --tags 'v*.0'"
        )
    if args.git and not (args.ref or args.tags):
        raise CpudbError("--git needs --ref REF... or --tags GLOB", hint="e.g. --tags 'v*.0'")
    if args.git and args.label and len(args.ref) + bool(args.tags) > 1:
        raise CpudbError("--label names one release; it cannot go with several refs")
    upstream = not args.downstream
    releases = []
    if args.source:
        releases.append(qs.scrape(qs.from_dir(args.source), label=args.label, upstream=upstream))
    elif args.tarball:
        releases.append(
            qs.scrape(qs.from_tarball(args.tarball), label=args.label, upstream=upstream)
        )
    elif args.tag:
        fetched = qs.from_https(args.tag, cache_dir() / "sources")
        releases.append(qs.scrape(fetched, label=args.label, upstream=upstream))
    else:
        refs = qs.git_refs(args.git, args.tags, args.ref)
        progress = _progress(len(refs))
        for ref in refs:
            releases.append(
                qs.scrape(qs.from_git(args.git, ref), label=args.label, upstream=upstream)
            )
            progress(ref)
    # Everything parsed before anything is written: a failure leaves no partial snapshot.
    return _emit(releases, args)


def _progress(total: int) -> Callable[[str], None]:
    if total < 2 or not sys.stderr.isatty():
        return lambda ref: None
    from rich.progress import Progress

    prog = Progress(transient=True)
    task = prog.add_task("scraping", total=total)
    prog.start()

    def step(ref: str) -> None:
        prog.update(task, advance=1, description=ref)
        if prog.finished:
            prog.stop()

    return step


def run_qmp(args: argparse.Namespace) -> int:
    from cpudb.catalog import nearest_release
    from cpudb.scrapers import qmp

    cap = qmp.capture(args.binary, args.accel)
    if not cap.cpus:
        raise SourceError(f"{cap.binary} reported no CPU models", hint="is it qemu-system-x86_64?")
    ref = nearest_release(cap.version)
    release = qmp.to_release(cap, ref, label=args.label)
    return _emit([release], args)
