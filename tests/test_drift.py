"""Issue 14.3: `cpudb host diff BEFORE AFTER`: drift after a microcode or kernel update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpudb.cli import main
from tests.conftest import need_hosts_dir

# CPUID.7.0:EBX of a Xeon Gold 6148 (Skylake-SP), and with HLE (bit 4) and RTM (bit 11)
# cleared, as the 2019-2021 TSX-disabling microcode updates left it
TSX_ON, TSX_OFF = "ebx=0xd39ffffb", f"ebx={0xD39FFFFB & ~(1 << 4 | 1 << 11):#010x}"


def pair(tmp_path: Path) -> tuple[Path, Path, Path]:

    src = (need_hosts_dir() / "intel-xeon-gold-6148.cpuid").read_text()
    assert TSX_ON in src
    before, after, peer = tmp_path / "before.cpuid", tmp_path / "after.cpuid", tmp_path / "peer"
    before.write_text(src)
    peer.write_text(src)
    after.write_text(src.replace(TSX_ON, TSX_OFF))
    return before, after, peer


def test_tsx_off_after_a_microcode_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, peer = pair(tmp_path)
    argv = ["host", "diff", str(before), str(after), "--pool", str(peer), "--qemu", "7.2"]
    assert main([*argv, "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == "cpudb.host.diff/1" and d["lost"] == ["hle", "rtm"] and not d["gained"]
    blocked = {b["name"]: b["blockers"] for b in d["newly_blocked"]}
    assert blocked["Skylake-Server-v1"] == ["hle", "rtm"] and "Skylake-Server-v4" not in blocked
    assert d["pool"]["broken"] and d["pool"]["blockers"] == ["hle", "rtm"]
    assert "hle" not in d["pool"]["after"] and d["pool"]["after"] != d["pool"]["before"]
    assert main(argv) == 1
    assert "BREAKS" in capsys.readouterr().out


def test_no_change_and_the_way_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after, _ = pair(tmp_path)
    assert main(["host", "diff", str(before), str(before)]) == 0
    assert "no change a guest would see" in capsys.readouterr().out
    assert main(["host", "diff", str(after), str(before), "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["gained"] == ["hle", "rtm"] and "Skylake-Server-v1" in d["newly_usable"]


def test_diff_needs_two_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", "diff", "x"]) == 2
    assert "takes BEFORE and AFTER" in capsys.readouterr().err


VM = """<domain type='kvm'>
  <name>vm1</name>
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>Skylake-Client-IBRS</model>
    <vendor>Intel</vendor>
    <feature policy='require' name='pdpe1gb'/>
    <feature policy='disable' name='mpx'/>
  </cpu>
</domain>
"""


def test_can_this_vm_start_or_migrate_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14.1: a domain's <cpu> checked against hosts: TSX on, it starts; after the
    TSX-off update libvirt's Skylake-Client-IBRS (with hle and rtm) cannot."""
    from tests.conftest import FIXTURES

    hf = FIXTURES / "hostfiles"
    vm = tmp_path / "vm1.xml"
    vm.write_text(VM)
    argv = ["host", "check", str(vm), str(hf / "domcaps-skylake-tsx-on.xml"),
            str(hf / "domcaps-skylake.xml"), "--qemu", "7.2", "--json"]  # fmt: skip
    assert main(argv) == 1
    d = json.loads(capsys.readouterr().out)
    by = {h["host"]: h for h in d["hosts"]}
    assert by["domcaps-skylake-tsx-on.xml"]["runs"] is True
    assert by["domcaps-skylake.xml"]["blockers"] == ["hle", "rtm"]
    assert d["model"] == "Skylake-Client-IBRS" and d["mode"] == "custom"
    assert main(["host", "check", str(vm), str(hf / "domcaps-skylake-tsx-on.xml")]) == 0
    assert "it can live-migrate between all of them" in capsys.readouterr().out
    passthrough = tmp_path / "pt.xml"
    passthrough.write_text("<domain><cpu mode='host-passthrough'/></domain>")
    assert main(["host", "check", str(passthrough), str(hf / "domcaps-skylake.xml")]) == 0
    assert "copies the host it starts on" in capsys.readouterr().out
    assert main(["host", "check", str(hf / "domcaps-skylake.xml"), str(vm)]) == 2
    assert "not a domain's <cpu>" in capsys.readouterr().err
