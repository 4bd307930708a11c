"""What the libvirt-based config formats (libvirt, nova, proxmox, kubevirt) are written
with: one libvirt release's names for a QEMU release, Nova's traits, QEMU's deprecated
names. Loading only; cpudb.render.configs writes the configs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpudb.libvirt_model import LibvirtNames
    from cpudb.model import Release


def libvirt_names(release: Release, libvirt: str | None = None) -> LibvirtNames:
    """libvirt's names for `release` as libvirt `libvirt` (default: the installed one)
    spells them (cpudb.libvirt_releases)."""
    from cpudb import libvirt_releases
    from cpudb.libvirt_model import LibvirtNames

    version, why = libvirt_releases.choose(libvirt)
    data = libvirt_releases.load(version)
    spelled = data.get("locations", {})
    feats = {
        f.name: spelled[f.location]["libvirt_name"]
        for f in release.features
        if spelled.get(f.location, {}).get("libvirt_name")
    }
    by_loc = {f.location: f.name for f in release.features}
    models = {
        m: frozenset(by_loc[loc] for loc in locs if loc in by_loc)
        for m, locs in data.get("model_features", {}).items()
    }
    return LibvirtNames(
        feats,
        frozenset(data.get("models", ())),
        data.get("source", ""),
        model_features=models,
        version=version,
        why=why,
        dependencies=release.dependencies,
    )


def names_for(fmt: str, release: Release, libvirt: str | None = None) -> LibvirtNames | None:
    """For libvirt's formats, the libvirt names they use (read once per command); None for
    text, json and qemu. Its `knows` keeps the CPU names libvirt has (libvirt < 10: no -vN)."""
    if fmt in ("text", "json", "qemu"):
        return None
    return libvirt_names(release, libvirt)


def nova_traits() -> dict[str, Any]:
    """libvirt feature -> Nova's HW_CPU_X86_* traits (data/nova-cpu-traits.json)."""
    import json

    from cpudb.paths import shipped_data_dir

    path = shipped_data_dir() / "nova-cpu-traits.json"
    return json.loads(path.read_text(encoding="utf-8"))["traits"] if path.exists() else {}


def deprecated_names(release: Release) -> tuple[str, ...]:
    """QEMU's deprecated CPU names (KubeVirt's obsoleteCPUModels)."""
    return tuple(c.name for c in release.cpus if c.deprecation_note is not None)
