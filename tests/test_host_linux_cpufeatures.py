"""Linux cpufeatures.h -> /proc/cpuinfo names at CPUID locations (data/linux-cpufeatures.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cpudb.scrapers import linux_cpufeatures as lc

from cpudb.errors import ParseError
from cpudb.paths import shipped_data_dir
from cpudb.query import Db

# Hand-written excerpts in the shape of the kernel headers (built into tmp_path by the
# tests: the repository keeps no file named like a kernel header).
NEW_CPUFEATURES_H = """\
/*
 * Note: If the comment begins with a quoted string, that string is used
 * in /proc/cpuinfo instead of the macro name.  Otherwise, this feature bit is
 * not displayed in /proc/cpuinfo at all.
 */

/* Intel-defined CPU features, CPUID level 0x00000001 (EDX), word 0 */
#define X86_FEATURE_FPU			( 0*32+ 0) /* "fpu" Onboard FPU */
#define X86_FEATURE_XMM			( 0*32+25) /* "sse" */

/* AMD-defined CPU features, CPUID level 0x80000001, word 1 */
#define X86_FEATURE_GBPAGES		( 1*32+26) /* "pdpe1gb" GB pages */

/* Other features, Linux-defined mapping, word 3 */
#define X86_FEATURE_CONSTANT_TSC	( 3*32+ 8) /* "constant_tsc" TSC ticks at a constant rate */
#define X86_FEATURE_ALWAYS		( 3*32+21) /* Always-present feature */

/* Intel-defined CPU features, CPUID level 0x00000001 (ECX), word 4 */
#define X86_FEATURE_XMM3		( 4*32+ 0) /* "pni" SSE-3 */
#define X86_FEATURE_OSXSAVE		( 4*32+27) /* XSAVE instruction enabled in the OS */

/* Intel-defined CPU features, CPUID level 0x00000007:0 (EBX), word 9 */
#define X86_FEATURE_AVX2		( 9*32+ 5) /* "avx2" AVX2 instructions */

/* Extended state features, CPUID level 0x0000000d:1 (EAX), word 10 */
#define X86_FEATURE_XSAVEOPT		(10*32+ 0) /* "xsaveopt" XSAVEOPT instruction */

/* Intel-defined CPU features, CPUID level 0x00000007:1 (EAX), word 12 */
#define X86_FEATURE_LKGS		(12*32+18) /* Load "kernel" (userspace) GS */
#define X86_FEATURE_AVX_VNNI		(12*32+ 4) /* "avx_vnni" AVX VNNI instructions */

/* AMD-defined CPU features, CPUID level 0x80000008 (EBX), word 13 */
#define X86_FEATURE_VIRT_SSBD		(13*32+25) /* "virt_ssbd" Virtualized SSBD */

/* Intel-defined CPU features, CPUID level 0x00000007:0 (ECX), word 16 */
#define X86_FEATURE_AVX512VBMI		(16*32+ 1) /* "avx512vbmi" AVX512 VBMI */

#define X86_BUG(x)			(NCAPINTS*32 + (x))
#define X86_BUG_F00F			X86_BUG(0) /* "f00f" Intel F00F */
"""

NEW_CPUFEATURE_H = """\
/* a hand-written excerpt: the enum of real kernels has every word */
enum cpuid_leafs
{
	CPUID_1_EDX		= 0,
	CPUID_8000_0001_EDX,
	CPUID_8086_0001_EDX,
	CPUID_LNX_1,
	CPUID_1_ECX,
	CPUID_C000_0001_EDX,
	CPUID_8000_0001_ECX,
	CPUID_LNX_2,
	CPUID_LNX_3,
	CPUID_7_0_EBX,
	CPUID_D_1_EAX,
	CPUID_LNX_4,
	CPUID_7_1_EAX,
	CPUID_8000_0008_EBX,
	CPUID_6_EAX,
	CPUID_8000_000A_EDX,
	CPUID_7_ECX,
	CPUID_8000_0007_EBX,
	CPUID_7_EDX,
	NR_CPUID_WORDS,
};
"""

OLD_CPUFEATURES_H = """\
/*
 * Note: If the comment begins with a quoted string, that string is used
 * in /proc/cpuinfo instead of the macro name.  If the string is "",
 * this feature bit is not displayed in /proc/cpuinfo at all.
 */

/* Intel-defined CPU features, CPUID level 0x00000001 (EDX), word 0 */
#define X86_FEATURE_FPU			( 0*32+ 0) /* Onboard FPU */
#define X86_FEATURE_XMM			( 0*32+25) /* "sse" */

/* AMD-defined CPU features, CPUID level 0x80000001, word 1 */
#define X86_FEATURE_GBPAGES		( 1*32+26) /* "pdpe1gb" GB pages */

/* Other features, Linux-defined mapping, word 3 */
/* This range is used for feature bits which conflict or are synthesized */
#define X86_FEATURE_CONSTANT_TSC	( 3*32+ 8) /* TSC ticks at a constant rate */
#define X86_FEATURE_ALWAYS		( 3*32+21) /* "" Always-present feature */

/* Intel-defined CPU features, CPUID level 0x00000001 (ECX), word 4 */
#define X86_FEATURE_OSXSAVE		( 4*32+27) /* "" XSAVE instruction enabled in the OS */

/* More extended AMD flags: CPUID level 0x80000001, ECX, word 6 */
#define X86_FEATURE_LAHF_LM		( 6*32+ 0) /* LAHF/SAHF in long mode */

/* Intel-defined CPU features, CPUID level 0x00000007:0 (EBX), word 9 */
#define X86_FEATURE_AVX2		( 9*32+ 5) /* AVX2 instructions */
"""


def headers_tree(tmp_path: Path) -> Path:
    """A minimal linux-headers tree: Makefile + arch/x86/include/asm/cpufeature(s).h."""
    root = tmp_path / "linux-headers-6.12.99-common"
    asm = root / "arch/x86/include/asm"
    asm.mkdir(parents=True)
    (root / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 99\n")
    (asm / "cpufeatures.h").write_text(NEW_CPUFEATURES_H)
    (asm / "cpufeature.h").write_text(NEW_CPUFEATURE_H)
    return root


def _names(d: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The /proc/cpuinfo names of the locations (hidden flags keep only a description)."""
    return {
        loc: {"linux_name": e["linux_name"]}
        for loc, e in d["locations"].items()
        if "linux_name" in e
    }


def test_descriptions_come_from_the_header_comments(tmp_path: Path) -> None:
    d = lc.scrape(headers_tree(tmp_path)).to_json()
    descs = {loc: e.get("description") for loc, e in d["locations"].items()}
    assert descs["cpuid.0x1.edx.0"] == "Onboard FPU"  # the quoted /proc name is not in it
    assert descs["cpuid.0x80000001.edx.26"] == "GB pages"
    assert descs["cpuid.0x1.edx.25"] is None  # "sse" has no text after its name
    assert descs["cpuid.0x7.1.eax.18"] == 'Load "kernel" (userspace) GS'  # hidden flag, quotes kept


def test_new_convention_with_enum(tmp_path: Path) -> None:
    lf = lc.scrape(headers_tree(tmp_path))
    d = lf.to_json()
    assert d["linux_version"] == "6.12.99"
    assert "cpufeature.h" in d["source"]
    assert _names(d) == {
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


def test_old_convention_with_section_comments(tmp_path: Path) -> None:
    h = tmp_path / "cpufeatures.h"
    h.write_text(OLD_CPUFEATURES_H)
    lf = lc.scrape(h, version="4.19.0")
    d = lf.to_json()
    assert "section comments" in d["source"]
    assert _names(d) == {
        "cpuid.0x1.edx.0": {"linux_name": "fpu"},  # macro name, lower case
        "cpuid.0x1.edx.25": {"linux_name": "sse"},
        "cpuid.0x7.0.ebx.5": {"linux_name": "avx2"},
        "cpuid.0x80000001.edx.26": {"linux_name": "pdpe1gb"},
        "cpuid.0x80000001.ecx.0": {"linux_name": "lahf_lm"},
    }
    assert d["synthetic"] == ["constant_tsc"]  # "" hides ALWAYS and OSXSAVE


def test_unreadable_definition_names_the_line(tmp_path: Path) -> None:
    h = tmp_path / "cpufeatures.h"
    h.write_text(
        "/* CPUID level 0x00000001 (EDX), word 0 */\n"
        '#define X86_FEATURE_FPU ( 0*32+ 0) /* "fpu" */\n'
        '#define X86_FEATURE_BAD ( 0*32 + x) /* "bad" */\n'
    )
    with pytest.raises(ParseError) as e:
        lc.scrape(h, version="1.0")
    assert e.value.line == 3


def test_word_without_leaf_is_refused(tmp_path: Path) -> None:
    h = tmp_path / "cpufeatures.h"
    h.write_text('#define X86_FEATURE_X ( 5*32+ 2) /* "x" */\n')
    with pytest.raises(ParseError, match="no CPUID leaf known for word 5"):
        lc.scrape(h, version="1.0")


def test_location_format_is_cpudbs(db: Db) -> None:
    """Every shipped Linux location of a CPUID word QEMU also has is spelled exactly like
    cpudb's own location ids (subleaf only for subleaf-indexed leaves)."""
    shipped = json.loads((shipped_data_dir() / "linux-cpufeatures.json").read_text())
    words: dict[tuple[int, str | None], set[int | None]] = {}

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


def test_subleaf_rule_matches_every_shipped_qemu_word(db: Db) -> None:
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


def test_shipped_file_is_reproducible() -> None:
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
