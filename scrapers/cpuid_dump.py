"""Parse raw CPUID dumps from Todd Allen's `cpuid` tool (`cpuid -r`, `cpuid -1 -r`).

Pure: text -> records. The format, one CPU after another:

    CPU 0:                     (`cpuid -1 -r` prints `CPU:`)
       0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69
       0x00000007 0x01: eax=...                       (leaf, subleaf, four registers)

Anything else is refused with the line number: decoded (non-raw) output, truncated or
malformed rows, the same leaf/subleaf twice for one CPU, an empty input.
"""

from __future__ import annotations

import re
from collections import namedtuple

from cpudb.errors import ParseError
from cpudb.record import Record

HINT = "give the raw register dump of `cpuid -1 -r` (or `cpuid -r`)"

_HEADER = re.compile(r"CPU(?:\s+(\d+))?\s*:\s*")
_ROW = re.compile(
    r"(0x[0-9a-fA-F]{1,8})(?:\s+(0x[0-9a-fA-F]{1,8}))?\s*:"
    r"\s*eax=(0x[0-9a-fA-F]{1,8})\s+ebx=(0x[0-9a-fA-F]{1,8})"
    r"\s+ecx=(0x[0-9a-fA-F]{1,8})\s+edx=(0x[0-9a-fA-F]{1,8})"
)
# What `cpuid` prints when not asked for raw output (`vendor_id = "GenuineIntel"`,
# `version information (1/eax):`, `(simple synth)  = ...`, `brand = "..."`).
_DECODED = re.compile(
    r"(vendor_id\s*=|version information|\(simple synth\)|brand\s*=|feature information"
    r"|\w[\w ()/-]*\s+=\s+(?:true|false|0x[0-9a-f]+|\"))",
    re.I,
)


TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import NamedTuple

    class _Registers(NamedTuple):
        leaf: int
        subleaf: int
        eax: int
        ebx: int
        ecx: int
        edx: int

else:  # the same tuple without importing typing (`advise` reads the catalogue's dumps)
    _Registers = namedtuple("CpuidLeaf", "leaf subleaf eax ebx ecx edx")


class CpuidLeaf(_Registers):
    """One `cpuid` instruction result: EAX=leaf, ECX=subleaf in; four registers out.
    A named tuple: a fleet's dumps make hundreds of thousands (a frozen dataclass takes
    five times as long to build, a `Record` three times)."""

    __slots__ = ()

    def reg(self, name: str) -> int:
        return int(getattr(self, name))

    def key(self) -> tuple[int, int]:
        return (self.leaf, self.subleaf)


class CpuidCpu(Record):
    """The rows of one logical CPU, in the order of the dump."""

    index: int
    leaves: tuple[CpuidLeaf, ...]
    line: int = 0  # line of the `CPU n:` header (0 when the dump had none)


class CpuidDump(Record):
    cpus: tuple[CpuidCpu, ...]
    file: str = "<input>"

    @property
    def cpu0(self) -> CpuidCpu:
        return self.cpus[0]

    def differing_rows(self) -> tuple[CpuidLeaf, ...]:
        """Rows of CPUs 1..n that are not equal to CPU 0's row with the same leaf/subleaf."""
        base = {r.key(): r for r in self.cpu0.leaves}
        out: dict[CpuidLeaf, None] = {}
        for cpu in self.cpus[1:]:
            for r in cpu.leaves:
                if base.get(r.key()) != r:
                    out.setdefault(r)
        return tuple(out)


def looks_like_dump(text: str) -> bool:
    """Cheap sniffing: does this text contain at least one raw CPUID row?"""
    return any(_ROW.fullmatch(line.strip()) for line in text.splitlines()[:50])


def parse(text: str, file: str = "<input>") -> CpuidDump:
    """Text of `cpuid -r` / `cpuid -1 -r` -> CpuidDump, or ParseError naming the line."""
    cpus: list[CpuidCpu] = []
    rows: list[CpuidLeaf] = []
    seen: dict[tuple[int, int], int] = {}
    index: int | None = None
    header_line = 0
    last_line = 0

    def close() -> None:
        if index is not None or rows:
            cpus.append(CpuidCpu(index if index is not None else 0, tuple(rows), header_line))

    for n, raw in enumerate(text.splitlines(), start=1):
        last_line = n
        line = raw.strip()
        if not line:
            continue
        m = _ROW.fullmatch(line)  # rows first: nearly every line is one
        if m:
            leaf_s, sub_s, a, b, c, d = m.groups()
            leaf = int(leaf_s, 16)
            sub = int(sub_s, 16) if sub_s else 0
            key = (leaf, sub)
            if key in seen:
                which = "" if index is None else f" of CPU {index}"
                raise ParseError(
                    f"duplicate CPUID leaf {leaf:#x} subleaf {sub:#x}{which} "
                    f"(first at line {seen[key]})",
                    file=file,
                    line=n,
                    hint=HINT,
                )
            seen[key] = n
            rows.append(CpuidLeaf(leaf, sub, int(a, 16), int(b, 16), int(c, 16), int(d, 16)))
            continue
        h = _HEADER.fullmatch(line)
        if h:
            if index is not None and not rows:
                raise ParseError(
                    f"CPU header with no rows before it (CPU {index})",
                    file=file,
                    line=n,
                    token=line,
                    hint=HINT,
                )
            close()
            index = int(h.group(1)) if h.group(1) else len(cpus)
            header_line = n
            rows, seen = [], {}
            continue
        raise _bad_line(line, file, n)
    if index is not None and not rows:
        raise ParseError(
            f"the dump ends after the header of CPU {index}: truncated?",
            file=file,
            line=last_line or 1,
            hint=HINT,
        )
    close()
    if not cpus:
        raise ParseError("empty input: no CPUID rows", file=file, line=max(last_line, 1), hint=HINT)
    return CpuidDump(tuple(cpus), file)


def _bad_line(line: str, file: str, n: int) -> ParseError:
    short = line if len(line) <= 60 else line[:57] + "..."
    if re.match(r"0x[0-9a-f]", line, re.I):
        return ParseError(
            "truncated or malformed CPUID row (want `0xLEAF 0xSUB: eax=0x... "
            "ebx=0x... ecx=0x... edx=0x...`)",
            file=file,
            line=n,
            token=short,
            hint=HINT,
        )
    if _DECODED.search(line):
        return ParseError(
            "this is decoded `cpuid` output, not a raw register dump",
            file=file,
            line=n,
            token=short,
            hint="run `cpuid -1 -r` instead",
        )
    return ParseError("not a CPUID dump line", file=file, line=n, token=short, hint=HINT)
