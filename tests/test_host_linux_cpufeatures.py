"""Linux cpufeatures.h -> /proc/cpuinfo names at CPUID locations (data/linux-cpufeatures.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cpudb.scrapers import linux_cpufeatures as lc

from cpudb.errors import ParseError
from cpudb.paths import shipped_data_dir
from tests.conftest import FIXTURES

HOSTS = FIXTURES / "hosts"


def test_new_convention_with_enum():
    lf = lc.scrape(HOSTS / "linux-6.12-mini")
    d = lf.to_json()
    assert d["linux_version"] == "6.12.99"
    assert "cpufeature.h" in d["source"]
    assert d["locations"] == {
        "cpuid.0x1.edx.0": {"linux_name": "fpu"},
        "cpuid.0x1.edx.25": {"linux_name": "sse"},
        "cpuid.0x1.ecx.0": {"linux_name": "pni"},
        "cpuid.0x7.0.ebx.5": {"linux_name": "avx2"},
        "cpuid.0x7.0.ecx.1": {"linux_name": "avx512vbmi"},  # CPUID_7_ECX: leaf 7 subleaf 0
        "cpuid.0x7.1.eax.4": {"linux_name": "avx_vnni"},
        "cpuid.0xd.1.eax.0": {"linux_name": "xsaveopt"},
        "cpuid.0x80000001.edx.26": {"linux_name": "pdpe1gb"},
        "cpuid.0x80000008.ebx.25": {"linux_name": "virt_ssbd"},
    }
    # hidden flags (no quoted name: OSXSAVE, LKGS whose comment quotes later) are not shown
    assert d["synthetic"] == ["constant_tsc"]


def test_old_convention_with_section_comments(tmp_path):
    lf = lc.scrape(HOSTS / "linux-4.19-cpufeatures.h", version="4.19.0")
    d = lf.to_json()
    assert "section comments" in d["source"]
    assert d["locations"] == {
        "cpuid.0x1.edx.0": {"linux_name": "fpu"},  # macro name, lower case
        "cpuid.0x1.edx.25": {"linux_name": "sse"},
        "cpuid.0x7.0.ebx.5": {"linux_name": "avx2"},
        "cpuid.0x80000001.edx.26": {"linux_name": "pdpe1gb"},
        "cpuid.0x80000001.ecx.0": {"linux_name": "lahf_lm"},
    }
    assert d["synthetic"] == ["constant_tsc"]  # "" hides ALWAYS and OSXSAVE


def test_unreadable_definition_names_the_line(tmp_path):
    h = tmp_path / "cpufeatures.h"
    h.write_text(
        "/* CPUID level 0x00000001 (EDX), word 0 */\n"
        '#define X86_FEATURE_FPU ( 0*32+ 0) /* "fpu" */\n'
        '#define X86_FEATURE_BAD ( 0*32 + x) /* "bad" */\n'
    )
    with pytest.raises(ParseError) as e:
        lc.scrape(h, version="1.0")
    assert e.value.line == 3


def test_word_without_leaf_is_refused(tmp_path):
    h = tmp_path / "cpufeatures.h"
    h.write_text('#define X86_FEATURE_X ( 5*32+ 2) /* "x" */\n')
    with pytest.raises(ParseError, match="no CPUID leaf known for word 5"):
        lc.scrape(h, version="1.0")


def test_location_format_is_cpudbs(db):
    """Every shipped Linux location of a CPUID word QEMU also has is spelled exactly like
    cpudb's own location ids (subleaf only for subleaf-indexed leaves)."""
    shipped = json.loads((shipped_data_dir() / "linux-cpufeatures.json").read_text())
    words: dict[tuple[int, str], set[int | None]] = {}
    for rel in db.releases():
        for w in rel.words:
            if w.type == "cpuid" and w.leaf is not None:
                words.setdefault((w.leaf, w.register), set()).add(w.subleaf)
    qemu_locations = {f.location for rel in db.releases() for f in rel.features}
    checked = 0
    for loc in shipped["locations"]:
        parts = loc.split(".")
        leaf, reg = int(parts[1], 16), parts[-2]
        if (leaf, reg) not in words:
            continue
        subs = words[(leaf, reg)] - {None} if leaf == 7 else words[(leaf, reg)]
        has_sub = len(parts) == 5
        assert has_sub == (leaf in lc.SUBLEAF_LEAVES), loc
        assert all((s is not None) == has_sub for s in subs), (loc, subs)
        checked += 1
    assert checked > 150
    # and they land on QEMU's bits: pdpe1gb, avx2, xsaveopt, avx512vbmi, ...
    for loc in (
        "cpuid.0x80000001.edx.26",
        "cpuid.0x7.0.ebx.5",
        "cpuid.0xd.1.eax.0",
        "cpuid.0x7.0.ecx.1",
        "cpuid.0x7.1.eax.4",
        "cpuid.0x8000000a.edx.0",
    ):
        assert loc in shipped["locations"] and loc in qemu_locations, loc


def test_subleaf_rule_matches_every_shipped_qemu_word(db):
    odd = []
    for rel in db.releases():
        for w in rel.words:
            if w.type != "cpuid" or w.leaf is None:
                continue
            if (w.subleaf is not None) != (w.leaf in lc.SUBLEAF_LEAVES):
                odd.append((rel.version, w.name))
    # QEMU 1.4 declares leaf 7 without ECX (`.cpuid_needs_ecx` came in 1.5); the parser
    # may or may not normalise that to subleaf 0. Nothing else may differ.
    assert set(odd) <= {("1.4.0", "FEAT_7_0_EBX")}


def test_shipped_file_is_reproducible():
    """`python -m cpudb.scrapers.linux_cpufeatures` over the recorded headers gives the
    shipped file byte for byte (skipped unless those headers are installed)."""
    shipped_text = (shipped_data_dir() / "linux-cpufeatures.json").read_text()
    shipped = json.loads(shipped_text)
    root = Path("/usr/src") / shipped["source"].split(":")[0]
    if not root.is_dir():
        pytest.skip(f"{root} not installed (apt-get install {root.name})")
    lf = lc.scrape(root)
    assert lf.linux_version == shipped["linux_version"]
    assert json.dumps(lf.to_json(), indent=1) + "\n" == shipped_text
