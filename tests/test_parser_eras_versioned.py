"""The table parser on hand-written fixtures of QEMU with versioned CPU models (4.1 on).

Each fixture in tests/fixtures/qemu/ is small enough that the expected answer below was
worked out by hand from the fixture text (bit positions, cumulative versions).
"""

from __future__ import annotations

import pytest
from cpudb.scrapers import qemu_source as qs

from cpudb.errors import ParseError
from cpudb.resolve import with_accel
from tests.conftest import cpu_named
from tests.qemu_sources import FIX, MANIFEST, feats, files, locations, model, names, release, table

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


# ----------------------------------------------------------------- AVX10 levels: 11.0

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
