"""Parse QEMU's x86 CPU model table (target/i386/cpu.c + cpu.h), releases 1.1 to 10.x.

Pure: text in, a `ParsedTable` out. `cpudb.resolve` turns it into a `Release`.
Everything the parser does not understand is a ParseError naming file, line and token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cpudb.errors import ParseError
from cpudb.model import SUBLEAF_LEAVES, Dependency, Feature, FeatureWord, ModelDef, VersionDef
from cpudb.resolve import NON_FEATURE_PROPS, name_index

from .cexpr import eval_int, eval_str
from .ctext import (
    Define,
    Expr,
    InitList,
    Item,
    Source,
    Token,
    collect_defines,
    find_initializer,
    parse_initializer,
    tokenize,
)

# Constants that cpu.c takes from Linux or QEMU headers outside target/i386.
EXTERNAL_INTS = {
    "KVM_CPUID_FEATURES": 0x40000001,
    "KVM_CPUID_SIGNATURE": 0x40000000,
}
# String macros defined outside cpu.c/cpu.h that appear in model ids.
# QEMU_VERSION is the release itself; QEMU_HW_VERSION is "2.5+" since it exists.
EXTERNAL_STRINGS = {"QEMU_HW_VERSION": "2.5+"}

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
# Table field names of 1.1-1.4 -> feature words.
LEGACY_FIELDS = {
    "features": "FEAT_1_EDX",
    "ext_features": "FEAT_1_ECX",
    "ext2_features": "FEAT_8000_0001_EDX",
    "ext3_features": "FEAT_8000_0001_ECX",
    "ext4_features": "FEAT_C000_0001_EDX",
    "svm_features": "FEAT_SVM",
    "kvm_features": "FEAT_KVM",
    "cpuid_7_0_ebx_features": "FEAT_7_0_EBX",
}
# Model fields that carry no feature-bit information (APIC-id encoding, forcing the
# presence of CPUID leaf 0x1f). `.avx10_version` is one where builtin_avx10_defs[] exists.
IGNORED_MODEL_FIELDS = {"use_epyc_apic_id_encoding", "cpuid_0x1f"}


@dataclass(frozen=True)
class SourceFiles:
    """The texts of one release. Names are used in error messages."""

    cpu_c: str
    cpu_h: str
    cpu_c_name: str = "target/i386/cpu.c"
    cpu_h_name: str = "target/i386/cpu.h"
    extra: tuple[tuple[str, str], ...] = ()  # (name, text): kvm-cpu.c, tcg-cpu.c


@dataclass(frozen=True)
class RuntimeRules:
    """Rules QEMU applies in code, detected in this release's cpu.c."""

    hypervisor: bool
    amd_alias_copy: bool


@dataclass(frozen=True)
class ParsedTable:
    words: tuple[FeatureWord, ...]
    features: tuple[Feature, ...]
    dependencies: tuple[Dependency, ...]
    models: tuple[ModelDef, ...]
    accel_defaults: dict[str, tuple[tuple[str, str], ...]]
    default_version: str | None
    rules: RuntimeRules
    unnamed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> locations
    tcg_features: frozenset[str] | None = None  # what TCG emulates (qemu-system-x86_64)


class _Ctx:
    """Macro table and evaluators shared by the parsing steps of one release."""

    def __init__(self, sources: list[Source], version: str) -> None:
        self.sources = sources
        self.defines: dict[str, Define] = collect_defines(sources)
        self.version = version
        self._ints: dict[str, int] = {}
        self._active: set[str] = set()

    def int_of(self, tok: Token) -> int:
        name = tok.text
        if name in self._ints:
            return self._ints[name]
        d = self.defines.get(name)
        if d is not None and d.conflict:
            raise tok.error(
                "macro defined twice with different values (#if/#else?)",
                hint="cpudb cannot tell which branch QEMU's system emulator uses",
            )
        if d is None:
            if name in EXTERNAL_INTS:
                return EXTERNAL_INTS[name]
            raise tok.error(
                "unknown macro in expression",
                hint="the table uses a name that cpu.c/cpu.h do not define",
            )
        if name in self._active:
            raise tok.error("recursive macro")
        self._active.add(name)
        try:
            toks = tokenize(d.src, d.pos, d.pos + len(d.body))
            if not toks:
                raise tok.error("macro has an empty body")
            value = eval_int(toks, self.int_of)
        finally:
            self._active.discard(name)
        self._ints[name] = value
        return value

    def eval(self, e: Expr) -> int:
        return eval_int(e.tokens, self.int_of)

    def str_of(self, tok: Token) -> str:
        name = tok.text
        if name == "QEMU_VERSION":
            return self.version
        if name in EXTERNAL_STRINGS:
            return EXTERNAL_STRINGS[name]
        d = self.defines.get(name)
        if d is None:
            raise tok.error("unknown string macro")
        toks = tokenize(d.src, d.pos, d.pos + len(d.body))
        return eval_str(toks, self.str_of)

    def string(self, e: Expr) -> str | None:
        if len(e.tokens) == 1 and e.tokens[0].text == "NULL":
            return None
        return eval_str(e.tokens, self.str_of)


def _need_expr(item: Item, src: Source) -> Expr:
    if isinstance(item.value, Expr):
        return item.value
    raise src.error("expected a value here, found a '{' list", item.pos)


def _need_list(item: Item, src: Source) -> InitList:
    if isinstance(item.value, InitList):
        return item.value
    raise src.error("expected a '{' list here", item.pos, item.value.text())


# ------------------------------------------------------------ feature names


def _names_list(node: InitList, ctx: _Ctx, src: Source) -> dict[int, str | None]:
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
        e = _need_expr(it, src)
        out[idx] = ctx.string(e)
        idx += 1
    return out


def _named_arrays(sources: list[Source], ctx: _Ctx) -> dict[str, dict[int, str | None]]:
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


def _parse_words(
    ctx: _Ctx, cpu_c: Source
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
        body = _need_list(it, cpu_c)
        fields: dict[str, Item] = {}
        for f in body.items:
            if f.field is None:
                raise cpu_c.error("unexpected item in feature_word_info", f.pos)
            fields[f.field] = f
        wtype = "cpuid"
        if "type" in fields:
            t = _need_expr(fields["type"], cpu_c).text()
            if t == "MSR_FEATURE_WORD":
                wtype = "msr"
            elif t != "CPUID_FEATURE_WORD":
                raise fields["type"].value.tokens[0].error("unknown feature word type")  # type: ignore[union-attr]
        leaf: int | None = None
        sub: int | None = None
        msr: int | None = None
        reg: str | None = None
        if wtype == "msr":
            if "msr" not in fields:
                raise cpu_c.error(f"MSR feature word {word} without .msr", it.pos)
            msr_node = _need_list(fields["msr"], cpu_c)
            for f in msr_node.items:
                if f.field == "index":
                    msr = ctx.eval(_need_expr(f, cpu_c))
            if msr is None:
                raise cpu_c.error(f"MSR feature word {word} without .msr.index", it.pos)
        else:
            flat: dict[str, Expr] = {}
            if "cpuid" in fields:
                for f in _need_list(fields["cpuid"], cpu_c).items:
                    if f.field:
                        flat[f.field] = _need_expr(f, cpu_c)
            for k in ("eax", "ecx", "needs_ecx", "reg"):
                if f"cpuid_{k}" in fields:
                    flat[k] = _need_expr(fields[f"cpuid_{k}"], cpu_c)
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
        words.append(FeatureWord(word, wtype, leaf, sub, reg, msr))  # type: ignore[arg-type]
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


# ------------------------------------------------------------------ models


def _vendor_from_words(v1: int, v2: int, v3: int) -> str:
    raw = b"".join(x.to_bytes(4, "little") for x in (v1, v2, v3))
    return raw.decode("latin-1")


def _parse_props(node: InitList, ctx: _Ctx, src: Source) -> tuple[tuple[str, str], ...]:
    props: list[tuple[str, str]] = []
    for it in node.items:
        pv = _need_list(it, src)
        if not pv.items:
            continue  # { /* end of list */ }
        if len(pv.items) != 2:
            raise src.error('a prop must be { "name", "value" }', pv.pos)
        name = ctx.string(_need_expr(pv.items[0], src))
        value = ctx.string(_need_expr(pv.items[1], src))
        if name is None or value is None:
            break  # { NULL, NULL } terminator
        props.append((name, value))
    return tuple(props)


def _parse_versions(node: InitList, ctx: _Ctx, src: Source) -> tuple[VersionDef, ...]:
    out: list[VersionDef] = []
    for it in node.items:
        v = _need_list(it, src)
        if not v.items:
            continue
        kw: dict[str, object] = {}
        for f in v.items:
            name = f.field
            if name == "version":
                kw["version"] = ctx.eval(_need_expr(f, src))
            elif name in ("alias", "note"):
                kw[name] = ctx.string(_need_expr(f, src))
            elif name == "props":
                kw["props"] = _parse_props(_need_list(f, src), ctx, src)
            elif name == "cache_info":
                kw["cache_info"] = _need_expr(f, src).text().lstrip("& ").strip()
            else:
                raise src.error(
                    "unknown field in a version entry",
                    f.pos,
                    name,
                    hint="a new QEMU table field: teach scrapers/qemu_table.py",
                )
        if "version" not in kw:
            raise src.error("version entry without .version", v.pos)
        out.append(VersionDef(**kw))  # type: ignore[arg-type]
    return tuple(out)


def _parse_models(
    ctx: _Ctx, cpu_c: Source, widths: dict[str, int], avx10: dict[int, dict[str, int]]
) -> list[tuple[ModelDef, dict[str, int]]]:
    pos = find_initializer(cpu_c, r"builtin_x86_defs\s*\[\s*\]")
    assert pos is not None
    node, _ = parse_initializer(cpu_c, pos)
    out = []
    for entry in node.items:
        body = _need_list(entry, cpu_c)
        kw: dict[str, object] = {"line": cpu_c.line(body.pos)}
        masks: dict[str, int] = {}
        vendor_words = [0, 0, 0]
        for f in body.items:
            name = f.field
            if name is None:
                raise cpu_c.error("model entry item without a .field designator", f.pos)
            if name == "features" and len(f.designators) == 2:
                w = f.designators[1][1]
                assert isinstance(w, Expr)
                word = w.text()
                if word not in widths:
                    raise w.tokens[0].error("unknown feature word in model table")
                val = ctx.eval(_need_expr(f, cpu_c)) & ((1 << widths[word]) - 1)
                masks[word] = masks.get(word, 0) | val
            elif name in LEGACY_FIELDS and len(f.designators) == 1:
                word = LEGACY_FIELDS[name]
                if word not in widths:
                    raise cpu_c.error(f"model field .{name} has no feature-name array", f.pos, name)
                val = ctx.eval(_need_expr(f, cpu_c)) & 0xFFFFFFFF
                masks[word] = masks.get(word, 0) | val
            elif name in ("name", "model_id", "deprecation_note"):
                kw[name] = ctx.string(_need_expr(f, cpu_c))
            elif name == "vendor":
                kw["vendor"] = ctx.string(_need_expr(f, cpu_c))
            elif name in ("vendor1", "vendor2", "vendor3"):
                vendor_words[int(name[-1]) - 1] = ctx.eval(_need_expr(f, cpu_c))
            elif name in ("level", "xlevel", "xlevel2", "family", "model", "stepping"):
                kw[name] = ctx.eval(_need_expr(f, cpu_c))
            elif name == "cache_info":
                kw["cache_info"] = _need_expr(f, cpu_c).text().lstrip("& ").strip()
            elif name == "versions":
                kw["versions"] = _parse_versions(_need_list(f, cpu_c), ctx, cpu_c)
            elif name == "avx10_version":
                # x86_cpu_load_model sets the avx10-version property, whose setter ORs in
                # the features of every AVX10 level up to it (none before builtin_avx10_defs)
                level = ctx.eval(_need_expr(f, cpu_c))
                if avx10 and level not in avx10:
                    raise cpu_c.error(f"no AVX10 level {level} in builtin_avx10_defs", f.pos)
                for word, mask in avx10.get(level, {}).items():
                    masks[word] = masks.get(word, 0) | mask
            elif name in IGNORED_MODEL_FIELDS:
                continue
            else:
                raise cpu_c.error(
                    "unknown field in builtin_x86_defs entry",
                    f.pos,
                    name,
                    hint="a new QEMU table field: teach scrapers/qemu_table.py",
                )
        if "name" not in kw or not kw["name"]:
            raise cpu_c.error("model entry without .name", body.pos)
        if "vendor" not in kw:
            kw["vendor"] = (
                _vendor_from_words(*vendor_words) if any(vendor_words) else "GenuineIntel"
            )
        for k in ("family", "model", "stepping", "level", "xlevel", "xlevel2"):
            kw.setdefault(k, 0)
        kw.setdefault("model_id", "")
        if kw["model_id"] is None:
            kw["model_id"] = ""
        kw["features"] = frozenset()
        out.append((ModelDef(**kw), masks))  # type: ignore[arg-type]
    return out


# ------------------------------------------------------ dependencies, misc


def _parse_avx10_levels(ctx: _Ctx, cpu_c: Source) -> dict[int, dict[str, int]]:
    """builtin_avx10_defs[] (QEMU 11.0+): AVX10 level -> the feature masks setting
    avx10-version to it turns on (its own and every lower level's,
    x86_cpu_apply_avx10_features); {} for releases without the table."""
    pos = find_initializer(cpu_c, r"builtin_avx10_defs\s*\[\s*\]", required=False)
    if pos is None:
        return {}
    node, _ = parse_initializer(cpu_c, pos)
    out: dict[int, dict[str, int]] = {}
    acc: dict[str, int] = {}
    for it in node.items:
        level = None
        for f in _need_list(it, cpu_c).items:
            if f.field == "version":
                level = ctx.eval(_need_expr(f, cpu_c))
            elif f.field == "features":
                for fm in _need_list(f, cpu_c).items:
                    pair = _need_list(fm, cpu_c)
                    if len(pair.items) != 2:
                        continue  # the { /* end of list */ } entry
                    word = _need_expr(pair.items[0], cpu_c).text()
                    acc[word] = acc.get(word, 0) | ctx.eval(_need_expr(pair.items[1], cpu_c))
        if level is None:
            raise cpu_c.error("builtin_avx10_defs entry without .version", it.pos)
        out[level] = dict(acc)
    return out


def _with_avx10_props(m: ModelDef, implied: dict[int, frozenset[str]]) -> ModelDef:
    """A version prop `avx10-version=N` turns on level N's features right where it stands
    (the property's setter); written out as feature props so every reader applies it."""
    from cpudb.record import replace

    if not implied or not any(k == "avx10-version" for v in m.versions for k, _ in v.props):
        return m
    versions = []
    for v in m.versions:
        props: list[tuple[str, str]] = []
        for k, val in v.props:
            props.append((k, val))
            if k == "avx10-version":
                on = {n for n, x in props if x in ("on", "true")}
                props += [(n, "on") for n in sorted(implied.get(int(val, 0), ())) if n not in on]
        versions.append(replace(v, props=tuple(props)))
    return replace(m, versions=tuple(versions))


def _parse_dependencies(ctx: _Ctx, cpu_c: Source) -> list[tuple[str, int, str, int]]:
    pos = find_initializer(cpu_c, r"feature_dependencies\s*\[\s*\]", required=False)
    if pos is None:
        return []
    node, _ = parse_initializer(cpu_c, pos)
    deps = []
    for it in node.items:
        body = _need_list(it, cpu_c)
        ends: dict[str, tuple[str, int]] = {}
        for f in body.items:
            pair = _need_list(f, cpu_c)
            if f.field not in ("from", "to") or len(pair.items) != 2:
                raise cpu_c.error("unexpected feature_dependencies entry", f.pos)
            word = _need_expr(pair.items[0], cpu_c).text()
            ends[f.field] = (word, ctx.eval(_need_expr(pair.items[1], cpu_c)))
        if set(ends) != {"from", "to"}:
            raise cpu_c.error("feature_dependencies entry needs .from and .to", body.pos)
        deps.append((*ends["from"], *ends["to"]))
    return deps


def _parse_default_props(
    sources: list[Source], ctx: _Ctx
) -> dict[str, tuple[tuple[str, str], ...]]:
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for accel in ("kvm", "tcg"):
        for src in sources:
            pos = find_initializer(src, rf"{accel}_default_props\s*\[\s*\]", required=False)
            if pos is not None:
                node, _ = parse_initializer(src, pos)
                out[accel] = _parse_props(node, ctx, src)
                break
    return out


def _default_version(cpu_c: Source) -> str | None:
    m = re.search(
        r"default_cpu_version\s*=\s*(CPU_VERSION_LATEST|CPU_VERSION_LEGACY|\d+)\s*;", cpu_c.text
    )
    if not m:
        return None
    v = m.group(1)
    return {"CPU_VERSION_LATEST": "latest", "CPU_VERSION_LEGACY": "legacy"}.get(v, v)


def _rules(cpu_c: Source) -> RuntimeRules:
    text = cpu_c.text
    return RuntimeRules(
        hypervisor=bool(re.search(r"\|=\s*CPUID_EXT_HYPERVISOR\s*;", text)),
        amd_alias_copy=bool(re.search(r"&=\s*~\s*CPUID_EXT2_AMD_ALIASES\s*;", text)),
    )


def _aliases(sources: list[Source]) -> dict[str, list[str]]:
    pat = re.compile(
        r'object_property_add_alias\s*\(\s*obj\s*,\s*"([^"]+)"\s*,\s*obj\s*,\s*"([^"]+)"'
    )
    out: dict[str, list[str]] = {}
    for src in sources:
        for m in pat.finditer(src.text):
            out.setdefault(m.group(2), []).append(m.group(1))
    return out


# ------------------------------------------------------------------ driver


def parse_table(files: SourceFiles, version: str) -> ParsedTable:
    cpu_h = Source(files.cpu_h_name, files.cpu_h)
    cpu_c = Source(files.cpu_c_name, files.cpu_c)
    extras = [Source(n, t) for n, t in files.extra]
    if "builtin_x86_defs" not in cpu_c.text:
        raise ParseError(
            "no builtin_x86_defs[] table",
            file=cpu_c.name,
            hint="is this QEMU's target/i386/cpu.c (target-i386/cpu.c before 2.9)?",
        )
    ctx = _Ctx([cpu_h, cpu_c, *extras], version)

    words, bits, widths = _parse_words(ctx, cpu_c)
    word_by_name = {w.name: w for w in words}
    aliases = _aliases([cpu_c])
    features: list[Feature] = []
    by_loc: dict[tuple[str, int], str] = {}
    name_mask: dict[tuple[str, str], int] = {}
    for word, bit, name, alts in bits:
        extra = tuple(a for a in aliases.get(name, []) if a not in alts and a != name)
        loc = word_by_name[word].location(bit)
        features.append(Feature(name, word, bit, loc, alts + extra))
        by_loc[(word, bit)] = name
        name_mask[(word, name)] = name_mask.get((word, name), 0) | 1 << bit

    def names_of(
        word: str, mask: int, *, model: str = "", unnamed: list[str] | None = None
    ) -> set[str]:
        out: set[str] = set()
        for bit in range(widths.get(word, 64)):
            if mask >> bit & 1:
                n = by_loc.get((word, bit))
                if n:
                    out.add(n)
                elif unnamed is not None:
                    unnamed.append(word_by_name[word].location(bit))
        return out

    models: list[ModelDef] = []
    unnamed_by_model: dict[str, tuple[str, ...]] = {}
    avx10 = _parse_avx10_levels(ctx, cpu_c)

    def whole_names(word: str, mask: int, unnamed: list[str] | None = None) -> set[str]:
        return {
            n
            for n in names_of(word, mask, unnamed=unnamed)
            if mask & name_mask[(word, n)] == name_mask[(word, n)]
        }

    implied = {
        lv: frozenset().union(*(whole_names(w, m) for w, m in ms.items()))
        for lv, ms in avx10.items()
    }
    for mdef, masks in _parse_models(ctx, cpu_c, widths, avx10):
        names: set[str] = set()
        unnamed: list[str] = []
        for word, mask in masks.items():
            # A name on several bits of one word (kvmclock, vmx-invept-single-context) is one
            # QEMU property, true only when all its bits are set (x86_cpu_get_bit_prop).
            names |= whole_names(word, mask, unnamed)
        if unnamed:
            unnamed_by_model[mdef.name] = tuple(unnamed)
        models.append(_with_avx10_props(_replace_features(mdef, frozenset(names)), implied))

    deps: list[Dependency] = []
    for fw, fmask, tw, tmask in _parse_dependencies(ctx, cpu_c):
        if fw not in widths or tw not in widths:
            raise ParseError(
                f"feature_dependencies names unknown word {fw if fw not in widths else tw}",
                file=cpu_c.name,
            )
        full = tmask & ((1 << widths[tw]) - 1) == (1 << widths[tw]) - 1
        deps.append(
            Dependency(
                requires=tuple(sorted(names_of(fw, fmask))),
                clears=tuple(sorted(names_of(tw, tmask))),
                clears_all_of=tw if full else None,
            )
        )

    defaults = _parse_default_props([cpu_c, *extras], ctx)
    tcg = _tcg_masks(files, version)
    tcg_features = None
    if tcg is not None:
        tcg_features = frozenset(n for word, mask in tcg.items() for n in whole_names(word, mask))
    table = ParsedTable(
        words=tuple(words),
        features=tuple(features),
        dependencies=tuple(deps),
        models=tuple(models),
        accel_defaults=defaults,
        default_version=_default_version(cpu_c),
        rules=_rules(cpu_c),
        unnamed=unnamed_by_model,
        tcg_features=tcg_features,
    )
    _check_props(table, cpu_c)
    return table


def _tcg_masks(files: SourceFiles, version: str) -> dict[str, int] | None:
    """Each feature word's `.tcg_features` mask in qemu-system-x86_64 (a word without
    one gives TCG nothing), with only the #if branches that build compiles; None for
    releases whose feature_word_info has no TCG masks."""
    from cpudb.scrapers.cpp_branches import active_text

    cpu_h = Source(files.cpu_h_name, active_text(files.cpu_h))
    cpu_c = Source(files.cpu_c_name, active_text(files.cpu_c))
    ctx = _Ctx([cpu_h, cpu_c], version)
    pos = find_initializer(cpu_c, r"feature_word_info\s*\[\s*\w*\s*\]", required=False)
    if pos is None:
        return None
    node, _ = parse_initializer(cpu_c, pos)
    masks: dict[str, int] = {}
    seen = False
    for it in node.items:
        dexpr = it.designators[0][1]
        assert isinstance(dexpr, Expr)
        masks[dexpr.text()] = 0
        for f in _need_list(it, cpu_c).items:
            if f.field == "tcg_features":
                masks[dexpr.text()] = ctx.eval(_need_expr(f, cpu_c))
                seen = True
    return masks if seen else None


def _replace_features(m: ModelDef, names: frozenset[str]) -> ModelDef:
    from cpudb.record import replace

    return replace(m, features=names)


def _check_props(table: ParsedTable, src: Source) -> None:
    idx = name_index(table.features)
    for m in table.models:
        for v in m.versions:
            for name, value in v.props:
                if name in NON_FEATURE_PROPS:
                    continue
                if name not in idx:
                    raise ParseError(
                        f"model {m.name} v{v.version}: prop is neither a feature nor a "
                        "known property",
                        file=src.name,
                        line=m.line,
                        token=name,
                    )
                if value not in ("on", "off", "true", "false"):
                    raise ParseError(
                        f"model {m.name} v{v.version}: feature prop value is not on/off",
                        file=src.name,
                        line=m.line,
                        token=value,
                    )
    for accel, props in table.accel_defaults.items():
        for name, _ in props:
            if name not in idx and name not in NON_FEATURE_PROPS:
                raise ParseError(
                    f"{accel}_default_props: unknown property", file=src.name, token=name
                )
