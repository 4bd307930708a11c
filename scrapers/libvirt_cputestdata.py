"""Real CPUs' CPUID, from libvirt's test data (`tests/cputestdata/x86_64-cpuid-*.xml`),
as data/cpu-catalog.json: the catalogue the portable ranking counts hosts with.

Each of those files is a raw CPUID (and feature-MSR) dump that libvirt's developers took
on a real machine, with the brand string as a comment:

    <!-- Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz -->
    <cpudata arch='x86'>
      <cpuid eax_in='0x00000001' ecx_in='0x00' eax='0x00050654' ebx=... ecx=... edx=.../>
      <msr index='0x10a' edx='0x00000000' eax='0x0000006b'/>

Kept: files whose root is `<cpudata>` with CPUID rows. Left out: the derived files
(`-enabled`, `-disabled`, `-guest`, `-host`, `-json`), the `baseline-*` inputs (a `<cpu>`
element, no CPU), and variants of one CPU (same brand and CPUID.1:EAX signature; libvirt
keeps an edited copy to test one flag, e.g. `Core-i7-2600-xsaveopt`): the shortest name
stays, the others are listed as its `variants`.

The rows are written in `cpuid -r` form, so the catalogue is read back by the same
parser as a user's dump (`cpudb.scrapers.cpuid_dump`).

    python -m cpudb.scrapers.libvirt_cputestdata libvirt_11.3.0.orig.tar.xz \
        --out data/cpu-catalog.json

The tarball comes from Debian (`apt-get source --download-only -t trixie libvirt`); a
libvirt source tree works as well.
"""

from __future__ import annotations

import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from cpudb.errors import ParseError, SourceError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypedDict

    class CpuData(TypedDict):
        """One dump as `parse_cpudata` reads it."""

        comment: str  # the brand string libvirt's developers wrote above it
        leaves: list[str]  # `cpuid -r` rows
        msrs: dict[str, str]  # "0x10a" -> "0x000000000000006b"


PREFIX = "tests/cputestdata/x86_64-cpuid-"
_DERIVED = re.compile(r"-(enabled|disabled|guest|host|json)\.xml$")
_VERSION = re.compile(r"libvirt[-_](\d+\.\d+\.\d+)")


def _files(source: Path) -> Iterator[tuple[str, bytes]]:
    """(path inside the tree, bytes) of every candidate dump, sorted by path."""
    if source.is_dir():
        base = source / PREFIX
        for p in sorted(base.parent.glob(base.name + "*.xml")):
            yield f"{PREFIX}{p.name[len(base.name) :]}", p.read_bytes()
        return
    try:
        with tarfile.open(source) as tar:
            members = sorted(
                (m for m in tar.getmembers() if m.isfile() and PREFIX in m.name),
                key=lambda m: m.name,
            )
            for m in members:
                f = tar.extractfile(m)
                if f is not None and m.name.endswith(".xml"):
                    yield m.name[m.name.index(PREFIX) :], f.read()
    except (tarfile.TarError, OSError) as e:
        raise SourceError(
            f"{source}: not a libvirt source tarball ({e})",
            hint="give libvirt_X.Y.Z.orig.tar.xz or an unpacked libvirt tree",
        ) from None


def _row(el: ET.Element, file: str) -> str:
    try:
        vals = [int(el.attrib[k], 16) for k in ("eax_in", "ecx_in", "eax", "ebx", "ecx", "edx")]
    except (KeyError, ValueError) as e:
        raise ParseError(f"bad <cpuid> element ({e})", file=file) from None
    leaf, sub, *regs = vals
    return f"0x{leaf:08x} 0x{sub:02x}: " + " ".join(
        f"{r}=0x{v:08x}" for r, v in zip(("eax", "ebx", "ecx", "edx"), regs, strict=True)
    )


def parse_cpudata(text: bytes, file: str) -> CpuData | None:
    """One dump -> {"brand_comment", "leaves": [rows], "msrs": {index: value}}; None
    for a file that is not a CPU's dump."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ParseError(f"not XML ({e})", file=file) from None
    if root.tag != "cpudata":
        return None
    rows = [_row(el, file) for el in root.iter("cpuid")]
    if not rows:
        return None
    msrs: dict[str, str] = {}
    for el in root.iter("msr"):
        value = int(el.attrib.get("edx", "0"), 16) << 32 | int(el.attrib.get("eax", "0"), 16)
        msrs[f"{int(el.attrib['index'], 16):#x}"] = f"{value:#018x}"
    comment = re.match(rb"\s*<!--(.*?)-->", text)
    return {
        "comment": comment.group(1).decode("utf-8", "replace").strip() if comment else "",
        "leaves": rows,
        "msrs": msrs,
    }


def scrape(source: str | Path) -> dict[str, Any]:
    from cpudb.host_build import identify

    from . import cpuid_dump

    src = Path(source)
    if not src.exists():
        raise SourceError(f"{src}: not found", hint="apt-get source --download-only libvirt")
    m = _VERSION.search(src.name) or _VERSION.search(str(src.resolve()))
    found: list[dict[str, Any]] = []
    skipped: list[str] = []
    for path, data in _files(src):
        name = path[len(PREFIX) : -len(".xml")]
        if _DERIVED.search(path):
            continue
        d = parse_cpudata(data, path)
        if d is None:
            skipped.append(name)
            continue
        dump = cpuid_dump.parse("CPU:\n" + "\n".join(d["leaves"]) + "\n", path)
        ident = identify(dump.cpu0.leaves, path)
        found.append(
            {
                "name": name,
                "file": path,
                "brand": ident["brand"] or d["comment"],
                "vendor": ident["vendor"],
                "family": ident["family"],
                "model": ident["model"],
                "stepping": ident["stepping"],
                "leaves": d["leaves"],
                "msrs": d["msrs"],
            }
        )
    if not found:
        raise SourceError(f"{src}: no {PREFIX}*.xml CPU dumps", hint="give a libvirt source")
    kept: dict[tuple[str, str], dict[str, Any]] = {}
    for cpu in sorted(found, key=lambda c: (len(c["name"]), c["name"])):
        sig = next(r for r in cpu["leaves"] if r.startswith("0x00000001 0x00:"))
        k = (cpu["brand"], sig.split()[2])
        if k in kept:
            kept[k].setdefault("variants", []).append(cpu["name"])
        else:
            kept[k] = cpu
    cpus = sorted(kept.values(), key=lambda c: c["name"])
    return {
        "source": f"libvirt {m.group(1) if m else '?'} ({src.name}): {PREFIX}*.xml",
        "libvirt_version": m.group(1) if m else None,
        "cpus": cpus,
        "skipped_not_a_cpu": skipped,
    }


def main(argv: list[str] | None = None) -> int:
    from . import data_cli

    return data_cli.run(
        scrape,
        prog="python -m cpudb.scrapers.libvirt_cputestdata",
        description="Real CPUs' CPUID from libvirt's tests/cputestdata (data/cpu-catalog.json).",
        source_help="libvirt_X.Y.Z.orig.tar.xz or an unpacked libvirt tree",
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
