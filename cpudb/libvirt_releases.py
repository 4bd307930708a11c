"""Which libvirt's names the libvirt outputs use: the cpu_map of one libvirt release.

data/libvirt-features.json is the default (Debian bookworm's installed libvirt-daemon);
data/libvirt/X.Y.Z.json are other releases scraped from Debian's source tarballs and
packages. A `--libvirt V` picks one (the newest shipped release not newer than V);
without it, the installed libvirt is detected (dpkg, else `virsh --version`), else the
default. Files libvirt wrote (domcapabilities, capabilities, a domain's <cpu>) are read
with every release's names (`any_spelling`, `first_definition`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from cpudb.errors import NotFound
from cpudb.versions import version_key

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.model import CpuName, Release

_V = re.compile(r"(\d+\.\d+\.\d+)")


@lru_cache(maxsize=1)
def available() -> dict[str, Path]:
    """libvirt version -> its data file."""
    from cpudb.paths import shipped_data_dir

    d = shipped_data_dir()
    out: dict[str, Path] = {}
    default = d / "libvirt-features.json"
    if default.exists():
        m = _V.search(json.loads(default.read_text(encoding="utf-8")).get("source", ""))
        out[m.group(1) if m else "default"] = default
    for p in sorted((d / "libvirt").glob("*.json")):
        out.setdefault(p.stem, p)
    return out


def default() -> str:
    """The release of data/libvirt-features.json (Debian bookworm's libvirt-daemon)."""
    for v, p in available().items():
        if p.name == "libvirt-features.json":
            return v
    raise NotFound("no data/libvirt-features.json", hint="reinstall cpudb")


def installed() -> str | None:
    """The installed libvirt's X.Y.Z (dpkg's libvirt-daemon or libvirt0, else virsh)."""
    import shutil
    import subprocess

    for cmd in (
        ["dpkg-query", "-W", "-f", "${Version}", "libvirt-daemon"],
        ["dpkg-query", "-W", "-f", "${Version}", "libvirt0"],
        ["virsh", "--version"],
    ):
        if shutil.which(cmd[0]):
            r = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=10)
            m = _V.search(r.stdout) if r.returncode == 0 else None
            if m:
                return m.group(1)
    return None


def choose(query: str | None) -> tuple[str, str]:
    """(libvirt release whose names to use, why)."""
    have = sorted(available(), key=version_key)
    if not have:
        raise NotFound("no libvirt data (data/libvirt-features.json)", hint="reinstall cpudb")
    wanted, why = query, "as asked"
    if wanted is None:
        wanted, why = installed(), "the installed libvirt"
        if wanted is None:
            return default(), "no libvirt installed here: Debian bookworm's"
    fits = [v for v in have if version_key(v) <= version_key(wanted)]
    if not fits:
        raise NotFound(
            f"no libvirt data for {wanted} or older",
            hint=f"cpudb has libvirt {', '.join(have)}; give --libvirt one of them",
        )
    pick = fits[-1]
    same = version_key(pick) == version_key(wanted)
    return pick, why if same else f"{why} is {wanted}: the names of libvirt {pick}"


@lru_cache(maxsize=4)
def load(version: str) -> dict[str, Any]:
    return dict(json.loads(available()[version].read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def any_spelling() -> dict[str, str]:
    """Every name (and alias) any shipped libvirt release gives a CPUID bit -> its location:
    how libvirt files of any release are read. No name ever moved to another bit
    (tests/test_libvirt_releases.py checks), so one map serves them all."""
    out: dict[str, str] = {}
    for v in sorted(available(), key=version_key, reverse=True):
        for loc, e in load(v).get("locations", {}).items():
            for n in (e["libvirt_name"], *e.get("libvirt_aliases", ())):
                out.setdefault(n, loc)
    return out


@lru_cache(maxsize=256)
def first_definition(model: str) -> tuple[str, tuple[str, ...]] | None:
    """(the oldest shipped libvirt release that defines `model`, its CPUID locations there).

    A host-model or a domain's model in a file is read with this: libvirt only ever added
    to a model's definition (vmx-* bits, 9.0 -> 11.3), so the oldest one claims no feature
    that a newer libvirt would not, whichever libvirt wrote the file."""
    for v in sorted(available(), key=version_key):
        locs = load(v).get("model_features", {}).get(model)
        if locs is not None:
            return v, tuple(locs)
    return None


def spellings(location: str) -> list[tuple[str, str | None]]:
    """(libvirt release, its name for the CPUID location or None), oldest first."""
    out = []
    for v in sorted(available(), key=version_key):
        e = load(v).get("locations", {}).get(location)
        out.append((v, e["libvirt_name"] if e else None))
    return out


def as_cpu(release: Release, model: str, libvirt: str) -> CpuName:
    """libvirt `libvirt`'s model `model` as a CPU name of `release`: its features as
    libvirt's cpu_map defines them, in the release's names (for `cpudb diff`)."""
    from cpudb.record import replace

    version, _ = choose(libvirt)
    data = load(version)
    locs = data.get("model_features", {}).get(model)
    if locs is None:
        near = [m for m in data.get("models", ()) if m.lower().startswith(model.lower()[:4])]
        raise NotFound(
            f"libvirt {version} has no CPU model {model!r}",
            hint=f"its models include {', '.join(near[:6]) or ', '.join(data['models'][:6])}",
        )
    by_loc = {f.location: f.name for f in release.features}
    base = release.cpu(model)
    if base is None:
        raise NotFound(f"QEMU {release.version} has no CPU model {model!r} to set it against")
    return replace(
        base,
        name=f"{model}@libvirt-{version}",
        kind="model",
        alias_of=None,
        version=None,
        features=frozenset(by_loc[x] for x in locs if x in by_loc),
    )
