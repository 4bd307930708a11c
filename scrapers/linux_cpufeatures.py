"""Linux's /proc/cpuinfo flag names, mapped to CPUID locations.

Reads `arch/x86/include/asm/cpufeatures.h` (the `X86_FEATURE_*` bits, word*32+bit, and
the name /proc/cpuinfo shows) and, beside it, `cpufeature.h` (the `enum cpuid_leafs`
that says which CPUID leaf/subleaf/register each word is). Debian ships both in
`linux-headers-<version>-common`. Kernels without that enum fall back to the section
comments (`/* ... CPUID level 0x80000001 (ECX), word 6 */`).

Words that are not one CPUID register (`CPUID_LNX_*`, "Linux-defined": scattered,
synthesised or software flags such as `constant_tsc`, `ibpb`, `pti`) are listed as
`synthetic`, never guessed into a location.

    python -m cpudb.scrapers.linux_cpufeatures /usr/src/linux-headers-6.12.117+deb12-common \\
        --out data/linux-cpufeatures.json
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cpudb.errors import ParseError, SourceError
from cpudb.model import SUBLEAF_LEAVES
from cpudb.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict

    class LinuxFeaturesJson(TypedDict):
        """data/linux-cpufeatures.json."""

        linux_version: str
        source: str
        locations: dict[str, dict[str, str]]  # location -> linux_name, description
        synthetic: list[str]  # flags that are no one CPUID bit


_FEATURE = re.compile(
    r"#define\s+X86_FEATURE_(\w+)\s+\(\s*(\d+)\s*\*\s*32\s*\+\s*(\d+)\s*\)\s*(?:/\*\s*(.*))?"
)
_ENUM = re.compile(r"enum\s+cpuid_leafs\s*\{(.*?)\}", re.S)
_SECTION = re.compile(
    r"CPUID\s+level\s+(0x[0-9a-fA-F]+)(?::(\d+))?\s*(?:\(\s*(E[ABCD]X)\s*\)|,\s*(E[ABCD]X))?"
    r".*?word\s+(\d+)",
    re.I,
)
_WORD_ONLY = re.compile(r"word\s+(\d+)", re.I)


class Word(Record):
    index: int
    leaf: int | None  # None: Linux-defined (synthetic) word
    subleaf: int | None = None
    register: str | None = None

    def location(self, bit: int) -> str | None:
        if self.leaf is None:
            return None
        sub = self.subleaf
        if sub is None and self.leaf in SUBLEAF_LEAVES:
            sub = 0
        if sub is not None and self.leaf not in SUBLEAF_LEAVES:
            sub = None
        return f"cpuid.{self.leaf:#x}{'' if sub is None else f'.{sub}'}.{self.register}.{bit}"


class Flag(Record):
    macro: str  # X86_FEATURE_GBPAGES -> "GBPAGES"
    word: int
    bit: int
    linux_name: str | None  # as /proc/cpuinfo shows it; None when hidden
    line: int
    description: str | None = None  # the header's comment, e.g. "1GB pages"


class LinuxFeatures(Record):
    linux_version: str
    source: str
    words: tuple[Word, ...]
    flags: tuple[Flag, ...]

    def to_json(self) -> LinuxFeaturesJson:
        words = {w.index: w for w in self.words}
        locations: dict[str, dict[str, str]] = {}
        synthetic: set[str] = set()
        for f in self.flags:
            w = words.get(f.word)
            loc = w.location(f.bit) if w else None
            if loc is None:
                if f.linux_name is not None:
                    synthetic.add(f.linux_name)
                continue
            entry = locations.setdefault(loc, {})
            if f.linux_name is not None:
                entry.setdefault("linux_name", f.linux_name)
            if f.description:
                entry.setdefault("description", f.description)
        return {
            "linux_version": self.linux_version,
            "source": self.source,
            "locations": dict(sorted(locations.items(), key=lambda kv: _loc_key(kv[0]))),
            "synthetic": sorted(synthetic),
        }


def _loc_key(loc: str) -> tuple[tuple[int, int] | tuple[int, str], ...]:
    parts = loc.split(".")
    nums = [int(p, 0) if p[0].isdigit() else p for p in parts[1:]]
    return tuple((0, n) if isinstance(n, int) else (1, n) for n in nums)


# ------------------------------------------------------------------ parsing


def parse_enum(text: str, file: str = "cpufeature.h") -> dict[int, Word]:
    """`enum cpuid_leafs { CPUID_1_EDX = 0, CPUID_8000_0001_EDX, ... }` -> words."""
    m = _ENUM.search(text)
    if not m:
        raise ParseError("no `enum cpuid_leafs`", file=file)
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", m.group(1), flags=re.S)
    out: dict[int, Word] = {}
    index = -1
    for item in (s.strip() for s in body.split(",")):
        if not item:
            continue
        name, _, value = (p.strip() for p in item.partition("="))
        index = int(value, 0) if value else index + 1
        if name.startswith("NR_") or not name.startswith("CPUID_"):
            continue
        out[index] = _word_from_enum(index, name, file)
    return out


def _word_from_enum(index: int, name: str, file: str) -> Word:
    body = name[len("CPUID_") :]
    if body.startswith("LNX_"):
        return Word(index, None)
    parts = body.split("_")
    reg = parts.pop().lower()
    if reg not in ("eax", "ebx", "ecx", "edx"):
        raise ParseError(f"cannot read the register of {name}", file=file, token=name)
    try:
        if len(parts) >= 2 and len(parts[0]) == 4 and len(parts[1]) == 4:
            leaf = int(parts[0] + parts[1], 16)
            rest = parts[2:]
        else:
            leaf = int(parts[0], 16)
            rest = parts[1:]
        sub = int(rest[0], 16) if rest else None
    except (ValueError, IndexError) as e:
        raise ParseError(f"cannot read the leaf of {name}", file=file, token=name) from e
    return Word(index, leaf, sub, reg)


def parse_sections(text: str) -> dict[int, Word]:
    """Fallback: words from the section comments above each group of flags."""
    out: dict[int, Word] = {}
    for line in text.splitlines():
        if not line.lstrip().startswith("/*") or "word" not in line.lower():
            continue
        m = _SECTION.search(line)
        if m:
            leaf = int(m.group(1), 16)
            sub = int(m.group(2)) if m.group(2) else None
            reg = (m.group(3) or m.group(4) or "EDX").lower()
            out[int(m.group(5))] = Word(int(m.group(5)), leaf, sub, reg)
            continue
        w = _WORD_ONLY.search(line)
        if w and ("linux" in line.lower() or "defined" in line.lower()):
            out[int(w.group(1))] = Word(int(w.group(1)), None)
    return out


def parse_flags(text: str, file: str = "cpufeatures.h") -> tuple[Flag, ...]:
    """Every `X86_FEATURE_*` with the name /proc/cpuinfo shows (None when hidden).

    Two conventions: up to Linux 6.10 a flag is shown as its lower-cased macro name
    unless the comment starts with a quoted name ("" = hidden); from 6.11 only flags
    whose comment starts with a quoted name are shown. The header's own note says which.
    """
    prose = re.sub(r"\s*\n\s*\*?\s*", " ", text)
    explicit = "Otherwise, this feature bit is not displayed" in prose
    flags = []
    for n, line in enumerate(text.splitlines(), start=1):
        if "X86_FEATURE_" not in line or not line.lstrip().startswith("#define"):
            continue
        m = _FEATURE.match(line.strip())
        if not m:
            if re.match(r"#define\s+X86_FEATURE_\w+\s+\(", line.strip()):
                raise ParseError(
                    "unreadable X86_FEATURE definition", file=file, line=n, token=line.strip()[:60]
                )
            continue  # e.g. an alias of another macro
        macro, word, bit, comment = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        q = re.match(r'"([^"]*)"', (comment or "").strip())
        if q:
            name: str | None = q.group(1) or None
        else:
            name = None if explicit else macro.lower()
        desc = (comment or "").split("*/")[0]
        desc = re.sub(r'^\s*"[^"]*"', "", desc).strip().rstrip("*").strip() or None
        flags.append(Flag(macro, word, bit, name, n, desc))
    if not flags:
        raise ParseError(
            "no X86_FEATURE_* definitions",
            file=file,
            hint="give arch/x86/include/asm/cpufeatures.h",
        )
    return tuple(flags)


def linux_version(root: Path) -> str:
    """VERSION.PATCHLEVEL.SUBLEVEL from the tree's Makefile, else from the folder name."""
    mk = root / "Makefile"
    if mk.is_file():
        vals = dict(
            re.findall(
                r"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+)", mk.read_text(errors="replace"), re.M
            )
        )
        if len(vals) == 3:
            return f"{vals['VERSION']}.{vals['PATCHLEVEL']}.{vals['SUBLEVEL']}"
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)", root.name)
    if m:
        return m.group(1)
    raise SourceError(
        f"{root}: cannot tell the Linux version (no Makefile)", hint="pass --linux-version X.Y.Z"
    )


def scrape(path: str | Path, version: str | None = None) -> LinuxFeatures:
    """A headers tree (or the cpufeatures.h file itself) -> LinuxFeatures."""
    p = Path(path)
    header = p if p.is_file() else p / "arch/x86/include/asm/cpufeatures.h"
    if not header.is_file():
        raise SourceError(
            f"{header}: not found",
            hint="install linux-headers-*-common and give /usr/src/linux-headers-"
            "<version>-common (or the cpufeatures.h path)",
        )
    in_tree = len(header.parents) > 4 and header.parents[3].name == "arch"
    root = header.parents[4] if in_tree else header.parent
    text = header.read_text(errors="replace")
    flags = parse_flags(text, str(header))
    enum_file = header.with_name("cpufeature.h")
    if enum_file.is_file() and "enum cpuid_leafs" in enum_file.read_text(errors="replace"):
        words = parse_enum(enum_file.read_text(errors="replace"), str(enum_file))
        how = f"{_rel(header, root)} + {_rel(enum_file, root)}"
    else:
        words = parse_sections(text)
        how = f"{_rel(header, root)} (section comments)"
    missing = sorted({f.word for f in flags if f.linux_name} - set(words))
    if missing:
        raise ParseError(
            f"no CPUID leaf known for word {missing[0]}",
            file=str(header),
            hint="is cpufeature.h (enum cpuid_leafs) beside cpufeatures.h?",
        )
    ver = version or linux_version(root)
    return LinuxFeatures(ver, f"{root.name}: {how}", tuple(words[k] for k in sorted(words)), flags)


def _rel(p: Path, root: Path) -> str:
    try:
        return str(p.relative_to(root))
    except ValueError:
        return p.name


def find_headers() -> Path:
    """The newest /usr/src/linux-headers-*-common that has cpufeatures.h."""
    found = sorted(Path("/usr/src").glob("linux-headers-*/arch/x86/include/asm/cpufeatures.h"))
    if not found:
        raise SourceError(
            "no /usr/src/linux-headers-*/arch/x86/include/asm/cpufeatures.h",
            hint="apt-get install linux-headers-amd64 (Debian ships it in linux-headers-*-common)",
        )
    return found[-1].parents[4]


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from cpudb.errors import CpudbError
    from cpudb.paths import atomic_write

    ap = argparse.ArgumentParser(
        prog="python -m cpudb.scrapers.linux_cpufeatures",
        description="Map Linux /proc/cpuinfo flag names to CPUID locations "
        "(data/linux-cpufeatures.json).",
    )
    ap.add_argument(
        "path",
        nargs="?",
        help="linux headers tree or cpufeatures.h (default: the newest /usr/src/linux-headers-*)",
    )
    ap.add_argument("--linux-version", help="override the version read from the Makefile")
    ap.add_argument("--out", help="write here instead of stdout")
    args = ap.parse_args(argv)
    try:
        lf = scrape(args.path or find_headers(), args.linux_version)
    except CpudbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(lf.to_json(), indent=1, sort_keys=False) + "\n"
    if args.out:
        atomic_write(Path(args.out), text)
        d = lf.to_json()
        print(
            f"Linux {lf.linux_version}: {len(d['locations'])} CPUID flags, "
            f"{len(d['synthetic'])} synthetic -> {args.out}"
        )
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
