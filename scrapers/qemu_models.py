"""CPU models in cpu.c: builtin_x86_defs[] (and the legacy fields of 1.1-1.4),
their versions and property lists -> `ModelDef`s."""

from __future__ import annotations

from cpudb.model import ModelDef, VersionDef

from .ctext import (
    Expr,
    InitList,
    Source,
    find_initializer,
    parse_initializer,
)
from .qemu_eval import Ctx, need_expr, need_list

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


def _vendor_from_words(v1: int, v2: int, v3: int) -> str:
    raw = b"".join(x.to_bytes(4, "little") for x in (v1, v2, v3))
    return raw.decode("latin-1")


def parse_props(node: InitList, ctx: Ctx, src: Source) -> tuple[tuple[str, str], ...]:
    props: list[tuple[str, str]] = []
    for it in node.items:
        pv = need_list(it, src)
        if not pv.items:
            continue  # { /* end of list */ }
        if len(pv.items) != 2:
            raise src.error('a prop must be { "name", "value" }', pv.pos)
        name = ctx.string(need_expr(pv.items[0], src))
        value = ctx.string(need_expr(pv.items[1], src))
        if name is None or value is None:
            break  # { NULL, NULL } terminator
        props.append((name, value))
    return tuple(props)


def _parse_versions(node: InitList, ctx: Ctx, src: Source) -> tuple[VersionDef, ...]:
    out: list[VersionDef] = []
    for it in node.items:
        v = need_list(it, src)
        if not v.items:
            continue
        kw: dict[str, object] = {}
        for f in v.items:
            name = f.field
            if name == "version":
                kw["version"] = ctx.eval(need_expr(f, src))
            elif name in ("alias", "note"):
                kw[name] = ctx.string(need_expr(f, src))
            elif name == "props":
                kw["props"] = parse_props(need_list(f, src), ctx, src)
            elif name == "cache_info":
                kw["cache_info"] = need_expr(f, src).text().lstrip("& ").strip()
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


def parse_models(
    ctx: Ctx, cpu_c: Source, widths: dict[str, int], avx10: dict[int, dict[str, int]]
) -> list[tuple[ModelDef, dict[str, int]]]:
    pos = find_initializer(cpu_c, r"builtin_x86_defs\s*\[\s*\]")
    assert pos is not None
    node, _ = parse_initializer(cpu_c, pos)
    out = []
    for entry in node.items:
        body = need_list(entry, cpu_c)
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
                val = ctx.eval(need_expr(f, cpu_c)) & ((1 << widths[word]) - 1)
                masks[word] = masks.get(word, 0) | val
            elif name in LEGACY_FIELDS and len(f.designators) == 1:
                word = LEGACY_FIELDS[name]
                if word not in widths:
                    raise cpu_c.error(f"model field .{name} has no feature-name array", f.pos, name)
                val = ctx.eval(need_expr(f, cpu_c)) & 0xFFFFFFFF
                masks[word] = masks.get(word, 0) | val
            elif name in ("name", "model_id", "deprecation_note"):
                kw[name] = ctx.string(need_expr(f, cpu_c))
            elif name == "vendor":
                kw["vendor"] = ctx.string(need_expr(f, cpu_c))
            elif name in ("vendor1", "vendor2", "vendor3"):
                vendor_words[int(name[-1]) - 1] = ctx.eval(need_expr(f, cpu_c))
            elif name in ("level", "xlevel", "xlevel2", "family", "model", "stepping"):
                kw[name] = ctx.eval(need_expr(f, cpu_c))
            elif name == "cache_info":
                kw["cache_info"] = need_expr(f, cpu_c).text().lstrip("& ").strip()
            elif name == "versions":
                kw["versions"] = _parse_versions(need_list(f, cpu_c), ctx, cpu_c)
            elif name == "avx10_version":
                # x86_cpu_load_model sets the avx10-version property, whose setter ORs in
                # the features of every AVX10 level up to it (none before builtin_avx10_defs)
                level = ctx.eval(need_expr(f, cpu_c))
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
