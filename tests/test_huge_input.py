"""Huge or wrong input (issue 13.5): refused at once or read line by line, memory
bounded by what a log keeps, never by its size. Times and memory: bench/huge_input.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpudb.cli import main
from cpudb.diagnose import logparse as lp
from tests.conftest import FIXTURES

REAL = FIXTURES / "logs" / "real" / "kvm-1g-default-trace.log"


def test_host_refuses_a_file_too_big_for_a_dump_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "huge.cpuid"
    with open(big, "wb") as fh:
        fh.truncate(200 << 20)  # sparse: reading it would take seconds, stat takes none
    assert main(["host", str(big)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "too big for a host CPU file" in err and str(big) in err


def test_diagnose_refuses_binary_data_naming_the_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "random.bin"
    f.write_bytes(b"KVM internal error" + bytes(range(256)) * 4)
    assert main(["diagnose", str(f)]) == 2
    err = capsys.readouterr().err
    assert "binary data (a NUL byte at offset 18)" in err and str(f) in err


def test_diagnose_refuses_a_fifo_instead_of_hanging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    assert main(["diagnose", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_an_endless_line_is_cut_not_held(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "one-line.log"
    f.write_text("x" * (3 << 20) + "\nKVM internal error. Suberror: 1\n")  # 3 MB line 1
    from cpudb.textinput import LINE_LIMIT, open_lines

    assert [len(x) for x in open_lines(str(f))] == [LINE_LIMIT, 31]
    main(["diagnose", str(f), "--json"])
    assert '"kvm internal error": 1' in capsys.readouterr().out


def test_a_long_trace_keeps_a_bounded_tail_and_still_finds_the_crash() -> None:
    lines = REAL.read_text().splitlines()
    trace = lines[2:]
    crash = [i for i, ln in enumerate(trace) if "kvm_mmu_pagetable_walk" in ln][-1]
    benign = trace[:crash]
    n = 3 * lp.TRACE_TAIL // len(benign) + 1
    log = lp.parse_lines(iter(lines[:2] + benign * n + trace[crash:]))
    assert len(log.events) <= lp.TRACE_TAIL + 2 * lp.TRACE_WINDOW * lp.ANCHORS + 10
    assert log.plain_traces >= len(benign) * n - lp.TRACE_TAIL
    assert any(isinstance(e, lp.WalkerError) and e.pferr & 8 for e in log.events)
