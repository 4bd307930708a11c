"""The hand-written QEMU cpu.c/cpu.h fixtures of tests/fixtures/qemu/, read and parsed.

Shared by the table-parser tests (tests/test_parser_eras_early.py,
test_parser_eras_versioned.py, test_parser_errors.py); no tests here.
"""

from __future__ import annotations

import json
from pathlib import Path

from cpudb.scrapers import qemu_source as qs
from cpudb.scrapers.qemu_parsed import ParsedTable, SourceFiles
from cpudb.scrapers.qemu_table import parse_table

from cpudb.model import ModelDef, Release

FIX = Path(__file__).resolve().parent / "fixtures" / "qemu"
MANIFEST = json.loads((FIX / "fixtures.json").read_text())


def files(name: str, *, cpu_c: str | None = None) -> SourceFiles:
    m = MANIFEST[name]
    return SourceFiles(
        cpu_c if cpu_c is not None else (FIX / m["c"]).read_text(),
        (FIX / m["h"]).read_text(),
        f"{m['dir']}/cpu.c",
        f"{m['dir']}/cpu.h",
    )


def names(text: str) -> set[str]:
    return set(text.split())


def table(name: str) -> ParsedTable:
    return parse_table(files(name), MANIFEST[name]["version"])


def release(name: str, *, upstream: bool = True) -> Release:
    m = MANIFEST[name]
    r: Release = qs.scrape(
        qs.FetchedRelease(files(name), m["version"], f"fixture {name}"), upstream=upstream
    )
    return r


def feats(r: Release, cpu: str) -> frozenset[str]:
    c = r.cpu(cpu)
    assert c is not None, f"{cpu} not in {[x.name for x in r.cpus]}"
    return c.features


def locations(t: ParsedTable, name: str) -> list[str]:
    return sorted(f.location for f in t.features if f.name == name)


def model(t: ParsedTable, name: str) -> ModelDef:
    found: list[ModelDef] = [m for m in t.models if m.name == name]
    (m,) = found
    return m
