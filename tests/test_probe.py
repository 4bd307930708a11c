"""The probe guest and `cpudb probe`: the shipped bytes are the build of probe/probe.asm,
and what the guest reports agrees with what QEMU itself says, under TCG and KVM."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cpudb.scrapers import qemu_probe

from cpudb.cli import main
from cpudb.model import Release
from cpudb.names import FeatureNames
from cpudb.probe import parse_serial
from cpudb.query import Db
from tests.conftest import FIXTURES, REPO, need_kvm, need_tool

PROBE_DIR = FIXTURES / "probe"


def test_shipped_probe_is_the_build_of_its_source(tmp_path: Path) -> None:
    nasm = need_tool("nasm", "apt-get install nasm")
    out = tmp_path / "probe.bin"
    subprocess.run(
        [nasm, "-f", "bin", "-o", str(out), str(REPO / "probe" / "probe.asm")], check=True
    )
    assert out.read_bytes() == (REPO / "data" / "probe.bin").read_bytes(), (
        "data/probe.bin is stale: nasm -f bin -o data/probe.bin probe/probe.asm"
    )
    head = out.read_bytes()[:32]
    assert int.from_bytes(head[:4], "little") == 0x1BADB002  # multiboot, in the first 8 KiB


def test_serial_of_a_recorded_kvm_boot_parses() -> None:
    """Recorded on a kvm_pvm host: qemu64 under KVM, all checks (see fixtures README)."""
    s = parse_serial((PROBE_DIR / "kvm-qemu64.serial").read_text())
    assert s.version == 1 and s.end == "done"
    assert s.rows[0].startswith("0x00000000 0x00: eax=")
    assert s.outcomes["nx"].result == "ok"
    assert s.outcomes["la57"].result == "not-in-cpuid"
    g1 = s.outcomes["1g-pages"]
    assert (g1.result, g1.vector, g1.at) == ("fault", 14, "ram-read")
    assert g1.error is not None and g1.error & 0x8  # RSVD: the PDPTE's PS bit is reserved


def test_serial_that_stops_mid_check_blames_the_running_check() -> None:
    from cpudb.probe import checks_of

    s = parse_serial("cpudb-probe 1\ncheck nx: ok\n")
    out = checks_of(s, ("nx", "1g-pages"), "triple-fault")
    assert {k: v.result for k, v in out.items()} == {
        "nx": "ok",
        "long-mode": "crash",
        "1g-pages": "not-run",
    }


# ------------------------------------------------------------------ real QEMU


@pytest.fixture(scope="module")
def qemu(db: Db) -> tuple[str, Release]:
    binary = need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    from cpudb.installed import ask, nearest_release

    inst = ask(binary)
    assert inst is not None
    version, _ = nearest_release(inst.version, db.versions())
    return binary, db.release(version)


def _probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["probe", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _warned(release: Release, warnings: list[str]) -> set[str]:

    from cpudb.probe import _WARNED

    names = FeatureNames(release)
    return {names.lookup(m.group(1)).name for w in warnings if (m := _WARNED.search(w))}


@pytest.mark.integration
@pytest.mark.parametrize("cpu", ["qemu64", "Haswell-v2,pdpe1gb=on", "Skylake-Server-v1", "EPYC"])
def test_tcg_guest_sees_what_qemu_says_it_gives(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str], cpu: str
) -> None:
    """Under TCG the guest sees exactly the requested features less those QEMU warned it
    dropped, and cpudb's TCG offer predicts those drops."""
    binary, release = qemu
    from cpudb.decide.offer import tcg_offer

    code, d = _probe(capsys, "--cpu", cpu, "--accel", "tcg")
    assert d["started"] and d["ended"] == "done", d
    assert d["schema"] == "cpudb.probe/1" and d["qemu"] and d["release"] == release.version
    dropped = set(d["dropped"])
    assert dropped == _warned(release, d["warnings"]), (cpu, d["warnings"])
    offer = tcg_offer(release)
    assert offer is not None
    predicted = set(offer.lacks(d["requested"]))
    assert dropped <= predicted, (cpu, dropped - predicted)
    words = {w.name: w.type for w in release.words}
    invisible = {f.name for f in release.features if words[f.word] != "cpuid"}
    assert predicted - dropped <= invisible, (cpu, predicted - dropped)
    assert not d["extra"], d["extra"]
    assert d["checks"]["long-mode"] == "ok"
    # QEMU 7.2's TCG sets EFER.NXE and walks 1 GiB pages whether or not the CPU has them
    assert d["checks"]["nx"] == "ok" and d["checks"]["1g-pages"] == "ok"
    assert (d["checks"]["la57"] == "not-in-cpuid") == ("la57" not in d["seen"])
    assert code == (0 if not dropped else 1)


@pytest.mark.integration
def test_enforce_refusal_is_a_result(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, d = _probe(capsys, "--cpu", "Haswell-v4,enforce", "--accel", "tcg")
    assert code == 1
    assert not d["started"] and d["ended"] == "refused"
    assert "doesn't support requested features" in d["refused"]
    assert set(d["checks"].values()) == {"not-run"}


@pytest.mark.integration
def test_no_handlers_turns_the_fault_into_a_silent_triple_fault(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The story's crash, under KVM: the default model lacks pdpe1gb, KVM's page walker
    refuses the 1 GiB page, and a kernel without handlers dies without a word."""
    need_kvm()
    code, d = _probe(capsys, "--accel", "kvm", "--check", "1g-pages")
    assert d["checks"]["1g-pages"] == "fault", d
    assert d["faults"]["1g-pages"]["vector"] == 14 and d["faults"]["1g-pages"]["error"] & 0x8
    assert "pdpe1gb" not in d["requested"]
    code, d = _probe(capsys, "--accel", "kvm", "--check", "1g-pages", "--no-handlers")
    assert code == 1 and d["ended"] == "triple-fault" and d["checks"]["1g-pages"] == "crash"


@pytest.mark.integration
def test_tcg_guest_gets_1g_pages_with_the_advised_answer(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    binary, release = qemu
    main(["advise", "--needs", "pdpe1gb", "--accel", "tcg", "--json"])
    cpu = json.loads(capsys.readouterr().out)["candidates"][0]["qemu_args"].split()[-1]
    code, d = _probe(capsys, "--cpu", cpu, "--accel", "tcg", "--check", "1g-pages")
    assert code == 0 and d["started"], d
    assert "pdpe1gb" in d["seen"] and d["checks"]["1g-pages"] == "ok"


@pytest.mark.integration
def test_kvm_pdpe1gb_is_proven_or_cpudb_says_kvm_cannot(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where this machine's KVM offers pdpe1gb (cpudb's reading of KVM), the this-machine
    answer gives a guest working 1 GiB pages; where it does not, advise says so."""
    need_kvm()
    main(["advise", "--needs", "pdpe1gb", "--json"])
    here = json.loads(capsys.readouterr().out)["this_machine"]
    from cpudb.host_load import this_host

    _, release = qemu
    kvm_gives = "pdpe1gb" in this_host().features_in(release).present
    if not kvm_gives:
        assert here["cpu"] is None and "pdpe1gb" in json.dumps(here["impossible"]), here
        return
    code, d = _probe(capsys, "--cpu", here["cpu"], "--accel", "kvm", "--check", "1g-pages")
    assert d["started"] and "pdpe1gb" in d["seen"] and d["checks"]["1g-pages"] == "ok", d


@pytest.mark.integration
def test_kvm_host_probe_against_qemus_own_host_expansion(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-cpu host` asks for QEMU's host expansion; whatever the guest does not see of it
    is reported dropped, and the la57 check agrees with the guest's CPUID."""
    need_kvm()
    binary, release = qemu
    from cpudb.host_load import qmp_host

    _, d = _probe(capsys, "--cpu", "host", "--accel", "kvm", "--check", "la57")
    expansion = qmp_host(binary).features_in(release)
    assert set(d["requested"]) == expansion.present
    words = {w.name: w.type for w in release.words}
    visible = {f.name for f in release.features if words[f.word] == "cpuid"}
    assert set(d["dropped"]) == (expansion.present & visible) - set(d["seen"])
    la57 = d["checks"]["la57"]
    assert (la57 == "not-in-cpuid") == ("la57" not in d["seen"]), d


def test_probe_bad_arguments_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--check", "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "--check bogus" in err
    assert main(["probe", "--binary", "/nonexistent/qemu", "--accel", "tcg"]) == 2
    assert "/nonexistent/qemu" in capsys.readouterr().err


def test_probe_command_line_is_what_qemu_gets() -> None:
    cmd = qemu_probe.command("qemu", None, "kvm", ("nx",), kernel="k.bin", no_handlers=True)
    assert "-cpu" not in cmd  # no --cpu: the binary's default model, as a user would run it
    assert cmd[cmd.index("-append") + 1] == "cpudb-probe checks=nx nohandlers"
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" in cmd and "-no-reboot" in cmd


@pytest.mark.integration
def test_advise_verify_proves_the_tcg_answer(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["advise", "--needs", "pdpe1gb", "--accel", "tcg", "--verify", "--json"])
    v = json.loads(capsys.readouterr().out)["verified"]
    assert code == 0 and [x["role"] for x in v] == ["first answer"]
    assert v[0]["proven"] and "check 1g-pages ok" in v[0]["why"], v[0]


@pytest.mark.integration
@pytest.mark.parametrize("need", ["nx", "pdpe1gb", "x86-64-v2", "la57"])
def test_advise_verify_proves_every_this_machine_answer(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str], need: str
) -> None:
    """What advise offers for this machine must boot here and give the guest the need."""
    need_kvm()
    main(["advise", "--needs", need, "--verify", "--json"])
    d = json.loads(capsys.readouterr().out)
    here = [x for x in d["verified"] if x["role"] == "this machine"]
    assert len(here) == (1 if d["this_machine"]["cpu"] else 0)
    for x in here:
        assert x["proven"], x["why"]


@pytest.mark.integration
def test_kvm_refuses_efer_nxe_without_nx_and_tcg_does_not(
    qemu: tuple[str, Release], machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """KVM checks EFER writes against the guest's CPUID (`__kvm_valid_efer`); QEMU 7.2's
    TCG does not: the probe tells them apart, and says TCG's ok is not enforcement."""
    _, t = _probe(capsys, "--cpu", "qemu64,nx=off", "--accel", "tcg", "--check", "nx")
    assert "nx" not in t["seen"] and t["checks"]["nx"] == "ok"
    need_kvm()
    _, k = _probe(capsys, "--cpu", "qemu64,nx=off", "--accel", "kvm", "--check", "nx")
    assert k["checks"]["nx"] == "fault" and k["faults"]["nx"]["vector"] == 13, k
    assert k["faults"]["nx"]["at"] == "wrmsr-efer-nxe"
