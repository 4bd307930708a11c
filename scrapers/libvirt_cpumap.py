"""libvirt's x86 feature names (`cpu_map/x86_features.xml`) per CPUID/MSR location.

libvirt spells a few features differently from QEMU (`pclmuldq`, `fxsr_opt`,
`tsc_adjust`, `cmp_legacy`, ...). This parses its feature table and model files (as
`libvirt_cpumap_source` fetches them) and writes `data/libvirt-features.json`:

    {"source": "libvirt 9.0.0 ...", "locations": {"cpuid.0x80000001.edx.26":
        {"libvirt_name": "pdpe1gb"}, ...}, "models": ["486", "Broadwell", ...]}

`models` are the x86 CPU model names libvirt's cpu_map defines (the advisor's libvirt,
Nova and Proxmox output must name one of them).

Location ids are cpudb's (`FeatureWord.location()`): leaf 7/0xd/0x12/... carry the
subleaf (`cpuid.0x7.0.ebx.5`), leaf 1 and 0x80000001 do not, MSR bits are `msr.0x10a.0`.

    python -m cpudb.scrapers.libvirt_cpumap [--dir /usr/share/libvirt/cpu_map] --out data/

`cpu_map` ships with Debian's `libvirt-daemon` package (apt-get install libvirt-daemon).
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from cpudb.errors import ParseError
from cpudb.record import Record

from .libvirt_cpumap_source import DEFAULT_DIR, FEATURES_FILE, read_cpu_map

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NotRequired, TypedDict

    class LocationNames(TypedDict):
        """The libvirt names of one CPUID/MSR location in data/libvirt-features.json."""

        libvirt_name: str
        libvirt_aliases: NotRequired[list[str]]  # its other spellings, file order


REGISTERS = ("eax", "ebx", "ecx", "edx")


class LibvirtFeature(Record):
    """One `<feature>` of x86_features.xml: one bit of a CPUID leaf or an MSR."""

    name: str
    aliases: tuple[str, ...]
    kind: str  # "cpuid" or "msr"
    bit: int
    leaf: int | None = None
    subleaf: int | None = None
    register: str | None = None
    msr: int | None = None


def _int(text: str | None, what: str, file: str, line: int | None) -> int:
    try:
        return int(text or "", 0)
    except ValueError:
        raise ParseError(f"bad {what}", file=file, line=line, token=text) from None


def _one_bit(mask: int, what: str, file: str, line: int | None) -> int:
    if mask == 0 or mask & (mask - 1):
        raise ParseError(f"{what}: expected exactly one bit", file=file, line=line, token=hex(mask))
    return mask.bit_length() - 1


def _lines(text: str) -> dict[str, int]:
    """`<feature name='x'` -> line number, for error messages (ElementTree keeps none)."""
    out: dict[str, int] = {}
    for no, line in enumerate(text.splitlines(), 1):
        i = line.find("<feature name=")
        if i >= 0:
            name = line[i + 14 :].split()[0].strip("'\">/")
            out.setdefault(name, no)
    return out


def parse_features(text: str, *, file: str = FEATURES_FILE) -> list[LibvirtFeature]:
    """x86_features.xml text -> its features, in file order. Pure."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ParseError(
            f"not well-formed XML ({e.msg if hasattr(e, 'msg') else e})",
            file=file,
            line=e.position[0],
            hint="is this libvirt's cpu_map/x86_features.xml?",
        ) from None
    lines = _lines(text)
    out: list[LibvirtFeature] = []
    for feat in root.iter("feature"):
        name = feat.get("name")
        if not name:
            raise ParseError("<feature> without a name", file=file)
        line = lines.get(name)
        aliases = tuple(a.get("name", "") for a in feat.findall("alias") if a.get("name"))
        cpuid = feat.find("cpuid")
        msr = feat.find("msr")
        if cpuid is not None:
            regs = [(r, _int(cpuid.get(r), r, file, line)) for r in REGISTERS if cpuid.get(r)]
            regs = [(r, v) for r, v in regs if v]
            if len(regs) != 1:
                raise ParseError(
                    f"feature {name!r}: expected one register bit",
                    file=file,
                    line=line,
                    token=str(cpuid.attrib),
                )
            reg, mask = regs[0]
            sub = cpuid.get("ecx_in")
            out.append(
                LibvirtFeature(
                    name=name,
                    aliases=aliases,
                    kind="cpuid",
                    bit=_one_bit(mask, name, file, line),
                    leaf=_int(cpuid.get("eax_in"), "eax_in", file, line),
                    subleaf=None if sub is None else _int(sub, "ecx_in", file, line),
                    register=reg,
                )
            )
        elif msr is not None:
            value = (_int(msr.get("edx", "0"), "edx", file, line) << 32) | _int(
                msr.get("eax", "0"), "eax", file, line
            )
            out.append(
                LibvirtFeature(
                    name=name,
                    aliases=aliases,
                    kind="msr",
                    bit=_one_bit(value, name, file, line),
                    msr=_int(msr.get("index"), "index", file, line),
                )
            )
        else:
            raise ParseError(
                f"feature {name!r} has neither <cpuid> nor <msr>", file=file, line=line
            )
    if not out:
        raise ParseError(
            "no <feature> elements", file=file, hint="is this libvirt's cpu_map/x86_features.xml?"
        )
    return out


def parse_models(text: str, *, file: str) -> list[str]:
    """The `<model name=...>` names of one cpu_map x86_*.xml file. Pure."""
    return list(parse_model_defs(text, file=file))


def parse_model_defs(text: str, *, file: str) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """name -> (the model it builds on via a nested `<model name=.../>`, its own
    `<feature>` names) of one cpu_map x86_*.xml file. Pure."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ParseError("not well-formed XML", file=file, line=e.position[0]) from None
    out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for m in root.findall("model"):  # top level only: nested ones are references
        name = m.get("name")
        if not name:
            continue
        base = next((c.get("name") for c in m if c.tag == "model"), None)
        feats = tuple(c.get("name", "") for c in m if c.tag == "feature" and c.get("name"))
        out[name] = (base, feats)
    return out


def model_features(
    defs: dict[str, tuple[str | None, tuple[str, ...]]], loc_of: dict[str, str]
) -> dict[str, list[str]]:
    """Each model's full feature set (its base model's included) as cpudb locations."""
    memo: dict[str, set[str]] = {}

    def full(name: str, seen: tuple[str, ...] = ()) -> set[str]:
        if name in memo:
            return memo[name]
        if name in seen or name not in defs:
            return set()
        base, feats = defs[name]
        got = (full(base, (*seen, name)) if base else set()) | {
            loc_of[f] for f in feats if f in loc_of
        }
        memo[name] = got
        return got

    return {n: sorted(full(n), key=_sort_key) for n in sorted(defs, key=str.lower)}


# The VMX control MSRs (true pin-based, proc-based, exit, entry; secondary): QEMU's feature
# word is their allowed-1 half, bits 63..32 (kvm_arch_get_supported_msr_feature returns
# `value >> 32`), so cpudb's msr.0x48b.1 (vmx-ept) is MSR bit 33. libvirt before 12.0 wrote
# those bits in eax, libvirt 12 in edx, where the MSR has them.
VMX_ALLOWED_1 = frozenset({0x48B, 0x48D, 0x48E, 0x48F, 0x490})


def subleaf_words(words: Iterable[tuple[int, int | None, str]]) -> dict[tuple[int, str], bool]:
    """(leaf, register) -> does cpudb give that word a subleaf, from (leaf, subleaf, reg)."""
    out: dict[tuple[int, str], bool] = {}
    for leaf, sub, reg in words:
        out[(leaf, reg)] = out.get((leaf, reg), False) or sub is not None
    return out


def location(f: LibvirtFeature, subleafed: dict[tuple[int, str], bool]) -> str:
    """cpudb's location id for a libvirt feature (`FeatureWord.location()` format)."""
    if f.kind == "msr":
        bit = f.bit
        if f.msr in VMX_ALLOWED_1 and bit >= 32:
            bit -= 32  # libvirt 12+ writes these in edx; QEMU's word is that half
        return f"msr.{f.msr:#x}.{bit}"
    assert f.leaf is not None and f.register is not None
    has_sub = subleafed.get((f.leaf, f.register), f.subleaf is not None)
    sub = f".{f.subleaf or 0}" if has_sub else ""
    return f"cpuid.{f.leaf:#x}{sub}.{f.register}.{f.bit}"


def to_locations(
    features: Iterable[LibvirtFeature], subleafed: dict[tuple[int, str], bool]
) -> dict[str, LocationNames]:
    """location -> {"libvirt_name": ..., ["libvirt_aliases": [...]]}, sorted by location."""
    out: dict[str, LocationNames] = {}
    for f in features:
        loc = location(f, subleafed)
        entry = out.setdefault(loc, {"libvirt_name": f.name})
        extra = [a for a in (f.name, *f.aliases) if a != entry["libvirt_name"]]
        if extra:
            have = list(entry.get("libvirt_aliases", []))
            entry["libvirt_aliases"] = have + [a for a in extra if a not in have]
    return dict(sorted(out.items(), key=lambda kv: _sort_key(kv[0])))


def _sort_key(loc: str) -> tuple[str | int, ...]:
    parts = loc.split(".")
    return (parts[0], int(parts[1], 16), *[int(p) if p.isdigit() else p for p in parts[2:]])


def cpudb_words() -> dict[tuple[int, str], bool]:
    """Which CPUID words carry a subleaf, from every shipped snapshot."""
    from cpudb.catalog import shipped_releases

    words = []
    for rel in shipped_releases():
        words += [
            (w.leaf, w.subleaf, w.register)
            for w in rel.words
            if w.type == "cpuid" and w.leaf is not None and w.register
        ]
    return subleaf_words(words)


def scrape(directory: Path, label: str | None = None) -> dict[str, Any]:
    """data/libvirt-features.json from libvirt's cpu_map: a folder
    (/usr/share/libvirt/cpu_map), a source tarball (libvirt_X.Y.Z.orig.tar.xz) or a
    Debian package that ships it (libvirt-common_X.Y.Z-*.deb); see `libvirt_cpumap_source`."""
    cpu_map = read_cpu_map(directory, label)
    files = cpu_map.files
    features = parse_features(files[FEATURES_FILE], file=cpu_map.where)
    defs: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for name in sorted(files):
        if name not in (FEATURES_FILE, "x86_vendors.xml"):
            defs.update(parse_model_defs(files[name], file=name))
    locations = to_locations(features, cpudb_words())
    loc_of = {
        n: loc
        for loc, e in locations.items()
        for n in (e["libvirt_name"], *e.get("libvirt_aliases", []))
    }
    out: dict[str, Any] = {"source": f"{cpu_map.label}: {cpu_map.where}"}
    if cpu_map.version:
        out["libvirt_version"] = cpu_map.version
    out.update(
        {
            "locations": locations,
            "models": sorted(defs, key=str.lower),
            "model_features": model_features(defs, loc_of),
        }
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m cpudb.scrapers.libvirt_cpumap",
        description="Write libvirt's x86 feature names per CPUID location "
        "(data/libvirt-features.json).",
        epilog="examples: python -m cpudb.scrapers.libvirt_cpumap --out data/   (installed)\n"
        "  python -m cpudb.scrapers.libvirt_cpumap --dir libvirt_11.3.0.orig.tar.xz --out data/"
        "   (-> data/libvirt/11.3.0.json)\n"
        "  python -m cpudb.scrapers.libvirt_cpumap --dir libvirt-common_12.9.0-1~bpo13+1_amd64.deb"
        " --out data/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="libvirt's cpu_map folder, a libvirt source tarball or a libvirt-common .deb "
        f"(default: {DEFAULT_DIR})",
    )
    p.add_argument("--label", help="source label (default: the Debian package version)")
    p.add_argument("--out", type=Path, help="folder for libvirt-features.json (default: stdout)")
    args = p.parse_args(argv)
    from cpudb.errors import CpudbError

    try:
        data = scrape(args.dir, args.label)
    except CpudbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    if args.out:
        from cpudb.paths import atomic_write

        # a release's tarball -> data/libvirt/X.Y.Z.json; the installed one -> the default
        v = data.get("libvirt_version")
        target = args.out / "libvirt" / f"{v}.json" if v else args.out / "libvirt-features.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)
        print(f"{len(data['locations'])} locations -> {target}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
