"""Everything else cpu.c says about models: feature dependencies, accelerator
default properties, AVX10 levels, the default model version, aliases and the rules
QEMU applies in code."""

from __future__ import annotations

import re

from cpudb.model import ModelDef

from .ctext import (
    Source,
    find_initializer,
    parse_initializer,
)
from .qemu_eval import Ctx, need_expr, need_list
from .qemu_models import parse_props
from .qemu_parsed import RuntimeRules


def parse_avx10_levels(ctx: Ctx, cpu_c: Source) -> dict[int, dict[str, int]]:
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
        for f in need_list(it, cpu_c).items:
            if f.field == "version":
                level = ctx.eval(need_expr(f, cpu_c))
            elif f.field == "features":
                for fm in need_list(f, cpu_c).items:
                    pair = need_list(fm, cpu_c)
                    if len(pair.items) != 2:
                        continue  # the { /* end of list */ } entry
                    word = need_expr(pair.items[0], cpu_c).text()
                    acc[word] = acc.get(word, 0) | ctx.eval(need_expr(pair.items[1], cpu_c))
        if level is None:
            raise cpu_c.error("builtin_avx10_defs entry without .version", it.pos)
        out[level] = dict(acc)
    return out


def with_avx10_props(m: ModelDef, implied: dict[int, frozenset[str]]) -> ModelDef:
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


def parse_dependencies(ctx: Ctx, cpu_c: Source) -> list[tuple[str, int, str, int]]:
    pos = find_initializer(cpu_c, r"feature_dependencies\s*\[\s*\]", required=False)
    if pos is None:
        return []
    node, _ = parse_initializer(cpu_c, pos)
    deps = []
    for it in node.items:
        body = need_list(it, cpu_c)
        ends: dict[str, tuple[str, int]] = {}
        for f in body.items:
            pair = need_list(f, cpu_c)
            if f.field not in ("from", "to") or len(pair.items) != 2:
                raise cpu_c.error("unexpected feature_dependencies entry", f.pos)
            word = need_expr(pair.items[0], cpu_c).text()
            ends[f.field] = (word, ctx.eval(need_expr(pair.items[1], cpu_c)))
        if set(ends) != {"from", "to"}:
            raise cpu_c.error("feature_dependencies entry needs .from and .to", body.pos)
        deps.append((*ends["from"], *ends["to"]))
    return deps


def parse_default_props(sources: list[Source], ctx: Ctx) -> dict[str, tuple[tuple[str, str], ...]]:
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for accel in ("kvm", "tcg"):
        for src in sources:
            pos = find_initializer(src, rf"{accel}_default_props\s*\[\s*\]", required=False)
            if pos is not None:
                node, _ = parse_initializer(src, pos)
                out[accel] = parse_props(node, ctx, src)
                break
    return out


def default_version(cpu_c: Source) -> str | None:
    m = re.search(
        r"default_cpu_version\s*=\s*(CPU_VERSION_LATEST|CPU_VERSION_LEGACY|\d+)\s*;", cpu_c.text
    )
    if not m:
        return None
    v = m.group(1)
    return {"CPU_VERSION_LATEST": "latest", "CPU_VERSION_LEGACY": "legacy"}.get(v, v)


def runtime_rules(cpu_c: Source) -> RuntimeRules:
    text = cpu_c.text
    return RuntimeRules(
        hypervisor=bool(re.search(r"\|=\s*CPUID_EXT_HYPERVISOR\s*;", text)),
        amd_alias_copy=bool(re.search(r"&=\s*~\s*CPUID_EXT2_AMD_ALIASES\s*;", text)),
    )


def model_aliases(sources: list[Source]) -> dict[str, list[str]]:
    pat = re.compile(
        r'object_property_add_alias\s*\(\s*obj\s*,\s*"([^"]+)"\s*,\s*obj\s*,\s*"([^"]+)"'
    )
    out: dict[str, list[str]] = {}
    for src in sources:
        for m in pat.finditer(src.text):
            out.setdefault(m.group(2), []).append(m.group(1))
    return out
