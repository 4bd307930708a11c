"""Issue 14.1: the host files operators already have, detected by content.

Samples in tests/fixtures/hostfiles/ are written in the exact shapes the tools print
(libvirt's docs and tests/domaincapsdata, util-linux's lscpu -J, KubeVirt's node-labeller
labels); qmp-7.2-kvm.json is a real capture (Debian's QEMU 7.2 under KVM, this project's
CI machine). libvirt's own domcapabilities test data is checked too when its source
tarball is at hand (.ci/install-debian-deps fetches it).
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from cpudb import hostfiles
from cpudb.cli import main
from cpudb.host_cpu import HostCpu
from cpudb.host_fit import blockers
from cpudb.query import open_db
from cpudb.record import replace
from tests.conftest import FIXTURES, cpu_named

HF = FIXTURES / "hostfiles"


def one(name: str) -> HostCpu:
    ((_, cpu),) = hostfiles.read((HF / name).read_text(), name)
    return cpu


def test_domcapabilities_host_model_and_qemus_verdicts() -> None:
    cpu = one("domcaps-skylake.xml")
    assert cpu.kind == "libvirt" and cpu.vendor == "GenuineIntel" and cpu.qemu_version == "7.2"
    rel = open_db().release(cpu.qemu_version)
    hf = cpu.features_in(rel)
    # libvirt's Skylake-Client-IBRS, plus what host-model requires, minus what it disables
    assert {"ss", "vmx", "pdpe1gb", "xsaves", "tsc-adjust", "avx2"} <= hf.present
    assert not {"hle", "rtm", "mpx"} & hf.present
    assert "avx512f" not in hf.present and "avx512f" not in hf.unknown
    verdicts = dict(hf.verdicts)
    # libvirt's spellings mapped to QEMU's (fxsr_opt -> ffxsr or fxsr-opt; cr8legacy)
    epyc = set(verdicts["EPYC-v1"])
    assert epyc and all(rel.feature(n) is not None for n in epyc) and "fxsr_opt" not in epyc
    # the decisions honour QEMU: Haswell-v1 is blocked by exactly what QEMU said
    assert blockers(rel, cpu_named(rel, "Haswell-v1"), hf) == ("hle", "rtm")
    assert blockers(rel, cpu_named(rel, "Haswell-v4"), hf) == ()


def test_advise_on_a_domcapabilities_host_picks_a_model_qemu_said_is_usable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["advise", "--needs", "pdpe1gb", "--host", str(HF / "domcaps-skylake.xml"),
                 "--json"]) == 0  # fmt: skip
    cands = json.loads(capsys.readouterr().out)["candidates"]
    verdicts = dict(one("domcaps-skylake.xml").qemu_unavailable)
    names = [c["model"] for c in cands]
    assert names and all(verdicts.get(n, ()) == () for n in names)  # never one QEMU refused
    assert "Haswell-v1" not in names and "Skylake-Client-v4" in names


def test_capabilities_host_cpu() -> None:
    cpu = one("caps-haswell.xml")
    assert (cpu.vendor, cpu.family, cpu.model, cpu.stepping) == ("GenuineIntel", 6, 63, 2)
    hf = cpu.features_in(open_db().release("7.2"))
    assert {"avx2", "pdpe1gb", "invtsc", "ss"} <= hf.present  # Haswell-noTSX + listed
    assert not {"hle", "rtm", "avx512f"} & hf.present


def test_lscpu_json_reads_as_the_same_cpuinfo_would() -> None:
    """Two readings of one CPU by the product's own rules: lscpu -J (nested and flat)
    and the /proc/cpuinfo text with the same fields give the same features."""
    rel = open_db().release("7.2")
    want = one("cpuinfo-gold6148.txt").features_in(rel)
    for name in ("lscpu-gold6148.json", "lscpu-gold6148-flat.json"):
        cpu = one(name)
        assert (cpu.vendor, cpu.family, cpu.model, cpu.stepping) == ("GenuineIntel", 6, 85, 4)
        got = cpu.features_in(rel)
        assert (got.present, got.unknown) == (want.present, want.unknown), name
    assert "avx512f" in want.present


def test_qmp_answers_pasted_from_virsh_qemu_monitor_command() -> None:
    cpu = one("qmp-7.2-kvm.json")
    assert cpu.kind == "qmp" and cpu.vendor == "GenuineIntel" and len(cpu.qemu_unavailable) > 100
    rel = open_db().release("7.2.22")
    hf = cpu.features_in(rel)
    plain = replace(hf, verdicts=())
    qemus = dict(cpu.qemu_unavailable)
    # the recorded expansion alone gives QEMU's own verdict for every model
    assert {c.name: blockers(rel, c, plain) for c in rel.cpus} == {
        c.name: tuple(sorted(qemus[c.name])) for c in rel.cpus
    }


def test_kubevirt_nodes_are_many_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    hosts = hostfiles.read((HF / "kubevirt-nodes.json").read_text(), "nodes.json")
    assert [n for n, _ in hosts] == ["node-a", "node-b", "node-c"]  # cp-1 has no CPU labels
    rel = open_db().release("7.2")
    a, b, c = (h.features_in(rel) for _, h in hosts)
    assert a == b and a != c
    assert blockers(rel, cpu_named(rel, "Skylake-Client-IBRS"), a) == ()  # labelled usable
    assert main(["host", str(HF / "kubevirt-nodes.json")]) == 2
    assert "3 hosts (node-a, node-b, node-c)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"apiVersion": "v1", "kind": "ConfigMap", "data": {}}', "none of the host formats"),
        ("<network><name>default</name></network>", "XML root <network>"),
        ("<domain type='kvm'><cpu mode='host-model'/></domain>", "what a VM asks for"),
        ("<capabilities><host/></capabilities>", "without <host><cpu>"),
        ('{"return": {"model": {"name": "Haswell", "props": {}}}}', "not of host"),
        ("<domainCapabilities><cpu></domainCapabilities>", "not well-formed XML"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><capabilities/>', "DTD or entities"),
        ('{"lscpu": [{"field": "Architecture:", "data": "x86_64"}]}', "without a Flags field"),
        ('{"items": [{"metadata": {"name": "n"}}]}', "no node with KubeVirt CPU labels"),
        ("[" * 100000 + "]" * 100000, "nested too deep"),
        ('[{"name": "x"}]', "none of the host formats"),
    ],
)
def test_what_is_not_a_host_file_gets_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    f = tmp_path / "input"
    f.write_text(text)
    assert main(["host", str(f)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and needle in err and str(f.name) in err, err


LIBVIRT = Path(os.environ.get("CPUDB_LIBVIRT_TARBALL_DIR", "/var/cache/cpudb-ci/libvirt"))


def test_libvirts_own_domcapabilities_agree_with_cpudbs_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libvirt's tests/domaincapsdata (real hosts' domcapabilities, QEMU 4.2 ... 10.0):
    for every model with QEMU's verdict, the blockers cpudb computes from the host-model
    alone are QEMU's, up to the features libvirt 9.0's names cannot place (unknown)."""
    from cpudb.versions import version_key

    tarballs = sorted(
        LIBVIRT.glob("libvirt_*.orig.tar.xz"), key=lambda p: version_key(p.name[8:-12])
    )
    if not tarballs:
        pytest.skip(f"no libvirt orig tarball in {LIBVIRT}: run .ci/install-debian-deps "
                    "(apt-get source --download-only -t trixie libvirt)")  # fmt: skip
    files = []
    with tarfile.open(tarballs[-1]) as tf:
        for m in tf:
            n = m.name.rsplit("/", 1)[-1]
            if "/domaincapsdata/qemu_" in m.name and n.endswith(".x86_64.xml") and "tcg" not in n:
                fh = tf.extractfile(m)
                assert fh is not None
                files.append((n, fh.read().decode()))
    assert len(files) >= 20
    db = open_db()
    checked = exact = 0
    bad = {}
    for name, text in files:
        ((_, cpu),) = hostfiles.read(text, name)
        rel = db.release(cpu.qemu_version)
        hf = cpu.features_in(rel)
        plain = replace(hf, verdicts=())
        for c in rel.cpus:
            q = dict(hf.verdicts).get(c.name)
            if q is None or q == ("?",):
                continue
            b = set(blockers(rel, c, plain))
            checked += 1
            exact += b == set(q)
            if not b <= set(q) <= b | plain.unknown:
                bad[f"{name}:{c.name}"] = (sorted(b - set(q)), sorted(set(q) - b))
    with capsys.disabled():
        print(f"\nlibvirt domaincapsdata: {len(files)} files, {checked} verdicts, "
              f"{checked - len(bad)} consistent, {exact} equal")  # fmt: skip
    assert bad == {}
