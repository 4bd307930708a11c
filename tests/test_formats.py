"""Issue 14.4: every configuration people paste, for advise, baseline and pools.

The libvirt outputs name libvirt's model and make it the QEMU CPU cpudb chose: every
need (and every feature of that CPU) libvirt's definition lacks is required, every one
it has that the CPU lacks is disabled; the XML validates with libvirt's own schema."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cpudb.advise import advise
from cpudb.app.inputs import resolve_needs
from cpudb.app.libvirt import libvirt_names, nova_traits
from cpudb.cli import main
from cpudb.libvirt_model import Answer, LibvirtNames, libvirt_cpu
from cpudb.model import Release
from cpudb.query import open_db
from cpudb.render.configs import kubevirt, libvirt_xml, nova
from tests.conftest import FIXTURES, need_tool

HF = FIXTURES / "hostfiles"
DOMAIN = """<domain type='kvm'>
  <name>cpudb-check</name>
  <memory unit='MiB'>512</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  {cpu}
</domain>
"""


def matrix() -> tuple[Release, LibvirtNames, list[tuple[str, Answer]]]:
    """One answer per (need, vendor): every feature some QEMU 7.2 model enables that
    libvirt can name, as the need."""
    rel = open_db().release("7.2.22")
    names = libvirt_names(rel, "9.0.0")
    feats = sorted({f for c in rel.cpus for f in c.features if names.feature(f)})
    out: list[tuple[str, Answer]] = []
    for need in feats:
        for vendor in ("GenuineIntel", "AuthenticAMD"):
            ns = resolve_needs(rel, [need])
            a = advise(rel, ns, vendors=[vendor])
            pick = next((c for c in a.candidates if names.knows(c)), None)
            if pick is not None:
                out.append((need, Answer(pick, tuple(ns))))
    return rel, names, out


REL, NAMES, MATRIX = matrix()


def test_every_need_is_in_the_libvirt_cpu() -> None:
    assert len(MATRIX) > 200
    missing = []
    for need, a in MATRIX:
        lc = libvirt_cpu(a, NAMES)
        lv = NAMES.model_features.get(lc.model, frozenset())
        has = {NAMES.feature(f) for f in lv} | set(lc.require)
        has -= set(lc.disable)
        if NAMES.feature(need) not in has:
            missing.append((need, a.cpu.name))
    assert missing == []


def test_libvirt_xml_validates_with_libvirts_schema(tmp_path: Path) -> None:
    tool = need_tool("virt-xml-validate", "apt-get install libvirt-clients")
    seen: dict[str, Answer] = {}

    for _, a in MATRIX:
        seen.setdefault(a.cpu.name, a)  # one per CPU name: the schema check is per shape
    files = []
    for i, a in enumerate(seen.values()):
        f = tmp_path / f"d{i}.xml"
        f.write_text(DOMAIN.format(cpu=libvirt_xml(a, NAMES)))
        files.append(f)
    bad = []
    for f in files:
        r = subprocess.run([tool, str(f), "domain"], capture_output=True, text=True, check=False)
        if r.returncode:
            bad.append((f.name, r.stderr.strip()[:200]))
    assert bad == [] and len(files) >= 5


def test_nova_lists_the_flavor_traits_of_the_needs() -> None:
    rel = REL
    ns = resolve_needs(rel, ["avx2", "aes", "pdpe1gb"])
    a = advise(rel, ns, vendors=["GenuineIntel"])
    pick = next(c for c in a.candidates if NAMES.knows(c))
    conf = nova(Answer(pick, tuple(ns)), NAMES, nova_traits())
    assert "trait:HW_CPU_X86_AVX2=required" in conf and "trait:HW_CPU_X86_AESNI=required" in conf
    assert "cpu_mode = custom" in conf and "cpu_models = " in conf


def test_kubevirt_spec_and_cluster_default() -> None:
    need, a = next((n, a) for n, a in MATRIX if n == "pdpe1gb")
    text = kubevirt(Answer(a.cpu, a.needs, deprecated=("Opteron_G1-v1",)), NAMES)
    lc = libvirt_cpu(a, NAMES)
    assert f"  model: {lc.model}" in text and f"    cpuModel: {lc.model}" in text
    assert "      Opteron_G1-v1: true" in text
    assert ("  - name: pdpe1gb\n    policy: require" in text) == ("pdpe1gb" in lc.require)


@pytest.mark.parametrize("fmt", ["libvirt", "nova", "proxmox", "kubevirt", "qemu"])
def test_every_format_from_baseline_and_pools(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    nodes = str(HF / "kubevirt-nodes.json")
    assert main(["baseline", nodes, "--cross-vendor", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.strip()
    assert main(["pools", nodes, "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.count("pool ") == 2
    if fmt == "libvirt":
        for chunk in out.split("<!-- pool ")[1:]:
            ET.fromstring(chunk[chunk.index("<cpu") : chunk.index("</cpu>") + 6])
