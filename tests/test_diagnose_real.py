"""`diagnose` on logs of real guests: the probe guest booted by the real QEMU 7.2 under
KVM and TCG (tests/fixtures/logs/real/record wrote them), and a crash traced live.

A cause needs evidence of a fault; what QEMU merely dropped is a note; a log without a
fault says what it cannot tell and how to record one that can."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cpudb.cli import main
from tests.conftest import FIXTURES, need_kvm, need_tool

REAL = FIXTURES / "logs" / "real"
QEMU = "7.2.22"


def diagnose_log(
    capsys: pytest.CaptureFixture[str], log: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    code = main(["diagnose", str(log), "--qemu", QEMU, "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def _causes(d: dict[str, Any]) -> list[dict[str, Any]]:

    return [f for f in d["findings"] if f["role"] == "cause"]


def test_silent_triple_fault_has_no_cause_and_says_how_to_see_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, d = diagnose_log(capsys, REAL / "kvm-1g-default.log")
    assert code == 1 and not _causes(d)
    assert [(f["feature"], f["role"]) for f in d["findings"]] == [("pni", "note")]
    assert d["cpu"]["arg"] == "qemu64" and "default" in d["cpu"]["source"]
    said = " ".join(d["notes"])
    assert "cannot tell" in said and "events/kvmmmu/enable" in said
    assert "cpudb probe --cpu qemu64 --accel kvm" in said


def test_power_on_reset_dumps_are_not_the_failing_state(capsys: pytest.CaptureFixture[str]) -> None:
    code, d = diagnose_log(capsys, REAL / "kvm-1g-default-cpu-reset.log")
    assert code == 1 and not _causes(d)
    assert d["registers"] == []  # no "paging off" read from the reset state
    assert d["recognised"]["cpu reset dump"] == 2
    assert any("CPU reset" in n for n in d["notes"])


def test_twenty_seven_warnings_are_notes_with_the_asked_one_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, d = diagnose_log(capsys, REAL / "kvm-1g-haswell.log")
    assert code == 1 and not _causes(d)
    assert len(d["findings"]) == 27 and "pdpe1gb" in [f["feature"] for f in d["findings"]]
    main(["diagnose", str(REAL / "kvm-1g-haswell.log"), "--qemu", QEMU])
    out = capsys.readouterr().out
    assert "no cause" in out and "dropped by QEMU (lines 2-28)" in out
    assert "asked for by name on the command line and dropped: pdpe1gb" in out


def test_traced_1g_fault_is_the_cause_and_the_fix_keeps_the_default_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, d = diagnose_log(capsys, REAL / "kvm-1g-default-trace.log")
    causes = _causes(d)
    assert code == 0 and [c["feature"] for c in causes] == ["pdpe1gb"]
    assert causes[0]["certainty"] == "certain" and "page-walk" in causes[0]["kinds"]
    assert causes[0]["fixes"][0] == "-cpu qemu64,pdpe1gb=on"
    assert [f["feature"] for f in d["findings"] if f["role"] == "note"] == ["pni"]


def test_emulated_cr4_write_then_gp_names_la57(capsys: pytest.CaptureFixture[str]) -> None:
    code, d = diagnose_log(capsys, REAL / "kvm-la57-trace.log")
    causes = _causes(d)
    assert code == 0 and [c["feature"] for c in causes] == ["la57"]
    la57 = causes[0]
    assert la57["kinds"] == ["cr4-write"] and la57["certainty"] == "likely"
    # the guest already had la57=on: the same flag again is no fix
    assert not any(x.startswith("-cpu qemu64,la57=on") for x in la57["fixes"])
    assert any("no5lvl" in a for a in la57["advice"])


@pytest.mark.parametrize("log", ["kvm-ok-host.log", "tcg-1g-default.log"])
def test_successful_boots_have_no_cause(capsys: pytest.CaptureFixture[str], log: str) -> None:
    code, d = diagnose_log(capsys, REAL / log)
    assert code == 1 and not _causes(d)


# ------------------------------------------------------------------ live


TRACEFS = Path("/sys/kernel/tracing")


def _tracefs() -> Path:
    if os.geteuid() != 0:
        pytest.skip("tracing KVM needs root (tracefs)")
    if not (TRACEFS / "events").is_dir():
        r = subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)], check=False)
        if r.returncode != 0 or not (TRACEFS / "events").is_dir():
            pytest.skip("tracefs cannot be mounted here (mount -t tracefs nodev ...)")
    if not (TRACEFS / "events" / "kvmmmu").is_dir():
        pytest.skip("no kvmmmu trace events in this kernel")
    return TRACEFS


@pytest.mark.integration
def test_live_crash_traced_is_diagnosed_as_what_the_guest_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], machine: None
) -> None:
    """Boot the probe guest without handlers under KVM (no -cpu: qemu64), trace KVM,
    and diagnose the log: pdpe1gb is the cause, as the guest's own probe says."""
    need_kvm()
    binary = need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    tr = _tracefs()
    from cpudb.scrapers import qemu_probe

    def put(rel: str, value: str) -> None:
        (tr / rel).write_text(value)

    put("tracing_on", "0")
    put("trace", "")
    put("events/kvm/enable", "1")
    put("events/kvmmmu/enable", "1")
    put("tracing_on", "1")
    try:
        boot = qemu_probe.boot(binary, None, "kvm", ("1g-pages",), no_handlers=True)
    finally:
        put("tracing_on", "0")
        put("events/kvm/enable", "0")
        put("events/kvmmmu/enable", "0")
    trace = (tr / "trace").read_text(errors="replace")
    put("trace", "")
    assert boot.status == 0, boot  # the triple fault: QEMU exits 0 after -no-reboot's reset
    log = tmp_path / "crash.log"
    log.write_text(" ".join(boot.command) + "\n" + boot.stderr + trace)
    code, d = diagnose_log(capsys, log)
    # the probe with handlers tells what the guest met: a #PF on the 1 GiB page
    main(["probe", "--accel", "kvm", "--check", "1g-pages", "--json"])
    seen = json.loads(capsys.readouterr().out)
    assert seen["checks"]["1g-pages"] == "fault" and seen["faults"]["1g-pages"]["vector"] == 14
    assert [c["feature"] for c in _causes(d)] == ["pdpe1gb"], d["notes"]


def test_refused_efer_nxe_write_names_nx(capsys: pytest.CaptureFixture[str]) -> None:
    code, d = diagnose_log(capsys, REAL / "kvm-nx-trace.log")
    causes = _causes(d)
    assert code == 0 and [c["feature"] for c in causes] == ["nx"]
    assert causes[0]["kinds"] == ["efer-write"] and causes[0]["fixes"][0] == "-cpu qemu64,nx=on"
