"""The table parser on hand-written fixtures, one per era quirk of QEMU's cpu.c/cpu.h.

Each fixture in tests/fixtures/qemu/ is small enough that the expected answer below was
worked out by hand from the fixture text (bit positions, masks, cumulative versions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cpudb.scrapers import qemu_source as qs
from cpudb.scrapers.qemu_parsed import ParsedTable, SourceFiles
from cpudb.scrapers.qemu_table import parse_table

from cpudb.errors import ParseError
from cpudb.model import ModelDef, Release
from cpudb.resolve import with_accel
from tests.conftest import cpu_named

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


PPRO = names("fpu de pse tsc msr mce cx8 pge cmov pat fxsr mmx sse sse2 pae sep apic")


# ----------------------------------------------------------------- era A: 1.1


def test_era_a_named_arrays_and_alternatives() -> None:
    t = table("era_a_1_1")
    assert [w.name for w in t.words] == [
        "FEAT_1_EDX",
        "FEAT_1_ECX",
        "FEAT_8000_0001_EDX",
        "FEAT_8000_0001_ECX",
    ]
    by = {(f.name, f.word): f for f in t.features}
    assert by[("pni", "FEAT_1_ECX")].aliases == ("sse3",)
    assert by[("pni", "FEAT_1_ECX")].location == "cpuid.0x1.ecx.0"
    assert by[("sse4.1", "FEAT_1_ECX")].aliases == ("sse4_1",)
    assert by[("nx", "FEAT_8000_0001_EDX")].aliases == ("xd",)
    assert by[("lm", "FEAT_8000_0001_EDX")].aliases == ("i64",)
    assert by[("fxsr_opt", "FEAT_8000_0001_EDX")].aliases == ("ffxsr",)
    # comments after names are not part of them; NULL leaves a hole
    assert by[("pn", "FEAT_1_EDX")].location == "cpuid.0x1.edx.18"
    assert locations(t, "pbe") == ["cpuid.0x1.edx.31"]
    assert not [f for f in t.features if f.location == "cpuid.0x1.edx.10"]


def test_era_a_models_vendor_words_and_masks() -> None:
    t = table("era_a_1_1")
    assert [m.name for m in t.models] == ["qemu64", "pentium", "bigbits"]
    q = model(t, "qemu64")
    assert (q.vendor, q.family, q.model, q.stepping, q.level, q.xlevel) == (
        "AuthenticAMD",
        6,
        2,
        3,
        4,
        0x8000000A,
    )
    assert q.model_id == "QEMU Virtual CPU version 1.1.0"  # QEMU_VERSION is the release
    # (PPRO_FEATURES & 0x0183F3FF) keeps PPRO's bits 0-9, 12-17, 23, 24 in the AMD word:
    # without the mask, PPRO's sse2 (bit 26) would read as pdpe1gb and sse (25) as fxsr_opt.
    assert {"lm", "syscall", "nx", "lahf_lm", "svm", "abm", "sse4a"} <= q.features
    assert "pdpe1gb" not in q.features and "fxsr_opt" not in q.features
    # names in comments (CPUID_EXT3_CMP_LEG ...) are not features and not errors
    assert "cmp_legacy" not in q.features
    p = model(t, "pentium")
    assert p.vendor == "GenuineIntel"  # no vendor words = Intel
    assert p.model_id == ""
    assert p.features == {"fpu", "vme", "pse", "de", "tsc", "msr", "mce", "cx8", "mmx", "apic"}
    b = model(t, "bigbits")
    assert b.model_id == "Fixture CPU with bit 31 set"
    assert {"pbe", "3dnow", "pdpe1gb", "sse4.1"} <= b.features  # (1 << 31) in two words
    assert b.features - PPRO == {"pbe", "3dnow", "pdpe1gb", "sse4.1"}
    assert t.unnamed == {}


def test_era_a_names_are_table_entries_without_runtime_rules() -> None:
    t = table("era_a_1_1")
    assert (t.rules.hypervisor, t.rules.amd_alias_copy) == (False, False)
    assert t.default_version is None and t.accel_defaults == {} and t.dependencies == ()
    r = release("era_a_1_1")
    assert [(c.name, c.kind, c.alias_of) for c in r.cpus] == [
        ("qemu64", "model", None),
        ("pentium", "model", None),
        ("bigbits", "model", None),
    ]
    assert feats(r, "pentium") == model(t, "pentium").features


# ----------------------------------------------------------------- era C: 1.5


def test_era_c_feature_word_info_with_named_arrays() -> None:
    t = table("era_c_1_5")
    words = {w.name: w for w in t.words}
    assert words["FEAT_7_0_EBX"].location(7) == "cpuid.0x7.0.ebx.7"
    assert words["FEAT_KVM"].location(0) == "cpuid.0x40000001.eax.0"  # KVM_CPUID_FEATURES
    assert words["FEAT_SVM"].location(1) == "cpuid.0x8000000a.edx.1"
    # kvmclock sits at two bits of one word: two locations, one name
    assert locations(t, "kvmclock") == ["cpuid.0x40000001.eax.0", "cpuid.0x40000001.eax.3"]


def test_era_c_models() -> None:
    t = table("era_c_1_5")
    ph = model(t, "phenom")
    assert ph.vendor == "AuthenticAMD"
    assert ph.model_id == "AMD Phenom(tm) 9550 Quad-Core Processor"  # no trailing comma
    assert names("npt lbrv 3dnow 3dnowext mmxext fxsr_opt pdpe1gb rdtscp ht monitor") <= ph.features
    assert not {"cmp_legacy", "extapic", "osvw", "ibs"} & ph.features  # only in a comment
    p3 = model(t, "pentium3")
    assert p3.model_id == "" and p3.vendor == "GenuineIntel"
    # PENTIUM3 -> PENTIUM2 -> PENTIUM -> I486, nested macros over continuation lines
    assert p3.features == names(
        "fpu vme pse de tsc msr mce cx8 mmx apic pae sep mtrr pge mca cmov pat pse36 fxsr sse"
    )
    assert {"fsgsbase", "smep"} <= model(t, "Fixturewell").features


def test_era_c_runtime_rules_add_hypervisor_to_names_not_models() -> None:
    t = table("era_c_1_5")
    assert (t.rules.hypervisor, t.rules.amd_alias_copy) == (True, True)
    r = release("era_c_1_5")
    for m in t.models:
        assert "hypervisor" not in m.features
        assert feats(r, m.name) == m.features | {"hypervisor"}


# ----------------------------------------------------------------- era E: 2.8


def test_era_e_inline_names_and_code_aliases() -> None:
    t = table("era_e_2_8")
    by = {f.name: f for f in t.features}
    assert by["pni"].aliases == ("sse3",)
    assert set(by["fxsr-opt"].aliases) == {"ffxsr", "fxsr_opt"}
    assert by["tsc-adjust"].aliases == ("tsc_adjust",)
    assert by["lahf-lm"].aliases == ("lahf_lm",)
    assert by["ds-cpl"].location == "cpuid.0x1.ecx.4"
    # the AMD-aliased bits of 8000_0001.EDX are NULL (with comments) from 2.4 on
    amd = {f.bit for f in t.features if f.word == "FEAT_8000_0001_EDX"}
    assert amd == {11, 20, 22, 25, 26, 27, 29, 30, 31}
    assert len([f for f in t.features if f.word == "FEAT_1_EDX"]) == 30


def test_era_e_models_and_conditional_defines() -> None:
    t = table("era_e_2_8")
    q = model(t, "qemu64")
    assert q.model_id == "QEMU Virtual CPU version 2.5+"  # QEMU_HW_VERSION
    assert q.features == PPRO | names("mtrr clflush mca pse36 pni cx16 lm syscall nx lahf-lm svm")
    assert model(t, "486").features == {"fpu", "vme", "pse"}
    fs = model(t, "Fixture-Server")
    # TCG_EXT2_FEATURES and friends (defined twice under #ifdef/#else) feed only
    # feature_word_info's tcg_features, never the table
    assert fs.features == PPRO | names(
        "mtrr clflush mca pse36 pni pclmulqdq ssse3 cx16 sse4.1 sse4.2 x2apic "
        "popcnt lm pdpe1gb nx syscall fsgsbase smep erms"
    )


def test_era_e_accelerator_defaults_are_kept_apart() -> None:
    t = table("era_e_2_8")
    assert t.accel_defaults["tcg"] == (("vme", "off"),)
    assert [p for p, _ in t.accel_defaults["kvm"]] == [
        "kvmclock",
        "kvm-nopiodelay",
        "kvm-asyncpf",
        "kvm-steal-time",
        "kvm-pv-eoi",
        "kvmclock-stable-bit",
        "x2apic",
        "acpi",
        "monitor",
        "svm",
    ]
    r = release("era_e_2_8")
    i486 = feats(r, "486")
    assert "vme" in i486  # defaults are not in the resolved set ...
    tcg = with_accel(r, i486, "tcg")
    assert i486 - tcg == {"vme"} and tcg - i486 == set()  # ... only applied on request
    base = feats(r, "qemu64")
    assert "svm" in base
    kvm = with_accel(r, base, "kvm")
    assert kvm - base == names(
        "kvmclock kvm-nopiodelay kvm-asyncpf kvm-steal-time kvm-pv-eoi kvmclock-stable-bit x2apic"
    )
    assert base - kvm == {"svm"}


# ----------------------------------------------------------------- era F: 3.1


def test_era_f_nested_cpuid_and_msr_words() -> None:
    t = table("era_f_3_1")
    words = {w.name: w for w in t.words}
    ac = words["FEAT_ARCH_CAPABILITIES"]
    assert (ac.type, ac.msr, ac.leaf) == ("msr", 0x10A, None)
    assert locations(t, "rdctl-no") == ["msr.0x10a.0"]
    assert locations(t, "skip-l1dfl-vmentry") == ["msr.0x10a.3"]
    assert locations(t, "spec-ctrl") == ["cpuid.0x7.0.edx.26"]
    assert locations(t, "ssbd") == ["cpuid.0x7.0.edx.31"]
    assert locations(t, "ibpb") == ["cpuid.0x80000008.ebx.12"]
    assert words["FEAT_1_ECX"].subleaf is None and words["FEAT_7_0_EBX"].subleaf == 0


def test_era_f_sibling_models_and_cache_info() -> None:
    t = table("era_f_3_1")
    assert [m.name for m in t.models] == [
        "Fixturelake-Server",
        "Fixturelake-Server-IBRS",
        "EPYC",
        "EPYC-IBPB",
    ]
    base, ibrs = model(t, "Fixturelake-Server"), model(t, "Fixturelake-Server-IBRS")
    assert ibrs.features - base.features == {"spec-ctrl"}
    assert base.features - ibrs.features == set()
    assert {"rdctl-no", "ibrs-all", "skip-l1dfl-vmentry", "arch-capabilities"} <= base.features
    assert ibrs.model_id == "Intel Xeon Processor (Fixturelake, IBRS)"
    epyc, ibpb = model(t, "EPYC"), model(t, "EPYC-IBPB")
    assert epyc.cache_info == ibpb.cache_info == "epyc_cache_info"
    assert base.cache_info is None
    assert ibpb.features - epyc.features == {"ibpb"}
    r = release("era_f_3_1")
    assert {c.kind for c in r.cpus} == {"model"}  # before 4.1 siblings are models
    assert cpu_named(r, "EPYC-IBPB").cache_info == "epyc_cache_info"


# ----------------------------------------------------------------- era G: 4.1


def test_era_g_names_versions_aliases() -> None:
    r = release("era_g_4_1")
    assert r.default_version == "latest"
    assert [(c.name, c.kind, c.alias_of) for c in r.cpus] == [
        ("qemu64", "bare", "qemu64-v1"),
        ("qemu64-v1", "version", None),
        ("Fixturewell", "bare", "Fixturewell-v1"),
        ("Fixturewell-v1", "version", None),
        ("Fixturewell-v2", "version", None),
        ("Fixturewell-v3", "version", None),
        ("Fixturewell-v4", "version", None),
        ("Fixturewell-noTSX", "alias", "Fixturewell-v2"),
        ("Fixturewell-IBRS", "alias", "Fixturewell-v3"),
    ]


def test_era_g_versions_are_cumulative() -> None:
    t = table("era_g_4_1")
    r = release("era_g_4_1")
    v1 = feats(r, "Fixturewell-v1")
    assert v1 == model(t, "Fixturewell").features | {"hypervisor"}
    assert {"hle", "rtm"} <= v1
    v2 = cpu_named(r, "Fixturewell-v2")
    assert v1 - v2.features == {"hle", "rtm"} and v2.features <= v1
    assert (v2.stepping, v2.model_id) == (1, "Intel Core Processor (Fixturewell, no TSX)")
    v3 = cpu_named(r, "Fixturewell-v3")
    # hle comes back, rtm stays off (v2's props still apply); tsc_adjust is an alias spelling
    assert v3.features == v2.features | {"hle", "spec-ctrl", "tsc-adjust"}
    assert v3.model_id == "Intel Core Processor (Fixturewell, IBRS)"  # split literal joined
    assert v3.stepping == 1
    v4 = cpu_named(r, "Fixturewell-v4")
    assert v4.features == (v3.features | {"ssbd"}) - {"sse4.2"}  # sse4_2 is an alias
    assert v4.model_id == v3.model_id
    assert feats(r, "Fixturewell-IBRS") == v3.features
    assert feats(r, "Fixturewell") == v1  # the bare name is v1 on machine types >= 4.1


def test_era_g_props_and_designated_names() -> None:
    t = table("era_g_4_1")
    fw = model(t, "Fixturewell")
    assert [v.version for v in fw.versions] == [1, 2, 3, 4]
    assert [v.alias for v in fw.versions] == [None, "Fixturewell-noTSX", "Fixturewell-IBRS", None]
    assert fw.versions[1].props == (
        ("hle", "off"),
        ("rtm", "off"),
        ("stepping", "1"),
        ("model-id", "Intel Core Processor (Fixturewell, no TSX)"),
    )
    assert model(t, "qemu64").versions == ()
    # `[26] = "spec-ctrl", "stibp", NULL, "arch-capabilities", NULL, "ssbd"`
    assert locations(t, "stibp") == ["cpuid.0x7.0.edx.27"]
    assert locations(t, "arch-capabilities") == ["cpuid.0x7.0.edx.29"]
    assert locations(t, "ssbd") == ["cpuid.0x7.0.edx.31"]


# ----------------------------------------------------------------- era H: 5.0


def test_era_h_64bit_words_and_designators() -> None:
    t = table("era_h_5_0")
    assert locations(t, "vmx-ins-outs") == ["msr.0x480.54"]
    assert locations(t, "vmx-true-ctls") == ["msr.0x480.55"]
    assert locations(t, "vmx-eptp-switching") == ["msr.0x491.0"]
    # the upstream slip: one name at bits 25 and 41; positional items go on after it
    assert locations(t, "vmx-invept-single-context") == ["msr.0x48c.25", "msr.0x48c.41"]
    assert locations(t, "vmx-invvpid-all-context") == ["msr.0x48c.42"]
    assert locations(t, "vmx-invept-single-context-noglobals") == ["msr.0x48c.43"]
    assert locations(t, "vmx-secondary-ctls") == ["msr.0x48e.31"]
    fl = model(t, "Fixturelake-Server")
    # (1ULL << 40) and (1ULL << 41) survive 64-bit evaluation
    assert (
        names(
            "vmx-invvpid vmx-invvpid-single-addr vmx-invept-single-context "
            "vmx-ins-outs vmx-true-ctls vmx-eptp-switching"
        )
        <= fl.features
    )
    assert t.default_version == "1"


def test_era_h_dependency_table() -> None:
    t = table("era_h_5_0")
    deps = t.dependencies
    assert [(d.requires, d.clears_all_of) for d in deps] == [
        (("vmx",), "FEAT_VMX_PROCBASED_CTLS"),
        (("vmx",), "FEAT_VMX_BASIC"),
        (("vmx-secondary-ctls",), "FEAT_VMX_SECONDARY_CTLS"),
        (("vmx-ept",), None),
        (("vmx-vpid",), None),
        (("vmx-vmfunc",), "FEAT_VMX_VMFUNC"),
    ]
    # 0xffffffffull << 32: the upper half of the EPT/VPID word
    assert set(deps[4].clears) == names(
        "vmx-invvpid vmx-invvpid-single-addr vmx-invept-single-context "
        "vmx-invvpid-all-context vmx-invept-single-context-noglobals"
    )
    assert "vmx-invvpid" not in deps[3].clears and "vmx-ept-execonly" in deps[3].clears


def test_era_h_dependencies_resolve_like_qemu() -> None:
    r = release("era_h_5_0")
    v1 = feats(r, "Fixturelake-Server-v1")
    assert {"vmx", "vmx-ept", "vmx-invept", "vmx-ept-execonly", "vmx-ins-outs"} <= v1
    # vpid off: bits 32-63 go, and with bit 41 the two-bit name reads false
    assert not {"vmx-invvpid", "vmx-invvpid-single-addr", "vmx-invept-single-context"} & v1
    assert "vmx-eptp-switching" not in v1  # vmfunc off
    v2 = feats(r, "Fixturelake-Server-v2")
    assert v2 - v1 == {"vmx-vpid", "vmx-invvpid", "vmx-invvpid-single-addr"}
    assert v1 - v2 == set()
    # vmx off: every vmx-* capability of the definition vanishes ...
    nv1 = feats(r, "Fixture-NoVMX-v1")
    assert not [f for f in nv1 if f.startswith("vmx")]
    # ... and comes back when a later version turns vmx on (versions apply to the
    # definition, dependencies to the result)
    nv2 = feats(r, "Fixture-NoVMX-v2")
    assert nv2 - nv1 == {"vmx", "vmx-hlt-exit", "vmx-ins-outs"}


def test_a_name_on_two_bits_needs_both() -> None:
    r = release("era_h_5_0")
    t = table("era_h_5_0")
    # Fixture-HalfBit sets bit 25 only: QEMU's property covers bits 25|41 and reads false
    assert "vmx-invept-single-context" not in model(t, "Fixture-HalfBit").features
    assert "vmx-invept-single-context" not in feats(r, "Fixture-HalfBit-v1")
    assert {"vmx-invvpid", "vmx-vpid", "vmx-ept"} <= feats(r, "Fixture-HalfBit-v1")


def test_era_h_kvm_defaults_turn_on_both_kvmclock_bits() -> None:
    r = release("era_h_5_0")
    base = feats(r, "Fixturelake-Server-v1")
    kvm = with_accel(r, base, "kvm")
    assert "kvmclock" in kvm and "x2apic" in kvm and "vmx" in kvm
    tcg = with_accel(r, base, "tcg")
    assert not [f for f in tcg if f.startswith("kvm")]


# ----------------------------------------------------------------- era J: 8.x


def test_era_j_version_cache_info_notes_deprecation() -> None:
    r = release("era_j_8_2")
    old = cpu_named(r, "Fixture-Old-v1")
    assert old.deprecation_note == "use Fixture-New instead"
    assert cpu_named(r, "Fixture-Old").deprecation_note == "use Fixture-New instead"
    caches = [cpu_named(r, f"EPYC-v{n}").cache_info for n in (1, 2, 3, 4)]
    assert caches == [
        "epyc_cache_info",
        "epyc_cache_info",
        "epyc_v4_cache_info",
        "epyc_v4_cache_info",
    ]  # the latest non-NULL one up to vN wins
    assert [cpu_named(r, f"EPYC-v{n}").note for n in (1, 2, 3, 4)] == [
        None,
        None,
        "no SVM, new cache model",
        None,
    ]
    assert [cpu_named(r, f"EPYC-v{n}").model_number for n in (1, 2, 3, 4)] == [1, 1, 49, 49]
    v2, v3, v4 = (feats(r, f"EPYC-v{n}") for n in (2, 3, 4))
    assert v2 - feats(r, "EPYC-v1") == {"ibpb"}
    assert v2 - v3 == {"svm"} and v4 - v3 == {"amd-ssbd"}  # avx10-version is no feature
    assert cpu_named(r, "EPYC-IBPB").alias_of == "EPYC-v2"
    assert cpu_named(r, "EPYC-IBPB").model_id == "AMD EPYC Processor (with IBPB)"


def test_rhel_string_macro_deprecation_note_and_downstream_label() -> None:
    r = release("rhel_8_1", upstream=False)
    assert r.upstream is False
    old = cpu_named(r, "fixture-old-v1")
    assert old.deprecation_note == "use at least 'Fixturewell' or 'host' / 'max'"
    assert cpu_named(r, "Fixturewell-v1").deprecation_note is None


# ------------------------------------------------ what the parser refuses to guess


def _mutated(name: str, old: str, new: str) -> SourceFiles:
    text = (FIX / MANIFEST[name]["c"]).read_text()
    assert text.count(old) >= 1, old
    return files(name, cpu_c=text.replace(old, new, 1))


def _line_of(text: str, snippet: str, token: str) -> int:
    """Line of `token` inside the (first) occurrence of `snippet` in `text`."""
    at = text.index(snippet) + snippet.index(token)
    return text[:at].count("\n") + 1


@pytest.mark.parametrize(
    ("name", "old", "new", "token", "message"),
    [
        (
            "era_g_4_1",
            "CPUID_EXT_SSE3 | CPUID_EXT_SSSE3",
            "CPUID_EXT_SSE3 | CPUID_EXT_BOGUS",
            "CPUID_EXT_BOGUS",
            "unknown macro",
        ),
        (
            "era_g_4_1",
            '.model_id = "Intel Core Processor (Fixturewell)",',
            '.model_id = "Intel Core Processor (Fixturewell)",\n        .new_field = 1,',
            "new_field",
            "unknown field in builtin_x86_defs",
        ),
        (
            "era_g_4_1",
            "{ .version = 1 },",
            "{ .version = 1, .frobnicate = 2 },",
            "frobnicate",
            "unknown field in a version entry",
        ),
        (
            "era_g_4_1",
            '{ "ssbd", "on" },',
            '{ "no-such-feature", "on" },',
            "no-such-feature",
            "neither a feature",
        ),
        ("era_g_4_1", '{ "ssbd", "on" },', '{ "ssbd", "maybe" },', "maybe", "not on/off"),
        (
            "era_h_5_0",
            ".features[FEAT_VMX_VMFUNC] = MSR_VMX_VMFUNC_EPT_SWITCHING,",
            ".features[FEAT_VMX_NOPE] = MSR_VMX_VMFUNC_EPT_SWITCHING,",
            "FEAT_VMX_NOPE",
            "unknown feature word",
        ),
        (
            "era_c_1_5",
            ".feat_names = svm_feature_name,",
            ".feat_names = nope_feature_name,",
            "nope_feature_name",
            "unknown feature name array",
        ),
        (
            "era_f_3_1",
            ".cpuid = { .eax = 0x80000008, .reg = R_EBX, },",
            ".cpuid = { .eax = 0x80000008, .reg = R_EXX, },",
            "R_EXX",
            "unknown register",
        ),
        (  # defined under `#if defined CONFIG_USER_ONLY` and again under `#else`
            "era_e_2_8",
            "CPUID_EXT2_LM | CPUID_EXT2_SYSCALL | CPUID_EXT2_NX,",
            "CPUID_EXT2_LM | CPUID_EXT2_KERNEL_FEATURES | CPUID_EXT2_NX,",
            "CPUID_EXT2_KERNEL_FEATURES",
            "defined twice with different values",
        ),
        (
            "era_f_3_1",
            ".type = MSR_FEATURE_WORD,",
            ".type = PMU_FEATURE_WORD,",
            "PMU_FEATURE_WORD",
            "unknown feature word type",
        ),
    ],
)
def test_unknown_things_are_parse_errors_naming_file_line_token(
    name: str, old: str, new: str, token: str, message: str
) -> None:
    f = _mutated(name, old, new)
    with pytest.raises(ParseError) as ei:
        parse_table(f, MANIFEST[name]["version"])
    e = ei.value
    assert e.file == f.cpu_c_name
    assert e.token == token
    assert message in e.message
    assert e.line is not None and e.line >= 1
    # the line is where the offending text is (models' prop checks name the model's line)
    if message not in ("neither a feature", "not on/off"):
        assert e.line == _line_of(f.cpu_c, new, token)


def test_not_a_cpu_c_and_truncated_file() -> None:
    with pytest.raises(ParseError, match="no builtin_x86_defs") as ei:
        parse_table(files("era_g_4_1", cpu_c="int main(void) { return 0; }\n"), "4.1.0")
    assert ei.value.hint and "cpu.c" in ei.value.hint
    text = (FIX / MANIFEST["era_g_4_1"]["c"]).read_text()
    cut = text[: text.index('.alias = "Fixturewell-IBRS"')]
    with pytest.raises(ParseError, match="unterminated") as ei:
        parse_table(files("era_g_4_1", cpu_c=cut), "4.1.0")
    assert ei.value.file == "target/i386/cpu.c" and ei.value.line is not None
    assert "truncated" in (ei.value.hint or "")


def test_macro_cycles_and_bad_literals_are_parse_errors() -> None:
    f = _mutated(
        "era_g_4_1",
        "#define PPRO_FEATURES (CPUID_FP87 |",
        "#define LOOP_A (LOOP_B)\n#define LOOP_B (LOOP_A)\n"
        "#define PPRO_FEATURES (LOOP_A | CPUID_FP87 |",
    )
    with pytest.raises(ParseError, match="recursive macro"):
        parse_table(f, "4.1.0")
    f = _mutated("era_g_4_1", ".stepping = 4,", ".stepping = 09,")
    with pytest.raises(ParseError, match="bad integer literal") as ei:
        parse_table(f, "4.1.0")
    assert ei.value.token == "09"


def test_no_names_at_all_is_a_parse_error() -> None:
    text = (FIX / MANIFEST["era_a_1_1"]["c"]).read_text()
    stripped = text.replace("_feature_name[]", "_feature_label[]").replace(
        "*feature_name[]", "*feature_label[]"
    )
    with pytest.raises(ParseError, match="feature"):
        parse_table(files("era_a_1_1", cpu_c=stripped), "1.1.0")


AVX10_DEFS = """
static const AVX10VersionDefinition builtin_avx10_defs[] = {
    {
        .name = "avx10.1",
        .version = 1,
        .max_subleaf = 0,
        .features = (FeatureMask[]) {
            { FEAT_1_ECX,         CPUID_EXT_SSSE3 },
            { /* end of list */ }
        }
    },
    {
        .name = "avx10.2",
        .version = 2,
        .max_subleaf = 1,
        .features = (FeatureMask[]) {
            { FEAT_8000_0001_EDX, CPUID_EXT2_PDPE1GB },
            { /* end of list */ }
        }
    },
};

static const X86CPUDefinition builtin_x86_defs[] = {"""


def test_avx10_version_turns_on_its_levels_features_from_11_0() -> None:
    """QEMU 11.0+ (builtin_avx10_defs[]): `.avx10_version = N` of a model, and a version
    prop avx10-version=N, turn on the features of every AVX10 level up to N, as
    x86_cpu_apply_avx10_features does (11.1's DiamondRapids gains avx10-128/256/512 and
    avx10-vnni-int that way); before that table the field is a bare number."""
    text = (FIX / MANIFEST["era_j_8_2"]["c"]).read_text()
    text = text.replace("static const X86CPUDefinition builtin_x86_defs[] = {", AVX10_DEFS, 1)
    text = text.replace(
        '.model_id = "Fixture Old Processor",',
        '.model_id = "Fixture Old Processor",\n        .avx10_version = 2,',
        1,
    )
    r = qs.scrape(qs.FetchedRelease(files("era_j_8_2", cpu_c=text), "11.1.0", "fixture"))
    old = release("era_j_8_2")
    assert feats(r, "Fixture-Old-v1") - feats(old, "Fixture-Old-v1") == {"ssse3", "pdpe1gb"}
    v4 = feats(r, "EPYC-v4")  # avx10-version=1: level 1 only (EPYC-v4 already has ssse3)
    assert v4 == feats(old, "EPYC-v4")
    text2 = text.replace('{ "svm", "off" },', '{ "svm", "off" },\n{ "ssse3", "off" },', 1)
    r2 = qs.scrape(qs.FetchedRelease(files("era_j_8_2", cpu_c=text2), "11.1.0", "fixture"))
    assert "ssse3" not in feats(r2, "EPYC-v3") and "ssse3" in feats(r2, "EPYC-v4")
    bad = text.replace(".avx10_version = 2,", ".avx10_version = 3,", 1)
    with pytest.raises(ParseError, match="no AVX10 level 3"):
        qs.scrape(qs.FetchedRelease(files("era_j_8_2", cpu_c=bad), "11.1.0", "fixture"))
