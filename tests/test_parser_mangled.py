"""On mangled input the parser raises ParseError (a CpudbError) and nothing else.

Mangling = truncation, deletion, duplication, insertion or replacement of characters of
the era fixtures (cpu.c or cpu.h), drawn by hypothesis. A KeyError, IndexError,
TypeError... escaping here would reach the user as a traceback instead of one line.
"""

from __future__ import annotations

import json
from pathlib import Path

from cpudb.scrapers import qemu_source as qs
from cpudb.scrapers.qemu_parsed import SourceFiles
from cpudb.scrapers.qemu_table import parse_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpudb.errors import CpudbError, ParseError

FIX = Path(__file__).resolve().parent / "fixtures" / "qemu"
MANIFEST = json.loads((FIX / "fixtures.json").read_text())
TEXTS = {
    name: ((FIX / m["c"]).read_text(), (FIX / m["h"]).read_text()) for name, m in MANIFEST.items()
}
# Characters that matter to a C tokenizer and to the table's shape.
C_CHARS = "{}()[],;.=|&~^<>\"'\\/*#+-! \n\tx0123456789ULuFEAT_R_EDXabc"


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, SourceFiles]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    c, h = TEXTS[name]
    in_c = draw(st.booleans()) or draw(st.booleans())  # cpu.c 3 times out of 4
    text = c if in_c else h
    n = len(text)
    a = draw(st.integers(0, n - 1))
    b = draw(st.integers(a, min(n, a + 80)))
    kind = draw(st.sampled_from(["truncate", "delete", "duplicate", "insert", "replace"]))
    if kind == "truncate":
        text = text[:a]
    elif kind == "delete":
        text = text[:a] + text[b:]
    elif kind == "duplicate":
        text = text[:b] + text[a:b] + text[b:]
    else:
        junk = draw(st.text(alphabet=C_CHARS, min_size=1, max_size=6))
        text = text[:a] + junk + (text[a:] if kind == "insert" else text[a + len(junk) :])
    m = MANIFEST[name]
    files = SourceFiles(
        text if in_c else c, h if in_c else text, f"{m['dir']}/cpu.c", f"{m['dir']}/cpu.h"
    )
    return m["version"], files


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_parse_table_raises_only_parse_error(case: tuple[str, SourceFiles]) -> None:
    version, files = case
    try:
        parse_table(files, version)
    except ParseError as e:
        # one line that names the file it is about
        assert "\n" not in str(e).strip()
        assert e.file in (files.cpu_c_name, files.cpu_h_name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_scrape_raises_only_cpudb_errors(case: tuple[str, SourceFiles]) -> None:
    """The whole source pipeline (parse + resolve names) behind `cpudb scrape`."""
    version, files = case
    try:
        r = qs.scrape(qs.FetchedRelease(files, version, "mangled fixture"))
    except CpudbError:
        return
    # what parses must still be coherent: aliases point at names of the same release
    names = {c.name for c in r.cpus}
    assert all(c.alias_of in names for c in r.cpus if c.alias_of)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_every_truncation_point_of_cpu_c_is_a_parse_error(name: str, data: st.DataObject) -> None:
    """A cpu.c cut before the end of builtin_x86_defs[] can never parse."""
    c, h = TEXTS[name]
    end = c.index("builtin_x86_defs")
    end = c.index("\n};", end) + 2
    cut = data.draw(st.integers(0, end - 1))
    files = SourceFiles(c[:cut], h)
    try:
        parse_table(files, MANIFEST[name]["version"])
    except ParseError:
        return
    raise AssertionError(f"{name} cut at {cut} of {len(c)} parsed")
