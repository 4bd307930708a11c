"""The raw `cpuid -r` / `cpuid -1 -r` parser: good dumps, several CPUs, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cpudb.scrapers import cpuid_dump

from cpudb.errors import ParseError
from tests.conftest import FIXTURES

HOSTS = FIXTURES / "hosts"
ROW0 = "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69"
ROW1 = "   0x00000001 0x00: eax=0x000306c3 ebx=0x00100800 ecx=0x7ffafbff edx=0xbfebfbff"


def test_one_cpu_dump() -> None:
    d = cpuid_dump.parse((HOSTS / "intel-6-60-3-haswell-no-pdpe1gb.cpuid").read_text(), "h")
    assert len(d.cpus) == 1
    rows = {(r.leaf, r.subleaf): r for r in d.cpu0.leaves}
    assert len(rows) == 13
    assert rows[(0xD, 1)].eax == 1
    assert rows[(0x80000001, 0)].edx == 0x28100800
    assert rows[(0x7, 0)].reg("ebx") == 0x27AB
    assert d.differing_rows() == ()


def test_several_cpus_keep_order_and_report_differences() -> None:
    d = cpuid_dump.parse((HOSTS / "two-cpus-avx2-differs.cpuid").read_text(), "t")
    assert [c.index for c in d.cpus] == [0, 1]
    diff = {(r.leaf, r.subleaf) for r in d.differing_rows()}
    assert diff == {(0x1, 0), (0x7, 0)}  # APIC id in leaf 1 EBX, AVX2 in leaf 7


def test_rows_without_header_and_crlf() -> None:
    d = cpuid_dump.parse(f"{ROW0}\r\n{ROW1}\r\n", "x")
    assert [r.leaf for r in d.cpu0.leaves] == [0, 1]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty input"),
        ("\n\n", 2, "empty input"),
        (f"CPU:\n{ROW0}\n   0x00000001 0x00: eax=0x000306c3 ebx=0x0010", 3, "truncated"),
        (f"CPU:\n{ROW0}\n{ROW1}\n{ROW0}\n", 4, "duplicate CPUID leaf 0x0 subleaf 0x0"),
        ('CPU:\n   vendor_id = "GenuineIntel"\n', 2, "decoded `cpuid` output"),
        ("CPU 0:\n   version information (1/eax):\n", 2, "decoded `cpuid` output"),
        ("hello world\n", 1, "not a CPUID dump line"),
        (f"{ROW0}\nCPU 1:\n", 2, "ends after the header of CPU 1"),
        (f"CPU 0:\nCPU 1:\n{ROW0}\n", 2, "CPU header with no rows"),
    ],
)
def test_bad_input_names_the_line(text: str, line: int, words: str) -> None:

    with pytest.raises(ParseError) as e:
        cpuid_dump.parse(text, "box.cpuid")
    assert e.value.line == line
    msg = str(e.value)
    assert msg.startswith(f"box.cpuid:{line}: ")
    assert words in msg
    assert "cpuid -1 -r" in msg  # the hint says what to run
    assert "\n" not in msg


def test_duplicates_are_per_cpu() -> None:
    text = f"CPU 0:\n{ROW0}\n{ROW1}\nCPU 1:\n{ROW0}\n{ROW1}\n"
    assert len(cpuid_dump.parse(text).cpus) == 2


def test_cli_bad_dump_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cpuid"
    bad.write_text(f"CPU:\n{ROW0}\n   0x00000001 0x00: eax=0x00\n")
    r = subprocess.run(
        [sys.executable, "-m", "cpudb", "host", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "bad.cpuid:3:" in lines[0] and "cpuid -1 -r" in lines[0]


def test_cli_empty_file_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.cpuid"
    empty.write_text("")
    r = subprocess.run(
        [sys.executable, "-m", "cpudb", "host", str(empty)], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert "empty.cpuid:1: empty input" in r.stderr
