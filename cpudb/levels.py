"""x86-64 micro-architecture levels (psABI v1-v4), as QEMU's scripts/cpu-x86-uarch-abi.py
checks them, by CPUID location so that every release's spelling works; plus long mode
(lm) at v1, which the script takes for granted (it only runs 64-bit CPU models) and a
32-bit model such as n270 lacks."""

from __future__ import annotations

from cpudb.model import Release

# level -> (QEMU name as of 10.x, location)
LEVELS: dict[int, tuple[tuple[str, str], ...]] = {
    1: (
        ("lm", "cpuid.0x80000001.edx.29"),
        ("cmov", "cpuid.0x1.edx.15"),
        ("cx8", "cpuid.0x1.edx.8"),
        ("fpu", "cpuid.0x1.edx.0"),
        ("fxsr", "cpuid.0x1.edx.24"),
        ("mmx", "cpuid.0x1.edx.23"),
        ("syscall", "cpuid.0x80000001.edx.11"),
        ("sse", "cpuid.0x1.edx.25"),
        ("sse2", "cpuid.0x1.edx.26"),
    ),
    2: (
        ("cx16", "cpuid.0x1.ecx.13"),
        ("lahf-lm", "cpuid.0x80000001.ecx.0"),
        ("popcnt", "cpuid.0x1.ecx.23"),
        ("pni", "cpuid.0x1.ecx.0"),
        ("sse4.1", "cpuid.0x1.ecx.19"),
        ("sse4.2", "cpuid.0x1.ecx.20"),
        ("ssse3", "cpuid.0x1.ecx.9"),
    ),
    3: (
        ("avx", "cpuid.0x1.ecx.28"),
        ("avx2", "cpuid.0x7.0.ebx.5"),
        ("bmi1", "cpuid.0x7.0.ebx.3"),
        ("bmi2", "cpuid.0x7.0.ebx.8"),
        ("f16c", "cpuid.0x1.ecx.29"),
        ("fma", "cpuid.0x1.ecx.12"),
        ("abm", "cpuid.0x80000001.ecx.5"),
        ("movbe", "cpuid.0x1.ecx.22"),
    ),
    4: (
        ("avx512f", "cpuid.0x7.0.ebx.16"),
        ("avx512bw", "cpuid.0x7.0.ebx.30"),
        ("avx512cd", "cpuid.0x7.0.ebx.28"),
        ("avx512dq", "cpuid.0x7.0.ebx.17"),
        ("avx512vl", "cpuid.0x7.0.ebx.31"),
    ),
}


_NAMES_CACHE: dict[int, tuple[Release, dict[int, list[frozenset[str]]]]] = {}


def _level_names(release: Release) -> dict[int, list[frozenset[str]]]:
    """Per level, per required location, the names that location has in this release
    (computed once per release: `models` asks for the level of every CPU name)."""
    hit = _NAMES_CACHE.get(id(release))
    if hit is not None and hit[0] is release:
        return hit[1]
    by_loc: dict[str, set[str]] = {}
    for f in release.features:
        by_loc.setdefault(f.location, set()).add(f.name)
    table = {n: [frozenset(by_loc.get(loc, ())) for _, loc in LEVELS[n]] for n in sorted(LEVELS)}
    _NAMES_CACHE[id(release)] = (release, table)
    return table


def level(release: Release, features: frozenset[str]) -> int:
    """Highest level N such that every feature of levels 1..N is present (0 = none)."""
    result = 0
    for n, required in _level_names(release).items():
        if all(not names.isdisjoint(features) for names in required):
            result = n
        else:
            break
    return result


def parse_level(text: str) -> int:
    from cpudb.errors import CpudbError

    t = text.lower().removeprefix("x86-64-").lstrip("v")
    if t not in ("1", "2", "3", "4"):
        raise CpudbError(f"unknown x86-64 level {text!r}", hint="use v1, v2, v3 or v4")
    return int(t)
