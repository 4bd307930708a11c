"""`cpudb host`: JSON shape, text, stdin, stored hosts, bad input."""

from __future__ import annotations

import io
import json
import platform
from pathlib import Path

import pytest

from cpudb.cli import main
from tests.conftest import FIXTURES

HASWELL = FIXTURES / "hosts" / "intel-6-60-3-haswell-no-pdpe1gb.cpuid"
CPUINFO = FIXTURES / "hosts" / "cpuinfo-amd-23-1-2-two-cpus.txt"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "host", str(HASWELL), "--qemu", "10.2", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["qemu"].startswith("10.2.")
    assert (d["vendor"], d["family"], d["model"], d["stepping"]) == ("GenuineIntel", 6, 60, 3)
    assert d["brand"] == "Hand-written Haswell without 1 GiB pages"
    assert d["signature"] == "0x000306c3" and d["hypervisor"] is False
    assert "avx2" in d["features"] and "pdpe1gb" not in d["features"]
    assert "mds-no" in d["unknown"]
    assert d["best"][0] == "Haswell-v2"
    models = {m["name"]: m for m in d["models"]}
    assert set(models["Haswell-v2"]) >= {"name", "usable", "blockers", "unknown", "alias_of"}
    assert models["Haswell-v2"]["usable"] is True and models["Haswell-v2"]["blockers"] == []
    assert models["Haswell-noTSX"]["alias_of"] == "Haswell-v2"
    sky = models["Skylake-Server-v1"]
    assert sky["usable"] is False and "pdpe1gb" in sky["blockers"]
    assert all(isinstance(m["usable"], bool) for m in d["models"])


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "host", str(HASWELL), "--qemu", "7.2")
    assert code == 0
    assert "GenuineIntel family 6 model 60 (0x3c) stepping 3, signature 0x000306c3" in out
    assert "source: cpuid -1 -r dump intel-6-60-3-haswell-no-pdpe1gb.cpuid" in out
    assert "Haswell-v2 (= Haswell-noTSX)" in out
    assert "MSR-based" in out
    line = next(s for s in out.splitlines() if s.strip().startswith("Skylake-Server-v1 "))
    assert "pdpe1gb" in line


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(HASWELL.read_text()))
    code, out, _ = run(capsys, "host", "-", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["source"] == "cpuid -1 -r dump <stdin>" and d["model"] == 60


def test_proc_cpuinfo_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "host", str(CPUINFO), "--qemu", "10.2", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["source"].startswith("/proc/cpuinfo text") and d["family"] == 23
    assert {m["name"]: m["usable"] for m in d["models"]}["EPYC-v1"] is True


def test_add_list_show_rm(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "host", "add", "box-haswell", str(HASWELL))
    assert code == 0, err
    assert "saved host box-haswell" in out
    code, out, _ = run(capsys, "host", "list", "--json")
    row = {r["name"]: r for r in json.loads(out)["hosts"]}["box-haswell"]
    assert (row["family"], row["model"], row["brand"]) == (
        6,
        60,
        "Hand-written Haswell without 1 GiB pages",
    )
    # the stored registers decode against any release
    for q in ("2.0", "10.2"):
        code, out, _ = run(capsys, "host", "box-haswell", "--qemu", q, "--json")
        assert code == 0
        d = json.loads(out)
        assert "avx2" in d["features"] and d["source"].endswith(HASWELL.name)
    code, out, _ = run(capsys, "host", "list")
    assert "box-haswell" in out and "6/60/3" in out
    assert run(capsys, "host", "rm", "box-haswell")[0] == 0
    code, _, err = run(capsys, "host", "rm", "box-haswell")
    assert code == 2 and "no stored host named 'box-haswell'" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["host"], "no host given"),
        (["host", "a.cpuid", "b.cpuid"], "one host at a time"),
        (["host", "no-such-host-or-file"], "no file and no stored host"),
        (["host", "add", "bad name!", str(HASWELL)], "bad host name"),
        (["host", "add", "list", str(HASWELL)], "bad host name"),
        (["host", "add", "x"], "no host given"),
        (["host", "rm"], "needs a NAME"),
        (["host", "list", "extra"], "takes no arguments"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and words in err


def test_decoded_cpuid_output_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    p = tmp_path / "decoded.txt"
    p.write_text('CPU 0:\n   vendor_id = "GenuineIntel"\n   version information (1/eax):\n')
    code, _, err = run(capsys, "host", str(p))
    assert code == 2
    assert "decoded.txt:2: this is decoded `cpuid` output" in err and "cpuid -1 -r" in err


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["host", "--help"])
    out = capsys.readouterr().out
    assert "cpudb host add box1 box1.cpuid" in out and "--this-host" in out and "--qmp" in out


def test_this_host(capsys: pytest.CaptureFixture[str]) -> None:
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("needs an x86 Linux machine")
    code, out, _ = run(capsys, "host", "--this-host", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["features"] and d["models"]
    assert d["source"].split()[0] in (
        "KVM_GET_SUPPORTED_CPUID",
        "/dev/cpu/0/cpuid",
        "cpuid",
        "/proc/cpuinfo",
    )
