"""The `cpudb diagnose` command: its JSON and text output, exit codes, bad input, stdin and
`--host`, on the logs under fixtures/logs/.
"""

from __future__ import annotations

import json

import pytest

from cpudb.cli import main
from tests.conftest import need_hosts_dir
from tests.diagnose_logs import LOGS, QEMU

# --- the command -------------------------------------------------------------------------


def test_cli_json_shape_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "diagnose",
            str(LOGS / "pdpe1gb-issue8.log"),
            "--qemu",
            QEMU,
            "--cpu",
            "Haswell-v4",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    (f,) = out["findings"]
    assert f["feature"] == "pdpe1gb"
    assert f["evidence"][7].endswith("kvm_mmu_walker_error: pferr 9 P|RSVD")
    assert f["explanation"].startswith("the guest runs 4-level paging")
    assert "-cpu Haswell-v4,pdpe1gb=on" in f["fixes"]
    assert out["qemu"] == QEMU and out["cpu"]["name"] == "Haswell-v4"
    rc = main(["diagnose", str(LOGS / "none-firmware-avx-mmio.log"), "--qemu", QEMU, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["findings"] == [] and out["notes"]


def test_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["diagnose", str(LOGS / "pdpe1gb-issue8.log"), "--qemu", QEMU])
    out = capsys.readouterr().out
    assert rc == 0
    assert "cause 1: pdpe1gb — CPUID.80000001H:EDX[26]" in out
    assert "   13: " in out  # evidence with line numbers


def test_cli_uses_the_version_the_log_names(capsys: pytest.CaptureFixture[str]) -> None:
    main(["diagnose", str(LOGS / "pdpe1gb-libvirt.log"), "--json"])
    assert json.loads(capsys.readouterr().out)["qemu"] == "7.2.0"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["diagnose", "/nonexistent/guest.log"], "no such file"),
        (["diagnose", str(LOGS / "pdpe1gb-issue8.log"), "--cpu", "Haswel"], "no CPU model"),
        (
            ["diagnose", str(LOGS / "pdpe1gb-issue8.log"), "--cpu", "Haswell,pdpe1g=on"],
            "unknown feature",
        ),
        (["diagnose", str(LOGS / "pdpe1gb-issue8.log"), "--qemu", "0.9"], "unknown QEMU release"),
        (["diagnose", str(LOGS)], "is a directory"),
    ],
)
def test_cli_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "hint:" in err and len(err.strip().splitlines()) == 1


def test_cli_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO((LOGS / "la57-cr4-gp.log").read_text()))
    assert main(["diagnose", "-", "--qemu", QEMU, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == "<stdin>" and out["findings"][0]["feature"] == "la57"


def test_cli_host_dump(capsys: pytest.CaptureFixture[str]) -> None:
    hosts = need_hosts_dir()
    rc = main(
        [
            "diagnose",
            str(LOGS / "pdpe1gb-issue8.log"),
            "--qemu",
            QEMU,
            "--cpu",
            "Haswell-v4",
            "--host",
            str(hosts / "intel-xeon-e5-2650-v3.cpuid"),
            "--json",
        ]
    )
    (f,) = json.loads(capsys.readouterr().out)["findings"]
    assert rc == 0 and f["host_has"] is True
    # a Haswell host runs no newer model: the answer is the flag on the current model
    assert f["fixes"][0] == "-cpu Haswell-v4,pdpe1gb=on"
    main(
        [
            "diagnose",
            str(LOGS / "pdpe1gb-issue8.log"),
            "--qemu",
            QEMU,
            "--host",
            str(hosts / "intel-core2-duo-e6850.cpuid"),
            "--json",
        ]
    )
    (g,) = json.loads(capsys.readouterr().out)["findings"]
    assert g["host_has"] is False
