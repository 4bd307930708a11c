"""What the table parser refuses to guess: unknown or broken QEMU source is a ParseError
that names the file, the line and the token.
"""

from __future__ import annotations

import pytest
from cpudb.scrapers.qemu_parsed import SourceFiles
from cpudb.scrapers.qemu_table import parse_table

from cpudb.errors import ParseError
from tests.qemu_sources import FIX, MANIFEST, files

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
