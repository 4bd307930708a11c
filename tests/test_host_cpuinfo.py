"""/proc/cpuinfo: the parser, its decoding through Linux's flag map, and agreement with
`cpuid -1 -r` on this machine."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest
from cpudb.scrapers import cpuid_dump, cpuinfo

from cpudb.errors import ParseError
from cpudb.host_build import from_cpuinfo, from_dump, linux_flag_map
from cpudb.host_cpu import HostCpu
from cpudb.host_fit import blockers
from cpudb.host_load import load_host
from cpudb.query import Db
from tests.conftest import FIXTURES, cpu_named, need_tool

TWO = FIXTURES / "hosts" / "cpuinfo-amd-23-1-2-two-cpus.txt"


def test_parse_two_cpus() -> None:
    info = cpuinfo.parse(TWO.read_text(), TWO.name)
    assert len(info.cpus) == 2
    c = info.cpu0
    assert (c.vendor, c.family, c.model, c.stepping) == ("AuthenticAMD", 23, 1, 2)
    assert c.brand.startswith("AMD EPYC 7601")
    assert {"pdpe1gb", "avx2", "npt"} <= c.flags
    assert info.differing_flags() == frozenset({"avx2"})


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty input"),
        ("processor\t: 0\nvendor_id\t: GenuineIntel\n", 1, "without a `flags` line"),
        ("processor\t: 0\nthis line has no colon\n", 2, "not a `key : value` line"),
        (
            "processor\t: 0\nvendor_id\t: X\ncpu family\t: six\nmodel\t: 1\nflags\t: fpu\n",
            3,
            "not a number",
        ),
    ],
)
def test_bad_cpuinfo(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as e:
        cpuinfo.parse(text, "ci.txt")
    assert e.value.line == line and words in str(e.value)


def test_decoding_through_linux_names(db: Db) -> None:
    rel = db.release("10.2")
    h = load_host(str(TWO))
    assert h.kind == "cpuinfo" and h.source == f"/proc/cpuinfo text {TWO.name}"
    assert (h.vendor, h.family, h.model, h.stepping, h.hypervisor) == (
        "AuthenticAMD",
        23,
        1,
        2,
        False,
    )
    hf = h.features_in(rel)
    # Linux names -> QEMU names: pni, sse4_1 -> sse4.1, lahf_lm -> lahf-lm, nrip_save, sha_ni
    assert {"pni", "sse4.1", "lahf-lm", "nrip-save", "sha-ni", "pdpe1gb", "npt"} <= hf.present
    assert "avx512f" not in hf.present | hf.unknown  # Linux shows it when present: absent
    assert "spec-ctrl" in hf.unknown  # Linux 6.12 hides SPEC_CTRL (CPUID.7.0:EDX[26])
    assert "invtsc" in hf.unknown  # only as synthetic constant_tsc/nonstop_tsc
    assert "mds-no" in hf.unknown  # MSR
    assert any("flags differ between CPUs: avx2" in n for n in hf.notes)
    assert blockers(rel, cpu_named(rel, "EPYC-v1"), hf) == ()

    round_trip = HostCpu.from_json(h.to_json())
    assert round_trip.features_in(rel) == hf


# Bits Linux clears although CPUID sets them, for a reason it applies from CPUID alone:
# init_speculation_control(): `if (cpu_has(c, X86_FEATURE_AMD_SSBD)) { ...
# clear_cpu_cap(c, X86_FEATURE_VIRT_SSBD); }` (the SPEC_CTRL MSR is preferred).
LINUX_CLEARS = {"cpuid.0x80000008.ebx.25": "cpuid.0x80000008.ebx.24"}


def test_cpuid_and_proc_cpuinfo_agree_on_this_machine(db: Db) -> None:
    """Two readings of this machine, decoded by cpudb's own rules (`cpuid -1 -r` and
    /proc/cpuinfo): every feature both can tell has the same value, except where a
    Linux rule explains the difference (`LINUX_CLEARS`)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "i686"):
        pytest.skip("needs an x86 Linux machine")
    tool = need_tool("cpuid", "apt-get install cpuid")
    out = subprocess.run([tool, "-1", "-r"], capture_output=True, text=True, check=True).stdout
    rel = db.release(None)
    dump = from_dump(cpuid_dump.parse(out, "cpuid -1 -r"), "cpuid -1 -r").features_in(rel)
    info = cpuinfo.parse(Path("/proc/cpuinfo").read_text(), "/proc/cpuinfo")
    proc = from_cpuinfo(info, linux_flag_map(), "/proc/cpuinfo").features_in(rel)
    by_name = {f.name: f.location for f in rel.features}
    loc_name = {loc: name for name, loc in by_name.items()}
    both = set(by_name) - dump.unknown - proc.unknown
    disagree = []
    for name in sorted(both):
        a, b = name in dump.present, name in proc.present
        cleared_by = loc_name.get(LINUX_CLEARS.get(by_name[name], ""))
        if a != b and not (a and cleared_by is not None and cleared_by in dump.present):
            disagree.append((name, "cpuid" if a else "cpuinfo"))
    assert len(both & dump.present) > 30
    assert disagree == []


def test_la57_hidden_by_linux_is_unknown_not_absent(db: Db) -> None:
    """Linux lists la57 only when it runs 5-level paging itself; KVM offers it anyway."""
    rel = db.release("7.2.0")
    text = (FIXTURES / "hosts" / "cpuinfo-amd-23-1-2-two-cpus.txt").read_text()
    info = cpuinfo.parse(text, "cpuinfo")
    hf = from_cpuinfo(info, linux_flag_map(), "cpuinfo").features_in(rel)
    assert "la57" in hf.unknown and "la57" not in hf.present
    assert any("5-level paging" in n for n in hf.notes)
    on = from_cpuinfo(
        cpuinfo.parse(text.replace("flags\t\t: ", "flags\t\t: la57 "), "c"), linux_flag_map(), "c"
    ).features_in(rel)
    assert "la57" in on.present
