"""The proof of advice: the first answer of `advise` starts the real QEMU, `enforce` kept,
under the accelerator it was advised for, on the machine it was advised for.

Under TCG: the answer for `--accel tcg`. Under KVM: the answer for this machine (what
advise prints when /dev/kvm works), or, when cpudb says nothing works here, QEMU's own
`host` model agrees that a need is missing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cpudb.scrapers.qemu_start import try_start

from cpudb.cli import main
from cpudb.query import Db
from tests.conftest import need_kvm, need_tool

NEEDS = [
    "pdpe1gb",
    "avx2",
    "aes",
    "pcid",
    "nx",
    "x86-64-v2",
    "x86-64-v3",
    "avx512f",
    "sse4.2,popcnt",
    "rhel9",
    "windows11",
]


@pytest.fixture(scope="module")
def qemu(db: Db) -> tuple[str, str]:
    """The installed QEMU and the release cpudb has for it."""
    binary = need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    import subprocess

    from cpudb.installed import nearest_release, parse_version

    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    parsed = parse_version(out)
    assert parsed, out
    version, note = nearest_release(parsed[0], db.versions())
    if note:
        pytest.skip(f"no snapshot of QEMU {parsed[0]} itself ({note.strip()})")
    return binary, version


def _advise(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(["advise", *args, "--json"])
    d: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == (0 if d["candidates"] else 1)
    return d


@pytest.mark.parametrize("need", NEEDS)
def test_tcg_answer_starts_under_tcg(
    qemu: tuple[str, str], capsys: pytest.CaptureFixture[str], need: str
) -> None:
    binary, version = qemu
    d = _advise(capsys, "--needs", need, "--qemu", version, "--accel", "tcg")
    if not d["candidates"]:
        # cpudb says TCG cannot: QEMU's TCG must refuse the need on its own `max` CPU
        names = [n["name"] for n in d["needs"]]
        flags = ",".join(f"{n}=on" for n in names)
        r = try_start(binary, f"max,{flags},enforce", "tcg")
        assert not r.started, (need, d["impossible"])
        return
    cpu = d["candidates"][0]["qemu_args"].removeprefix("-cpu ")
    assert cpu.endswith(",enforce"), cpu
    r = try_start(binary, cpu, "tcg")
    assert r.started, f"-accel tcg -cpu {cpu}: {r.message}"


@pytest.mark.parametrize("need", NEEDS)
def test_this_machine_answer_starts_under_kvm(
    qemu: tuple[str, str], capsys: pytest.CaptureFixture[str], machine: None, need: str
) -> None:
    binary, version = qemu
    need_kvm()
    d = _advise(capsys, "--needs", need, "--qemu", version)
    here = d["this_machine"]
    if here["cpu"] is None:
        # cpudb says no CPU name works here. Either QEMU's `host` model lacks a need
        # too, or every name enables something this KVM lacks: then QEMU refuses the
        # closest one cpudb marks as blocked.
        names = [n["name"] for n in d["needs"]]
        r = try_start(binary, "host," + ",".join(f"{n}=on" for n in names) + ",enforce", "kvm")
        if not r.started:
            return
        kept = _advise(capsys, "--needs", need, "--qemu", version, "--this-host", "--all")
        first = kept["candidates"][0]
        assert first["blockers"], first
        r = try_start(binary, first["qemu_args"].removeprefix("-cpu "), "kvm")
        assert not r.started, f"cpudb says {first['cpu']} is blocked here, QEMU started it"
        return
    assert here["cpu"].endswith(",enforce"), here
    r = try_start(binary, here["cpu"], "kvm")
    assert r.started, f"-accel kvm -cpu {here['cpu']}: {r.message}"
