"""The table parser on hand-written fixtures of QEMU before versioned CPU models (1.1-3.1).

Each fixture in tests/fixtures/qemu/ is small enough that the expected answer below was
worked out by hand from the fixture text (bit positions, masks).
"""

from __future__ import annotations

from cpudb.resolve import with_accel
from tests.conftest import cpu_named
from tests.qemu_sources import feats, locations, model, names, release, table

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
