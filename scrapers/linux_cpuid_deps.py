"""Linux's CPUID dependency table (`arch/x86/kernel/cpu/cpuid-deps.c`) as CPUID locations
(data/linux-cpuid-deps.json).

Each `{ X86_FEATURE_A, X86_FEATURE_B }` row means: a Linux guest clears A when B is
missing (`avx2` without `avx`, `avx512f` without `avx`, `avx` without `xsave`). QEMU's
own `feature_dependencies` are fewer, so `-cpu Westmere,avx2=on` starts, and the guest
kernel then has no AVX2. The macros are mapped to CPUID bits with the same tree's
`cpufeatures.h` (`cpudb.scrapers.linux_cpufeatures`); rows naming a Linux-defined
(synthetic) flag are no CPUID bit and are counted as skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from cpudb.errors import ParseError, SourceError

from . import linux_cpufeatures as lcf

DEPS_FILE = "arch/x86/kernel/cpu/cpuid-deps.c"
_ROW = re.compile(r"\{\s*X86_FEATURE_(\w+)\s*,\s*X86_FEATURE_(\w+)\s*,?\s*\}")


def parse_rows(text: str, file: str = DEPS_FILE) -> list[tuple[str, str]]:
    """(feature, requires) macro names of the cpuid_deps[] table, in order."""
    start = text.find("cpuid_deps[]")
    if start < 0:
        raise ParseError(
            "no cpuid_deps[] table", file=file, hint=f"give a Linux tree ({DEPS_FILE})"
        )
    end = text.find("};", start)
    rows = [(m.group(1), m.group(2)) for m in _ROW.finditer(text, start, end)]
    if not rows:
        raise ParseError("cpuid_deps[] has no rows", file=file)
    return rows


def scrape(tree: str | Path) -> dict[str, object]:
    root = Path(tree)
    deps = root / DEPS_FILE
    if not deps.is_file():
        raise SourceError(
            f"{deps}: not found",
            hint="unpack a Linux source tree (Debian: apt-get source --download-only linux)",
        )
    features = lcf.scrape(root)
    words = {w.index: w for w in features.words}
    where: dict[str, tuple[str, str | None]] = {}
    for f in features.flags:
        w = words.get(f.word)
        loc = w.location(f.bit) if w else None
        if loc is not None:
            where[f.macro] = (loc, f.linux_name)
    unique: dict[
        tuple[str, str], dict[str, str | list[str]]
    ] = {}  # first row of each pair, in table order
    skipped: list[str] = []
    for a, b in parse_rows(deps.read_text(errors="replace"), str(deps)):
        if a in where and b in where:
            unique.setdefault(
                (where[a][0], where[b][0]),
                {
                    "feature": where[a][0],
                    "requires": where[b][0],
                    "linux": [f"X86_FEATURE_{a}", f"X86_FEATURE_{b}"],
                },
            )
        else:
            skipped.append(f"X86_FEATURE_{a} -> X86_FEATURE_{b}")
    return {
        "linux_version": features.linux_version,
        "source": f"{root.name}: {DEPS_FILE} + arch/x86/include/asm/cpufeatures.h",
        "deps": list(unique.values()),
        "skipped_not_cpuid": skipped,
    }


def main(argv: list[str] | None = None) -> int:
    from . import data_cli

    return data_cli.run(
        scrape,
        prog="python -m cpudb.scrapers.linux_cpuid_deps",
        description="Linux's cpuid-deps table as CPUID locations (data/linux-cpuid-deps.json).",
        source_help="a Linux source tree (with arch/x86/kernel/cpu/cpuid-deps.c)",
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
