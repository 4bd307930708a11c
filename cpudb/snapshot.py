"""Release <-> JSON snapshot (data/qemu/<version>.json): stable order, diffable, no I/O."""

from __future__ import annotations

import json

from cpudb.errors import ParseError
from cpudb.model import (
    CpuName,
    Dependency,
    Feature,
    FeatureWord,
    ModelDef,
    Release,
    VersionDef,
    accel_defaults_of,
)

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

FORMAT = 1


def _hex(v: int | None) -> str | None:
    return None if v is None else f"{v:#x}"


def _int(v: str | int | None) -> int | None:
    if v is None:
        return None
    return v if isinstance(v, int) else int(v, 0)


def to_dict(r: Release) -> dict[str, Any]:
    def cpu(c: CpuName) -> dict[str, Any]:
        d: dict[str, Any] = {"name": c.name, "kind": c.kind}
        if c.alias_of:
            d["alias_of"] = c.alias_of
            return d  # an alias carries nothing of its own
        d.update(
            {
                "model": c.model,
                "version": c.version,
                "vendor": c.vendor,
                "family": c.family,
                "model_number": c.model_number,
                "stepping": c.stepping,
                "model_id": c.model_id,
                "note": c.note,
                "deprecation_note": c.deprecation_note,
                "cache_info": c.cache_info,
                "features": sorted(c.features),
            }
        )
        return {k: v for k, v in d.items() if v is not None}

    def model(m: ModelDef) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": m.name,
            "vendor": m.vendor,
            "family": m.family,
            "model": m.model,
            "stepping": m.stepping,
            "level": _hex(m.level),
            "xlevel": _hex(m.xlevel),
            "model_id": m.model_id,
            "features": sorted(m.features),
        }
        if m.xlevel2:
            d["xlevel2"] = _hex(m.xlevel2)
        if m.cache_info:
            d["cache_info"] = m.cache_info
        if m.deprecation_note:
            d["deprecation_note"] = m.deprecation_note
        if m.versions:
            d["versions"] = [
                {
                    k: v
                    for k, v in {
                        "version": v.version,
                        "alias": v.alias,
                        "note": v.note,
                        "cache_info": v.cache_info,
                        "props": [list(p) for p in v.props] or None,
                    }.items()
                    if v is not None
                }
                for v in m.versions
            ]
        return d

    return {
        "format": FORMAT,
        "version": r.version,
        "upstream": r.upstream,
        "origin": r.origin,
        "source": r.source,
        "default_version": r.default_version,
        "words": [
            {
                k: v
                for k, v in {
                    "name": w.name,
                    "type": w.type,
                    "leaf": _hex(w.leaf),
                    "subleaf": w.subleaf,
                    "register": w.register,
                    "msr": _hex(w.msr),
                }.items()
                if v is not None
            }
            for w in r.words
        ],
        "features": [
            {
                "name": f.name,
                "word": f.word,
                "bit": f.bit,
                "location": f.location,
                **({"aliases": list(f.aliases)} if f.aliases else {}),
            }
            for f in r.features
        ],
        "dependencies": [
            {
                "requires": list(d.requires),
                "clears": list(d.clears),
                **({"clears_all_of": d.clears_all_of} if d.clears_all_of else {}),
            }
            for d in r.dependencies
        ],
        "accel_defaults": {k: [list(p) for p in v] for k, v in sorted(r.accel_defaults)},
        **({"tcg_features": sorted(r.tcg_features)} if r.tcg_features is not None else {}),
        "models": [model(m) for m in r.models],
        "cpus": [cpu(c) for c in r.cpus],
    }


def dumps(r: Release) -> str:
    return json.dumps(to_dict(r), indent=1, ensure_ascii=False) + "\n"


def from_dict(d: dict[str, Any], *, name: str = "<snapshot>") -> Release:
    try:
        if d.get("format") != FORMAT:
            raise ParseError(
                f"unsupported snapshot format {d.get('format')!r}",
                file=name,
                hint="upgrade cpudb or re-scrape",
            )
        words = tuple(
            FeatureWord(
                w["name"],
                w["type"],
                _int(w.get("leaf")),
                w.get("subleaf"),
                w.get("register"),
                _int(w.get("msr")),
            )
            for w in d["words"]
        )
        features = tuple(
            Feature(f["name"], f["word"], f["bit"], f["location"], tuple(f.get("aliases", ())))
            for f in d["features"]
        )
        deps = tuple(
            Dependency(tuple(x["requires"]), tuple(x["clears"]), x.get("clears_all_of"))
            for x in d["dependencies"]
        )
        models = tuple(
            ModelDef(
                name=m["name"],
                vendor=m["vendor"],
                family=m["family"],
                model=m["model"],
                stepping=m["stepping"],
                level=_int(m["level"]) or 0,
                xlevel=_int(m["xlevel"]) or 0,
                xlevel2=_int(m.get("xlevel2")) or 0,
                model_id=m["model_id"],
                features=_names(m["features"]),
                cache_info=m.get("cache_info"),
                deprecation_note=m.get("deprecation_note"),
                versions=tuple(
                    VersionDef(
                        v["version"],
                        v.get("alias"),
                        v.get("note"),
                        tuple(tuple(p) for p in v.get("props", ())),
                        v.get("cache_info"),
                    )
                    for v in m.get("versions", ())
                ),
            )
            for m in d["models"]
        )
        concrete = {c["name"]: c for c in d["cpus"] if "alias_of" not in c}
        shared: dict[str, frozenset[str]] = {}

        def feats_of(t: dict[str, Any]) -> frozenset[str]:
            # an alias shares its target's set: built once, not once per name
            f = shared.get(t["name"])
            if f is None:
                f = shared[t["name"]] = _names(t["features"])
            return f

        cpus = []
        for c in d["cpus"]:
            t = concrete[c["alias_of"]] if "alias_of" in c else c
            cpus.append(
                CpuName(
                    name=c["name"],
                    kind=c["kind"],
                    model=t["model"],
                    features=feats_of(t),
                    vendor=t["vendor"],
                    family=t["family"],
                    model_number=t["model_number"],
                    stepping=t["stepping"],
                    model_id=t["model_id"],
                    version=t.get("version"),
                    alias_of=c.get("alias_of"),
                    note=t.get("note"),
                    deprecation_note=t.get("deprecation_note"),
                    cache_info=t.get("cache_info"),
                )
            )
        return Release(
            version=d["version"],
            upstream=d["upstream"],
            origin=d["origin"],
            words=words,
            features=features,
            dependencies=deps,
            accel_defaults=accel_defaults_of(d.get("accel_defaults", {})),
            models=models,
            cpus=tuple(cpus),
            default_version=d.get("default_version"),
            source=d.get("source", "source"),
            tcg_features=_names(d["tcg_features"]) if "tcg_features" in d else None,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ParseError(
            f"malformed snapshot ({type(e).__name__}: {e})",
            file=name,
            hint="re-scrape it, or restore it from git",
        ) from e


def _names(v: list[str] | str) -> frozenset[str]:
    """A feature list, or the space-joined form the database keeps (parses 2x faster)."""
    return frozenset(v.split() if isinstance(v, str) else v)


def compact(d: dict[str, Any]) -> str:
    """The database's copy of a snapshot: feature lists space-joined, no indentation."""
    for c in d["cpus"]:
        if "features" in c:
            c["features"] = " ".join(c["features"])
    for m in d["models"]:
        m["features"] = " ".join(m["features"])
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def parse(text: str, *, name: str = "<snapshot>") -> dict[str, Any]:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"not JSON: {e.msg}", file=name, line=e.lineno) from e
    if not isinstance(d, dict):
        raise ParseError("a snapshot is a JSON object", file=name)
    return d


def loads(text: str, *, name: str = "<snapshot>") -> Release:
    return from_dict(parse(text, name=name), name=name)
