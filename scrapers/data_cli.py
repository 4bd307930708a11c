"""The command line of a scraper that turns one source into one data/ JSON file:
`python -m cpudb.scrapers.NAME SOURCE [--out FILE]` (stdout without --out; a
CpudbError is one line and exit status 2; the file is written all or nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def run(
    scrape: Callable[[str], dict[str, Any]],
    *,
    prog: str,
    description: str,
    source_help: str,
    argv: list[str] | None = None,
) -> int:
    import argparse
    import json
    import sys
    from pathlib import Path

    from cpudb.errors import CpudbError
    from cpudb.paths import atomic_write

    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("source", help=source_help)
    ap.add_argument("--out", help="write here instead of stdout")
    args = ap.parse_args(argv)
    try:
        d = scrape(args.source)
    except CpudbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(d, indent=1) + "\n"
    if args.out:
        atomic_write(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return 0
