"""Feature names in any spelling -> the canonical QEMU name of one release.

Accepted: QEMU names old and new and their aliases (`sse4_1`, `sse4.1`, `pni`/`sse3`),
`_`/`-` variants, Linux /proc/cpuinfo names, libvirt names, and CPUID locations
(`CPUID.80000001H:EDX[26]`, `0x80000001.edx.26`, `cpuid.0x7.0.ebx.5`).
Unknown names raise NotFound with "did you mean ...?".
"""

from __future__ import annotations

import json
import re
from functools import cache

from cpudb.errors import NotFound
from cpudb.model import Feature, Release
from cpudb.resolve import feat2prop

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.model import CpuName

_LOC_FORMS = [
    # CPUID.80000001H:EDX[26], CPUID.80000001H:EDX.pdpe1gb [bit 26], CPUID.07H.0:EBX[5]
    re.compile(
        r"cpuid\.(?:0x)?([0-9a-f]+)h?(?:\.(?:0x)?([0-9a-f]+)h?)?:e?([abcd]x)(?:\.[\w.-]+)?\s*\[(?:bit\s*)?(\d+)\]",
        re.I,
    ),
    # 0x80000001.edx.26, cpuid.0x7.0.ebx.5, 7.0.ebx.5
    re.compile(r"(?:cpuid\.)?(0x[0-9a-f]+|\d+)(?:\.(0x[0-9a-f]+|\d+))?\.e?([abcd]x)\.(\d+)", re.I),
]


@cache
def extra_names() -> dict[str, dict[str, Any]]:
    """location -> {"linux_name", "libvirt_name", "description"} from the data/ files."""
    from cpudb.paths import shipped_data_dir

    out: dict[str, dict[str, Any]] = {}
    for fname in ("linux-cpufeatures.json", "libvirt-features.json"):
        p = shipped_data_dir() / fname
        if p.exists():
            for loc, d in json.loads(p.read_text(encoding="utf-8")).get("locations", {}).items():
                out.setdefault(loc, {}).update(d)
    return out


def parse_location(text: str) -> str | None:
    """A CPUID location in a common notation -> location id (`cpuid.0x80000001.edx.26`)."""
    t = text.strip()
    for pat in _LOC_FORMS:
        m = pat.fullmatch(t)
        if m:
            leaf = int(m.group(1), 16) if pat is _LOC_FORMS[0] else int(m.group(1), 0)
            sub = m.group(2)
            subleaf = None
            if sub is not None:
                subleaf = int(sub, 16) if pat is _LOC_FORMS[0] else int(sub, 0)
            reg = "e" + m.group(3).lower()[-2:]
            bit = int(m.group(4))
            return f"cpuid.{leaf:#x}{'' if subleaf is None else f'.{subleaf}'}.{reg}.{bit}"
    return None


class FeatureNames:
    """Spelling index for one release."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self.by_location: dict[str, Feature] = {}
        self.index: dict[str, Feature] = {}
        for f in release.features:
            self.by_location.setdefault(f.location, f)
        for f in release.features:
            self._add(f.name, f)
        for f in release.features:
            for a in f.aliases:
                self._add(a, f)
        for loc, extra in extra_names().items():
            hit = self.by_location.get(loc)
            if hit is None:
                continue
            for key in ("linux_name", "libvirt_name"):
                if extra.get(key):
                    self._add(extra[key], hit)

    def _add(self, name: str, f: Feature) -> None:
        for n in (name, feat2prop(name), name.lower(), feat2prop(name).lower()):
            self.index.setdefault(n, f)

    def lookup(self, text: str) -> Feature:
        """The feature of this release that `text` names; NotFound with suggestions."""
        t = text.strip()
        for key in (t, feat2prop(t), t.lower(), feat2prop(t).lower()):
            if key in self.index:
                return self.index[key]
        from cpudb.libvirt_releases import any_spelling

        loc = any_spelling().get(t) or any_spelling().get(t.lower())
        if loc is not None and loc in self.by_location:
            return self.by_location[loc]  # libvirt's name in any release (cpudb.libvirt_releases)
        loc = parse_location(t)
        if loc is not None:
            if loc in self.by_location:
                return self.by_location[loc]
            # a subleaf-less spelling of a subleaf-0 word (CPUID.7H:EBX[5])
            parts = loc.split(".")
            if len(parts) == 4:
                alt = ".".join([parts[0], parts[1], "0", parts[2], parts[3]])
                if alt in self.by_location:
                    return self.by_location[alt]
            raise NotFound(
                f"QEMU {self.release.version} has no feature at {text}",
                hint="no QEMU name exists for that bit in this release",
            )
        import difflib  # only on the error path

        close = difflib.get_close_matches(t.lower(), list(self.index), n=3, cutoff=0.7)
        hint = (
            ("did you mean " + " or ".join(dict.fromkeys(close)) + "?")
            if close
            else "CPUID locations work too, e.g. 0x80000001.edx.26"
        )
        raise NotFound(f"unknown feature {text!r} in QEMU {self.release.version}", hint=hint)

    def canonical(self, text: str) -> str:
        return self.lookup(text).name


def lookup_cpu(release: Release, name: str) -> CpuName:
    """A CPU name of the release (exact, then case-insensitive), else NotFound with suggestions."""
    c = release.cpu(name)
    if c is not None:
        return c
    lower = {c.name.lower(): c for c in release.cpus}
    if name.lower() in lower:
        return lower[name.lower()]
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, [c.name for c in release.cpus], n=3, cutoff=0.6)
    hint = ("did you mean " + " or ".join(close) + "?") if close else "`cpudb models` lists them"
    raise NotFound(f"QEMU {release.version} has no CPU model {name!r}", hint=hint)
