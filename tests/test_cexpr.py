"""The C constant-expression evaluator: properties against Python, and the forms cpu.h uses."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cpudb.scrapers.cexpr import MASK64, eval_int, eval_str, parse_int_literal
from cpudb.scrapers.ctext import Source, Token, tokenize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpudb.errors import ParseError

MACROS = {"CPUID_EXT2_LM": 1 << 29, "MSR_VMX_EPT_INVVPID": 1 << 32, "ALL_ONES": MASK64, "ZERO": 0}


# cpudb.scrapers is the scrapers/ folder mapped by the install, which mypy cannot
# follow: its names are Any here, hence the annotated locals below
def toks(text: str) -> list[Token]:
    out: list[Token] = tokenize(Source("<expr>", text))
    return out


def resolve(t: Token) -> int:
    if t.text not in MACROS:
        raise t.error("unknown macro in expression")
    value: int = MACROS[t.text]
    return value


def ev(text: str) -> int:
    value: int = eval_int(toks(text), resolve)
    return value


# ------------------------------------------------------------ generated expressions
# A tree is ("lit", value, c_text) | ("id", name) | ("~", t) | (op, left, right).
Tree = tuple[Any, ...]
Lit = tuple[str, int, str]

SUFFIXES = ["", "u", "U", "ull", "ULL", "UL", "l"]


@st.composite
def literals(draw: st.DrawFn, max_value: int = MASK64) -> Lit:
    v = draw(st.integers(0, max_value))
    form = draw(st.sampled_from(["dec", "hex", "HEX", "oct"]))
    if form == "dec":
        text = str(v)
    elif form == "hex":
        text = f"0x{v:x}"
    elif form == "HEX":
        text = f"0X{v:X}"
    else:
        text = f"0{v:o}" if v else "0"
    return ("lit", v, text + draw(st.sampled_from(SUFFIXES)))


leaves = st.one_of(literals(), st.sampled_from(sorted(MACROS)).map(lambda n: ("id", n)))


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    binop = st.tuples(st.sampled_from(["|", "&", "^"]), children, children)
    shift = st.tuples(st.sampled_from(["<<", ">>"]), children, literals(max_value=63))
    return st.one_of(binop, shift, st.tuples(st.just("~"), children))


trees = st.recursive(leaves, _extend, max_leaves=12)

PREC = {"|": 1, "^": 2, "&": 3, "<<": 4, ">>": 4, "~": 5, "lit": 6, "id": 6}


def c_text(t: Tree, *, full: bool) -> str:
    """C source for a tree: fully parenthesised, or with only the parentheses C needs."""
    kind = t[0]
    if kind == "lit":
        lit: str = t[2]
        return lit
    if kind == "id":
        name: str = t[1]
        return name
    if kind == "~":
        inner = c_text(t[1], full=full)
        return f"~({inner})" if full or PREC[t[1][0]] < PREC["~"] else f"~{inner}"
    left, right = c_text(t[1], full=full), c_text(t[2], full=full)
    if full:
        return f"({left} {kind} {right})"
    if PREC[t[1][0]] < PREC[kind]:
        left = f"({left})"
    if PREC[t[2][0]] <= PREC[kind]:
        right = f"({right})"
    return f"{left} {kind} {right}"


def py_text(t: Tree) -> str:
    """The same tree as a Python expression with uint64_t semantics made explicit."""
    kind = t[0]
    if kind == "lit":
        return str(t[1])
    if kind == "id":
        return str(MACROS[t[1]])
    if kind == "~":
        return f"(~{py_text(t[1])} & {MASK64})"
    left, right = py_text(t[1]), py_text(t[2])
    if kind == "<<":
        return f"(({left} << {right}) & {MASK64})"
    return f"({left} {kind} {right})"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_evaluator_agrees_with_python_fully_parenthesised(tree: Tree) -> None:
    assert ev(c_text(tree, full=True)) == eval(py_text(tree))  # noqa: S307


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_evaluator_agrees_with_python_using_c_precedence(tree: Tree) -> None:
    """`a | b & c << 2` without parentheses: the evaluator must apply C's precedence."""
    assert ev(c_text(tree, full=False)) == eval(py_text(tree))  # noqa: S307


@given(
    st.lists(literals(max_value=(1 << 32) - 1), min_size=1, max_size=8),
    st.lists(st.sampled_from(["|", "&", "^", ">>"]), min_size=7, max_size=7),
)
def test_mask_free_expressions_equal_plain_python_eval(lits: list[Lit], ops: list[str]) -> None:
    """Without ~ and <<, plain Python evaluates C's text (suffixes dropped) the same way."""
    c_parts, py_parts = [lits[0][2]], [str(lits[0][1])]
    for (_, v, text), op in zip(lits[1:], ops, strict=False):
        if op == ">>":
            v, text = v % 64, str(v % 64)
        c_parts += [op, text]
        py_parts += [op, str(v)]
    assert ev(" ".join(c_parts)) == eval(" ".join(py_parts))  # noqa: S307


@given(st.integers(0, 63), st.sampled_from(["1", "1U", "1u", "1ULL", "1ull", "1L"]))
def test_single_bit_macros_are_unsigned_64bit(bit: int, one: str) -> None:
    assert ev(f"({one} << {bit})") == 1 << bit


# ------------------------------------------------------------------ the forms cpu.h uses


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("(1 << 31)", 0x80000000),  # negative int in C: masked, never negative here
        ("(1U << 26)", 1 << 26),
        ("(1ULL << 55)", 1 << 55),
        ("0x00008000", 0x8000),
        ("(8U << 16)", 8 << 16),
        ("~0ull", MASK64),
        ("0xffffffffull << 32", 0xFFFFFFFF00000000),
        ("(uint64_t)1 << 40", 1 << 40),
        ("(unsigned long long)ALL_ONES >> 60", 0xF),
        ("CPUID_EXT2_LM | MSR_VMX_EPT_INVVPID", (1 << 29) | (1 << 32)),
        ("1 | 2 & 3", 3),  # & binds tighter than |
        ("1 << 2 + 1", 8),  # + binds tighter than <<
        ("32 * 1024", 32768),
        ("~ZERO & 0xff", 0xFF),
        ("0x0183F3FF", 0x0183F3FF),
        ("010", 8),  # octal
        ("0", 0),
    ],
)
def test_cpu_h_forms(text: str, value: int) -> None:

    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "message", "token"),
    [
        ("1 / 0", "division by zero", "/"),
        ("1 << 200", "out of range", "<<"),
        ("(1 << 3", "expected ')'", "("),
        ("1 | | 2", "unexpected token", "|"),
        ("1 2", "unexpected token", "2"),
        ("NOT_DEFINED | 1", "unknown macro", "NOT_DEFINED"),
        ('"str" | 1', "unexpected token", '"str"'),
        ("09", "bad integer literal", "09"),
    ],
)
def test_bad_expressions_are_parse_errors_with_the_token(
    text: str, message: str, token: str
) -> None:
    with pytest.raises(ParseError, match=re.escape(message)) as ei:
        ev(text)
    assert ei.value.token == token
    assert ei.value.file == "<expr>" and ei.value.line == 1


def test_empty_expression() -> None:
    with pytest.raises(ParseError):
        eval_int([], resolve)


def test_parse_int_literal_suffixes() -> None:
    assert parse_int_literal("0x80000008") == 0x80000008
    assert parse_int_literal("0X1fULL") == 31
    assert parse_int_literal("42u") == 42
    assert parse_int_literal("017") == 15


def test_strings_concatenate_and_expand_macros() -> None:
    names = {"QEMU_VERSION": "7.2.0", "NOTE": "use X"}

    def sresolve(t: Token) -> str:
        return names[t.text]

    assert eval_str(toks('"QEMU Virtual CPU version " QEMU_VERSION'), sresolve) == (
        "QEMU Virtual CPU version 7.2.0"
    )
    assert eval_str(toks('"Intel Core Processor "\n  "(Skylake, IBRS)"'), sresolve) == (
        "Intel Core Processor (Skylake, IBRS)"
    )
    assert eval_str(toks('("a\\tb" NOTE)'), sresolve) == "a\tbuse X"
    assert eval_str(toks(r'"\x41\"q\""'), sresolve) == 'A"q"'
    with pytest.raises(ParseError, match="bad escape") as ei:
        eval_str(toks(r'"\U0000"'), sresolve)
    assert ei.value.token == r'"\U0000"'
    with pytest.raises(ParseError, match="unexpected token in string"):
        eval_str(toks('"a" | "b"'), sresolve)
