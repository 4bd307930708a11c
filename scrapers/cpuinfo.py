"""Parse Linux's /proc/cpuinfo (x86): identification and the `flags` line of each CPU.

Pure: text -> records. Which CPUID bit each flag is comes from
data/linux-cpufeatures.json (see `scrapers/linux_cpufeatures.py`), not from here.
"""

from __future__ import annotations

import re

from cpudb.errors import ParseError
from cpudb.record import Record

HINT = "give the text of /proc/cpuinfo from an x86 Linux machine (or a `cpuid -1 -r` dump)"
_FIELD = re.compile(r"([^:\t]+?)\s*:\s?(.*)")


class CpuinfoCpu(Record):
    processor: int
    vendor: str
    family: int
    model: int
    stepping: int
    brand: str
    flags: frozenset[str]
    line: int


class Cpuinfo(Record):
    cpus: tuple[CpuinfoCpu, ...]
    file: str = "/proc/cpuinfo"

    @property
    def cpu0(self) -> CpuinfoCpu:
        return self.cpus[0]

    def differing_flags(self) -> frozenset[str]:
        """Flags some CPUs have and CPU 0 does not, or the other way round."""
        base = self.cpu0.flags
        out: set[str] = set()
        for c in self.cpus[1:]:
            out |= base ^ c.flags
        return frozenset(out)


def looks_like_cpuinfo(text: str) -> bool:
    return bool(re.search(r"^(processor|vendor_id|flags)\s*:", text[:20000], re.M))


def parse(text: str, file: str = "/proc/cpuinfo") -> Cpuinfo:
    blocks: list[tuple[int, dict[str, tuple[str, int]]]] = []
    cur: dict[str, tuple[str, int]] = {}
    start = 0
    last = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        last = n
        if not raw.strip():
            if cur:
                blocks.append((start, cur))
                cur = {}
            continue
        m = _FIELD.fullmatch(raw.rstrip())
        if not m:
            raise ParseError(
                "not a `key : value` line of /proc/cpuinfo",
                file=file,
                line=n,
                token=raw.strip()[:60],
                hint=HINT,
            )
        if not cur:
            start = n
        key = m.group(1).strip()
        if key in cur and key == "processor":
            raise ParseError(
                "a second `processor` line without a blank line before it",
                file=file,
                line=n,
                hint=HINT,
            )
        cur[key] = (m.group(2).strip(), n)
    if cur:
        blocks.append((start, cur))
    if not blocks:
        raise ParseError(
            "empty input: no processor entries", file=file, line=max(last, 1), hint=HINT
        )
    cpus = tuple(_cpu(b, line, file) for line, b in blocks if "processor" in b or "flags" in b)
    if not cpus:
        raise ParseError("no `processor`/`flags` lines", file=file, line=1, hint=HINT)
    return Cpuinfo(cpus, file)


def _cpu(b: dict[str, tuple[str, int]], line: int, file: str) -> CpuinfoCpu:
    if "flags" not in b:
        raise ParseError(
            "processor entry without a `flags` line (not x86?)", file=file, line=line, hint=HINT
        )
    for key in ("vendor_id", "cpu family", "model"):
        if key not in b:
            raise ParseError(f"processor entry without `{key}`", file=file, line=line, hint=HINT)

    def num(key: str) -> int:
        value, n = b.get(key, ("0", line))
        if value in ("unknown", ""):
            return 0
        try:
            return int(value, 0)
        except ValueError as e:
            raise ParseError(
                f"`{key}` is not a number", file=file, line=n, token=value, hint=HINT
            ) from e

    return CpuinfoCpu(
        processor=num("processor"),
        vendor=b["vendor_id"][0],
        family=num("cpu family"),
        model=num("model"),
        stepping=num("stepping"),
        brand=b.get("model name", ("", 0))[0],
        flags=frozenset(b["flags"][0].split()),
        line=line,
    )
