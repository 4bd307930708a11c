"""Building a `HostCpu` from a parsed source: a `cpuid -r` dump, /proc/cpuinfo (with
Linux's flag map, data/linux-cpufeatures.json, read once), QMP answers, or a live
capture. Pure but for reading the shipped flag map."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cpudb.errors import NotFound, ParseError
from cpudb.host_cpu import HostCpu
from cpudb.scrapers.cpuid_dump import CpuidDump, CpuidLeaf

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.scrapers.cpuinfo import Cpuinfo
    from cpudb.scrapers.host_json import QmpAnswers


def identify(leaves: Iterable[CpuidLeaf], file: str = "<dump>") -> dict[str, Any]:
    """Vendor, family/model/stepping (Linux/QEMU rule), brand and hypervisor bit."""
    regs = {(r.leaf, r.subleaf): r for r in leaves}
    for leaf, what in ((0, "vendor"), (1, "family/model/stepping")):
        if (leaf, 0) not in regs:
            raise ParseError(
                f"no CPUID leaf {leaf:#x} row: cannot tell the {what}",
                file=file,
                hint="give the whole `cpuid -1 -r` output",
            )
    v = regs[(0, 0)]
    vendor = b"".join(x.to_bytes(4, "little") for x in (v.ebx, v.edx, v.ecx))
    eax = regs[(1, 0)].eax
    family, model, stepping = signature_fms(eax)
    brand = ""
    ext = regs.get((0x80000000, 0))
    if (
        ext is not None
        and 0x80000004 <= ext.eax <= 0x8000FFFF
        and all((lf, 0) in regs for lf in (0x80000002, 0x80000003, 0x80000004))
    ):
        raw = b"".join(
            regs[(lf, 0)].reg(r).to_bytes(4, "little")
            for lf in (0x80000002, 0x80000003, 0x80000004)
            for r in ("eax", "ebx", "ecx", "edx")
        )
        brand = raw.split(b"\0", 1)[0].decode("latin-1").strip()
    return {
        "vendor": vendor.decode("latin-1"),
        "family": family,
        "model": model,
        "stepping": stepping,
        "brand": brand,
        "hypervisor": bool(regs[(1, 0)].ecx >> 31 & 1),
        "signature": eax,
    }


def signature_fms(eax: int) -> tuple[int, int, int]:
    """CPUID.1:EAX -> (family, model, stepping) as Linux and QEMU compute them: the
    extended family is added when the base family is 0xf; the extended model is the high
    nibble of the model when the family is 6 or more."""
    base_family = eax >> 8 & 0xF
    family = base_family + (eax >> 20 & 0xFF) if base_family == 0xF else base_family
    model = eax >> 4 & 0xF
    if family >= 6:
        model |= (eax >> 16 & 0xF) << 4
    return family, model, eax & 0xF


def from_dump(dump: CpuidDump, source: str) -> HostCpu:
    """A parsed `cpuid -r` / `cpuid -1 -r` dump (CPU 0 of it) -> HostCpu."""
    ident = identify(dump.cpu0.leaves, dump.file)
    others = dump.differing_rows()
    notes = []
    if len(dump.cpus) > 1:
        notes.append(f"the dump has {len(dump.cpus)} CPUs: CPU {dump.cpu0.index} is used")
    return HostCpu(
        source=source,
        kind="cpuid",
        leaves=dump.cpu0.leaves,
        other_leaves=others,
        cpu_count=len(dump.cpus),
        notes=tuple(notes),
        **ident,
    )


def from_cpuinfo(info: Cpuinfo, linux_map: dict[str, Any], source: str) -> HostCpu:
    """/proc/cpuinfo + data/linux-cpufeatures.json -> HostCpu (only CPUID bits Linux shows)."""
    cpu = info.cpu0
    bits = tuple(
        sorted(
            (loc, d["linux_name"] in cpu.flags)
            for loc, d in linux_map.get("locations", {}).items()
            if d.get("linux_name")
        )
    )
    notes = [
        f"/proc/cpuinfo flags mapped to CPUID bits with Linux "
        f"{linux_map.get('linux_version', '?')}'s cpufeatures.h; bits Linux hides or "
        f"clears are unknown or absent"
    ]
    diff = info.differing_flags()
    if diff:
        notes.append(
            f"{len(info.cpus)} CPUs, CPU {cpu.processor} used; flags differ between "
            f"CPUs: {' '.join(sorted(diff))}"
        )
    return HostCpu(
        vendor=cpu.vendor,
        family=cpu.family,
        model=cpu.model,
        stepping=cpu.stepping,
        brand=cpu.brand,
        hypervisor="hypervisor" in cpu.flags,
        source=source,
        kind="cpuinfo",
        cpu_count=len(info.cpus),
        bits=bits,
        notes=tuple(notes),
    )


def from_text(text: str, name: str, linux_map: dict[str, Any] | None = None) -> HostCpu:
    """A file's text: a raw CPUID dump, or /proc/cpuinfo (needs `linux_map`)."""
    from cpudb.scrapers import cpuid_dump, cpuinfo

    if not cpuid_dump.looks_like_dump(text) and cpuinfo.looks_like_cpuinfo(text):
        if linux_map is None:
            raise NotFound(
                "no Linux flag map (data/linux-cpufeatures.json)", hint="reinstall cpudb"
            )
        return from_cpuinfo(cpuinfo.parse(text, name), linux_map, f"/proc/cpuinfo text {name}")
    seen = _DUMPS.get(text)
    if seen is None:
        dump = cpuid_dump.parse(text, name)
        multi = len(dump.cpus) > 1 or re.search(r"^CPU \d+:", text, re.M)
        seen = ("cpuid -r" if multi else "cpuid -1 -r", from_dump(dump, ""))
        if len(_DUMPS) < 4096:
            _DUMPS[text] = seen
    from cpudb.record import replace

    return replace(seen[1], source=f"{seen[0]} dump {name}")


# `cpuid -1 -r` dumps of one CPU model are byte-identical from host to host (CPU 0's APIC
# ids are 0): a fleet's copies are parsed and identified once per process
_DUMPS: dict[str, tuple[str, HostCpu]] = {}


def from_qmp(
    q: QmpAnswers,
    source: str,
    *,
    hypervisor: bool = False,
    qemu_version: str = "",
    notes: Iterable[str] = (),
) -> HostCpu:
    """QEMU's own answers (asked here, or pasted from `virsh qemu-monitor-command`)."""
    values = dict(q.values)
    said = list(notes)
    if not q.props:
        said.append(
            "no host expansion in the QMP answers: only QEMU's verdicts per model are known"
        )
    return HostCpu(
        vendor=values.get("vendor", ""),
        family=_int(values.get("family")),
        model=_int(values.get("model")),
        stepping=_int(values.get("stepping")),
        brand=values.get("model-id", "").strip(),
        hypervisor=hypervisor,
        source=source,
        kind="qmp",
        qemu_props=q.props,
        qemu_unavailable=q.unavailable,
        qemu_version=qemu_version,
        notes=tuple(said),
    )


def _int(v: object) -> int:
    return int(v) if isinstance(v, (int, str)) else 0


def linux_flag_map() -> dict[str, Any]:
    """data/linux-cpufeatures.json, read once per process (a fleet reads it per file)."""
    if _FLAG_MAP:
        return _FLAG_MAP[0]
    _FLAG_MAP.append(_read_flag_map())
    return _FLAG_MAP[0]


_FLAG_MAP: list[dict[str, Any]] = []


def _read_flag_map() -> dict[str, Any]:
    import json

    from cpudb.paths import shipped_data_dir

    p = shipped_data_dir() / "linux-cpufeatures.json"
    if not p.exists():
        return {}
    return dict(json.loads(p.read_text(encoding="utf-8")))


def from_live(cap: Any) -> HostCpu:  # cap: scrapers.live_host.LiveCapture
    if cap.dump is not None:
        h = from_dump(cap.dump, cap.source)
    else:
        h = from_cpuinfo(cap.cpuinfo, linux_flag_map(), cap.source)
    if cap.tried:
        from cpudb.record import replace

        h = replace(h, notes=(*h.notes, *cap.tried))
    return h
