"""From a parsed table to the CPU names QEMU accepts, with resolved feature sets.

Pure functions. The rules are QEMU's (`x86_cpu_load_model`,
`x86_cpu_apply_version_props`, `x86_cpu_expand_features`), detected per release
by the parser rather than assumed.
"""

from __future__ import annotations

from collections.abc import Iterable

from cpudb.model import CpuName, Dependency, Feature, ModelDef, Release, VersionDef

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.model import CpuKind

NON_FEATURE_PROPS = frozenset(
    {
        "model-id",
        "stepping",
        "model",
        "family",
        "level",
        "xlevel",
        "avx10-version",
        "x-force-cpuid-0x1f",
    }
)


def feat2prop(name: str) -> str:
    return name.replace("_", "-")


def name_index(features: Iterable[Feature]) -> dict[str, str]:
    """Every spelling QEMU accepts for a feature property -> canonical name."""
    idx: dict[str, str] = {}
    feats = list(features)
    for f in feats:
        idx.setdefault(f.name, f.name)
    for f in feats:
        for n in (f.name, *f.aliases):
            idx.setdefault(n, f.name)
            idx.setdefault(feat2prop(n), f.name)
    return idx


def apply_props(
    features: frozenset[str], props: Iterable[tuple[str, str]], index: dict[str, str]
) -> frozenset[str]:
    out = set(features)
    for name, value in props:
        if name in NON_FEATURE_PROPS:
            continue
        canon = index[name]
        if value in ("on", "true"):
            out.add(canon)
        else:
            out.discard(canon)
    return frozenset(out)


def apply_dependencies(features: frozenset[str], deps: Iterable[Dependency]) -> frozenset[str]:
    """One pass over QEMU's feature_dependencies[], in order, as x86_cpu_expand_features does."""
    out = set(features)
    for d in deps:
        if not any(r in out for r in d.requires):
            out.difference_update(d.clears)
    return frozenset(out)


def missing_requirements(
    feature: str, have: frozenset[str], deps: Iterable[Dependency]
) -> list[tuple[str, ...]]:
    """For each dependency that would clear `feature` given `have`, what it requires."""
    return [
        d.requires for d in deps if feature in d.clears and not any(r in have for r in d.requires)
    ]


def with_accel(release: Release, features: frozenset[str], accel: str | None) -> frozenset[str]:
    """Apply an accelerator's defaults (kvm_default_props / tcg_default_props) and rules."""
    if not accel:
        return features
    out = apply_props(features, release.default_props(accel), name_index(release.features))
    out = apply_dependencies(out, release.dependencies)
    if accel != "kvm":
        kvm = {f.name for f in release.features if f.word == "FEAT_KVM"}
        out = out - kvm
    return out


def _prop(props: Iterable[tuple[str, str]], key: str) -> str | None:
    value = None
    for k, v in props:
        if k == key:
            value = v
    return value


def cpu_names(
    models: Iterable[ModelDef],
    features: tuple[Feature, ...],
    deps: tuple[Dependency, ...],
    *,
    hypervisor: bool,
    default_version: str | None,
) -> tuple[CpuName, ...]:
    """Every name `-cpu` accepts in the release, in table order."""
    index = name_index(features)
    out: list[CpuName] = []
    for m in models:
        base = set(m.features)
        if hypervisor and "hypervisor" in index:
            base.add("hypervisor")
        common = {
            "model": m.name,
            "vendor": m.vendor,
            "deprecation_note": m.deprecation_note,
        }
        if default_version is None:  # before 4.1: every table entry is a CPU name
            out.append(
                CpuName(
                    name=m.name,
                    kind="model",
                    features=apply_dependencies(frozenset(base), deps),
                    family=m.family,
                    model_number=m.model,
                    stepping=m.stepping,
                    model_id=m.model_id,
                    cache_info=m.cache_info,
                    **common,  # type: ignore[arg-type]
                )
            )
            continue
        versions = sorted(m.versions or (VersionDef(1),), key=lambda v: v.version)
        feats = frozenset(base)
        model_id, family, model_no, stepping = m.model_id, m.family, m.model, m.stepping
        cache = m.cache_info
        versioned: list[CpuName] = []
        aliases: list[CpuName] = []
        for v in versions:
            feats = apply_props(feats, v.props, index)
            model_id = _prop(v.props, "model-id") or model_id
            family = int(_prop(v.props, "family") or str(family), 0)
            model_no = int(_prop(v.props, "model") or str(model_no), 0)
            stepping = int(_prop(v.props, "stepping") or str(stepping), 0)
            cache = v.cache_info or cache
            cpu = CpuName(
                name=f"{m.name}-v{v.version}",
                kind="version",
                version=v.version,
                features=apply_dependencies(feats, deps),
                family=family,
                model_number=model_no,
                stepping=stepping,
                model_id=model_id,
                note=v.note,
                cache_info=cache,
                **common,  # type: ignore[arg-type]
            )
            versioned.append(cpu)
            if v.alias:
                aliases.append(_alias(cpu, v.alias, "alias"))
        # PC machine types >= 4.1 set default_cpu_version = 1 (hw/i386/pc.c), whatever
        # cpu.c's static default (CPU_VERSION_LATEST in 4.1/4.2, used by `-machine none`).
        out.append(_alias(versioned[0], m.name, "bare"))
        out.extend(versioned)
        out.extend(aliases)
    return tuple(out)


def _alias(target: CpuName, name: str, kind: CpuKind) -> CpuName:
    from cpudb.record import replace

    return replace(target, name=name, kind=kind, alias_of=target.name)
