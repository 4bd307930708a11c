"""Parse QEMU's x86 CPU model table (target/i386/cpu.c + cpu.h), releases 1.1 to 10.x.

Pure: text in, a `ParsedTable` out. `cpudb.resolve` turns it into a `Release`.
Everything the parser does not understand is a ParseError naming file, line and token.
"""

from __future__ import annotations

from cpudb.errors import ParseError
from cpudb.model import Dependency, Feature, ModelDef
from cpudb.resolve import NON_FEATURE_PROPS, name_index

from .ctext import (
    Expr,
    Source,
    find_initializer,
    parse_initializer,
)
from .qemu_eval import Ctx, need_expr, need_list
from .qemu_models import parse_models
from .qemu_parsed import ParsedTable, RuntimeRules, SourceFiles
from .qemu_rules import (
    default_version,
    model_aliases,
    parse_avx10_levels,
    parse_default_props,
    parse_dependencies,
    runtime_rules,
    with_avx10_props,
)
from .qemu_words import parse_words

__all__ = ["ParsedTable", "RuntimeRules", "SourceFiles", "parse_table"]


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
    ctx = Ctx([cpu_h, cpu_c, *extras], version)

    words, bits, widths = parse_words(ctx, cpu_c)
    word_by_name = {w.name: w for w in words}
    aliases = model_aliases([cpu_c])
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
    avx10 = parse_avx10_levels(ctx, cpu_c)

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
    for mdef, masks in parse_models(ctx, cpu_c, widths, avx10):
        names: set[str] = set()
        unnamed: list[str] = []
        for word, mask in masks.items():
            # A name on several bits of one word (kvmclock, vmx-invept-single-context) is one
            # QEMU property, true only when all its bits are set (x86_cpu_get_bit_prop).
            names |= whole_names(word, mask, unnamed)
        if unnamed:
            unnamed_by_model[mdef.name] = tuple(unnamed)
        models.append(with_avx10_props(_replace_features(mdef, frozenset(names)), implied))

    deps: list[Dependency] = []
    for fw, fmask, tw, tmask in parse_dependencies(ctx, cpu_c):
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

    defaults = parse_default_props([cpu_c, *extras], ctx)
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
        default_version=default_version(cpu_c),
        rules=runtime_rules(cpu_c),
        unnamed=unnamed_by_model,
        tcg_features=tcg_features,
    )
    _check_props(table, cpu_c)
    return table


def _tcg_masks(files: SourceFiles, version: str) -> dict[str, int] | None:
    """Each feature word's `.tcg_features` mask in qemu-system-x86_64 (a word without
    one gives TCG nothing), with only the #if branches that build compiles; None for
    releases whose feature_word_info has no TCG masks."""
    from .cpp_branches import active_text

    cpu_h = Source(files.cpu_h_name, active_text(files.cpu_h))
    cpu_c = Source(files.cpu_c_name, active_text(files.cpu_c))
    ctx = Ctx([cpu_h, cpu_c], version)
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
        for f in need_list(it, cpu_c).items:
            if f.field == "tcg_features":
                masks[dexpr.text()] = ctx.eval(need_expr(f, cpu_c))
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
