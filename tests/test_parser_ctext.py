"""Just-enough-C: comments, #defines, tokens and initializer lists, with file:line errors."""

from __future__ import annotations

import pytest
from cpudb.scrapers.ctext import (
    Expr,
    InitList,
    Source,
    collect_defines,
    find_initializer,
    match_brace,
    parse_initializer,
    strip_comments,
    tokenize,
)
from hypothesis import given
from hypothesis import strategies as st

from cpudb.errors import ParseError


def test_comments_go_strings_stay_and_lines_survive() -> None:
    text = (
        'int a = 1; /* two\n line comment */ char *s = "a /* not */ b // no";\n'
        "x = '\"'; // tail CPUID_EXT_FOO\n"
        "y = 2;\n"
    )
    out = strip_comments(text)
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    assert '"a /* not */ b // no"' in out
    assert "two" not in out and "CPUID_EXT_FOO" not in out and "tail" not in out
    assert "'\"'" in out
    src = Source("f.c", text)
    assert src.line(src.text.index("char")) == 2
    assert src.line(src.text.index("y = 2")) == 4


@given(st.text(alphabet="ab \n/*\"'\\", max_size=60))
def test_strip_comments_keeps_offsets(text: str) -> None:

    out = strip_comments(text)
    assert len(out) == len(text)
    assert [i for i, c in enumerate(out) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]


def test_tokens_kinds_positions_and_continuations() -> None:
    src = Source("t.c", 'x = (1ULL << 40) | 0x1fU | "s\\"q" \\\n  ->y;')
    toks = tokenize(src)
    assert [t.text for t in toks] == [
        "x", "=", "(", "1ULL", "<<", "40", ")", "|", "0x1fU", "|", '"s\\"q"', "->", "y", ";",
    ]  # fmt: skip
    assert [t.kind for t in toks[:4]] == ["id", "op", "op", "num"]
    assert toks[10].kind == "str"
    assert src.text[toks[12].pos] == "y"


def test_unexpected_character_names_file_and_line() -> None:
    with pytest.raises(ParseError) as ei:
        tokenize(Source("target/i386/cpu.c", "a = 1;\nb = @;\n"))
    assert (ei.value.file, ei.value.line, ei.value.token) == ("target/i386/cpu.c", 2, "@")


def test_defines_first_wins_continuations_and_function_like_skipped() -> None:
    h = Source(
        "cpu.h",
        "#define A (1U << 3)\n"
        "#  define  B (A | \\\n     (1U << 4))\n"
        "#define F(x) ((x) + 1)\n"
        "#if defined CONFIG_USER_ONLY\n#define K (A)\n#else\n#define K 0\n#endif\n"
        "#define EMPTY\n"
        "#define B (A | (1U << 4))\n",  # the same body again, spaced differently: no conflict
    )
    c = Source("cpu.c", "#define A 99\n#define C B\n")
    d = collect_defines([h, c])
    assert d["A"].body.strip() == "(1U << 3)" and d["A"].src is h  # first definition wins
    assert "(1U << 4)" in d["B"].body and d["C"].src is c
    assert "F" not in d
    assert d["K"].body.strip() == "(A)" and d["K"].conflict  # #if/#else: ambiguous
    assert d["A"].conflict  # 99 in cpu.c vs (1U << 3) in cpu.h
    assert not d["B"].conflict and not d["C"].conflict
    assert d["EMPTY"].body.strip() == ""


def _parse(text: str) -> InitList:
    src = Source("t.c", text)
    node, end = parse_initializer(src, text.index("{"))
    assert text[end - 1] == "}"
    return node


def test_initializer_designators_compound_literals_and_trailing_commas() -> None:
    node = _parse(
        "x[] = {\n"
        '  { .name = "a" "b", .features[FEAT_1_EDX] = A | B, .model_id = "m" },\n'
        "  { .versions = (X86CPUVersionDefinition[]) { { .version = 1 }, { } }, },\n"
        '  { [54] = "x", "y", [0] = "z", },\n'
        "  { .cache = &(CPUCacheInfo) { .size = 32 * KiB, }, },\n"
        "};"
    )
    first, second, third, fourth = node.items
    assert isinstance(first.value, InitList)
    name, feat, mid = first.value.items
    assert name.field == "name" and isinstance(name.value, Expr)
    assert name.value.text() == '"a" "b"'
    assert feat.designators[0] == (".", "features") and feat.designators[1][0] == "["
    assert feat.value.text() == "A | B"
    assert mid.field == "model_id"
    versions = second.value.items[0]
    assert isinstance(versions.value, InitList)
    assert versions.value.cast == "( X86CPUVersionDefinition [ ] )"
    assert [len(v.value.items) for v in versions.value.items] == [1, 0]  # end marker kept
    des = [it.designators for it in third.value.items]
    assert des[0][0][0] == "[" and des[1] == [] and des[2][0][0] == "["
    cache = fourth.value.items[0]
    assert cache.value.cast == "( CPUCacheInfo )"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("x[] = {\n { .a = 1,\n  .b = 2 \n", "unterminated '{'", 1),
        ("x[] = {\n { .a = 1 } { .b = 2 },\n};", "expected ',' or '}'", 2),
        ("x[] = {\n { .a = },\n};", "empty value", 2),
        ("x[] = {\n { .a = 1) }, \n};", "unbalanced", 2),
    ],
)
def test_broken_initializers_are_parse_errors(text: str, message: str, line: int) -> None:
    src = Source("target/i386/cpu.c", text)
    with pytest.raises(ParseError, match=message.replace("(", r"\(")) as ei:
        parse_initializer(src, text.index("{"))
    assert ei.value.file == "target/i386/cpu.c" and ei.value.line == line


def test_match_brace_skips_braces_in_strings() -> None:
    src = Source("t.c", 'a = { "}", { "{" }, "\\"}" };')
    assert match_brace(src, src.text.index("{")) == len(src.text) - 2


def test_find_initializer() -> None:
    src = Source("t.c", "static const X86CPUDefinition builtin_x86_defs[] = {\n { } };")
    assert find_initializer(src, r"builtin_x86_defs\s*\[\s*\]") == src.text.index("{")
    assert find_initializer(src, r"feature_word_info\s*\[\s*\w*\s*\]", required=False) is None
    with pytest.raises(ParseError, match="feature_word_info") as ei:
        find_initializer(src, r"feature_word_info")
    assert ei.value.file == "t.c" and "cpu.c" in (ei.value.hint or "")
