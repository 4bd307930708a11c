"""The `cpudb` command: parse arguments, call the library, render, exit.

Each subcommand lives in `cpudb/commands/<name>.py` with `add_parser(subparsers)` and
`run(args) -> int`. Heavy imports (textual, requests, bs4, rich) happen inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from cpudb import __version__
from cpudb.errors import CpudbError, printable

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any, NoReturn

# Order = order in `cpudb --help`.
COMMANDS = [
    "advise",
    "baseline",
    "pools",
    "diagnose",
    "probe",
    "versions",
    "models",
    "show",
    "feature",
    "diff",
    "history",
    "host",
    "db",
    "scrape",
    "tui",
]

DESCRIPTION = """\
cpudb: which QEMU -cpu model (and which extra flags) gives a guest the CPU features it
needs, for every QEMU release, explained down to the CPUID bit."""

EPILOG = """\
examples:
  cpudb advise --needs pdpe1gb          the -cpu answers for a guest that needs 1 GiB pages
  cpudb show Haswell-v4                 what a CPU name gives a guest
  cpudb scrape qemu --tarball qemu_7.2+dfsg.orig.tar.xz
"""


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named in argv, if any (the first word that is not an option)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--db":
            skip = True
        elif not a.startswith("-"):
            return a if a in COMMANDS else None
    return None


def _terminal_width() -> int:
    try:
        cols = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size(sys.stdout.fileno())[0]
    except (OSError, ValueError):
        cols = 80
    return max(cols - 2, 40)


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps description and epilog layout; finds the terminal width without importing
    shutil (argparse's own formatter imports it on the first add_argument: ~4 ms)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or _terminal_width())


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose subcommand parsers use `Formatter` unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # argparse's own arguments
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """argparse's one line + usage, with non-UTF-8 bytes shown as \\xff."""
        super().error(printable(message))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that subcommand's (imports one module: the
    fast commands must not pay for importing and building all thirteen)."""
    parser = Parser(prog="cpudb", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"cpudb {__version__}")
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="database file (default: $CPUDB_DB or the user cache directory)",
    )
    # prog given: argparse would otherwise build a help formatter (and import shutil) now
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="cpudb")
    for name in [only] if only else COMMANDS:
        mod = importlib.import_module(f"cpudb.commands.{name}")
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except CpudbError as e:
        print(f"cpudb: error: {printable(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("cpudb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
