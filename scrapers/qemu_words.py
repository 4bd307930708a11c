"""Feature words and their names in cpu.c: feature_word_info[] (or the fixed
named arrays of 1.1-1.3) -> `FeatureWord`s and `Feature`s."""

from __future__ import annotations

import re

from cpudb.errors import ParseError
from cpudb.model import SUBLEAF_LEAVES, FeatureWord

from .ctext import (
    Expr,
    InitList,
    Item,
    Source,
    find_initializer,
    parse_initializer,
)
from .qemu_eval import Ctx, need_expr, need_list

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cpudb.model import WordType

REGISTERS = {"R_EAX": "eax", "R_EBX": "ebx", "R_ECX": "ecx", "R_EDX": "edx"}


# 1.1-1.3 have no feature_word_info: each named array belongs to a fixed word.
LEGACY_ARRAYS = {
    "feature_name": ("FEAT_1_EDX", 0x1, None, "edx"),
    "ext_feature_name": ("FEAT_1_ECX", 0x1, None, "ecx"),
    "ext2_feature_name": ("FEAT_8000_0001_EDX", 0x80000001, None, "edx"),
    "ext3_feature_name": ("FEAT_8000_0001_ECX", 0x80000001, None, "ecx"),
    "ext4_feature_name": ("FEAT_C000_0001_EDX", 0xC0000001, None, "edx"),
    "kvm_feature_name": ("FEAT_KVM", 0x40000001, None, "eax"),
    "svm_feature_name": ("FEAT_SVM", 0x8000000A, None, "edx"),
    "cpuid_7_0_ebx_feature_name": ("FEAT_7_0_EBX", 0x7, 0, "ebx"),
}


def _names_list(node: InitList, ctx: Ctx, src: Source) -> dict[int, str | None]:
    """`{ "fpu", NULL, [54] = "x", ... }` -> {bit: name}."""
    out: dict[int, str | None] = {}
    idx = 0
    for it in node.items:
        if it.designators:
            kind, d = it.designators[0]
            if kind != "[" or len(it.designators) != 1:
                raise src.error("unexpected designator in feature names", it.pos)
            assert isinstance(d, Expr)
            idx = ctx.eval(d)
        e = need_expr(it, src)
        out[idx] = ctx.string(e)
        idx += 1
    return out


def _named_arrays(sources: list[Source], ctx: Ctx) -> dict[str, dict[int, str | None]]:
    pat = re.compile(r"char\s*\*\s*(?:const\s+)?(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{")
    arrays: dict[str, dict[int, str | None]] = {}
    for src in sources:
        for m in pat.finditer(src.text):
            node, _ = parse_initializer(src, m.end() - 1)
            arrays.setdefault(m.group(1), _names_list(node, ctx, src))
    return arrays


def _split_names(raw: str | None) -> tuple[str, tuple[str, ...]] | None:
    if not raw:
        return None
    parts = raw.split("|")
    return parts[0], tuple(parts[1:])


def parse_words(
    ctx: Ctx, cpu_c: Source
) -> tuple[list[FeatureWord], list[tuple[str, int, str, tuple[str, ...]]], dict[str, int]]:
    """Feature words, (word, bit, name, aliases) entries, and each word's width."""
    arrays = _named_arrays(ctx.sources, ctx)
    pos = find_initializer(cpu_c, r"feature_word_info\s*\[\s*\w*\s*\]", required=False)
    words: list[FeatureWord] = []
    bits: list[tuple[str, int, str, tuple[str, ...]]] = []
    widths: dict[str, int] = {}

    def add_names(word: str, names: dict[int, str | None]) -> None:
        for bit, raw in sorted(names.items()):
            split = _split_names(raw)
            if split:
                bits.append((word, bit, split[0], split[1]))

    if pos is None:  # 1.1-1.3
        for array, (word, lleaf, lsub, lreg) in LEGACY_ARRAYS.items():
            if array in arrays:
                words.append(FeatureWord(word, "cpuid", lleaf, lsub, lreg))
                widths[word] = 32
                add_names(word, arrays[array])
        if not words:
            raise ParseError(
                "no feature_word_info[] and no feature name arrays",
                file=cpu_c.name,
                hint="is this QEMU's target/i386/cpu.c?",
            )
        return words, bits, widths

    node, _ = parse_initializer(cpu_c, pos)
    for it in node.items:
        if not it.designators or it.designators[0][0] != "[":
            raise cpu_c.error("feature_word_info entry without [FEAT_X] designator", it.pos)
        dexpr = it.designators[0][1]
        assert isinstance(dexpr, Expr)
        word = dexpr.text()
        body = need_list(it, cpu_c)
        fields: dict[str, Item] = {}
        for f in body.items:
            if f.field is None:
                raise cpu_c.error("unexpected item in feature_word_info", f.pos)
            fields[f.field] = f
        wtype: WordType = "cpuid"
        if "type" in fields:
            texpr = need_expr(fields["type"], cpu_c)
            t = texpr.text()
            if t == "MSR_FEATURE_WORD":
                wtype = "msr"
            elif t != "CPUID_FEATURE_WORD":
                raise texpr.tokens[0].error("unknown feature word type")
        leaf: int | None = None
        sub: int | None = None
        msr: int | None = None
        reg: str | None = None
        if wtype == "msr":
            if "msr" not in fields:
                raise cpu_c.error(f"MSR feature word {word} without .msr", it.pos)
            msr_node = need_list(fields["msr"], cpu_c)
            for f in msr_node.items:
                if f.field == "index":
                    msr = ctx.eval(need_expr(f, cpu_c))
            if msr is None:
                raise cpu_c.error(f"MSR feature word {word} without .msr.index", it.pos)
        else:
            flat: dict[str, Expr] = {}
            if "cpuid" in fields:
                for f in need_list(fields["cpuid"], cpu_c).items:
                    if f.field:
                        flat[f.field] = need_expr(f, cpu_c)
            for k in ("eax", "ecx", "needs_ecx", "reg"):
                if f"cpuid_{k}" in fields:
                    flat[k] = need_expr(fields[f"cpuid_{k}"], cpu_c)
            if "eax" not in flat or "reg" not in flat:
                raise cpu_c.error(f"feature word {word} has no CPUID location", it.pos)
            leaf = ctx.eval(flat["eax"])
            if "needs_ecx" in flat and flat["needs_ecx"].text() == "true":
                sub = ctx.eval(flat["ecx"]) if "ecx" in flat else 0
            elif leaf in SUBLEAF_LEAVES:
                # 1.4 declares leaf 7 without needs_ecx; the bits are subleaf 0's all the same.
                sub = 0
            regtok = flat["reg"].tokens[0]
            if regtok.text not in REGISTERS:
                raise regtok.error("unknown register")
            reg = REGISTERS[regtok.text]
        words.append(FeatureWord(word, wtype, leaf, sub, reg, msr))
        widths[word] = 64 if wtype == "msr" else 32
        if "feat_names" in fields:
            fn = fields["feat_names"]
            if isinstance(fn.value, InitList):
                add_names(word, _names_list(fn.value, ctx, cpu_c))
            else:
                ref = fn.value.text()
                if ref not in arrays:
                    raise fn.value.tokens[0].error("unknown feature name array")
                add_names(word, arrays[ref])
    return words, bits, widths
