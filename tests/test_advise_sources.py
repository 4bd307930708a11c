"""The advisor's data sources: QEMU's recommended flags (docs) and libvirt's feature names."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from cpudb.scrapers import libvirt_cpumap as lv
from cpudb.scrapers import qemu_docs as qd

from cpudb.errors import ParseError, SourceError
from cpudb.paths import shipped_data_dir
from cpudb.query import Db

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "advise"
QEMU_SRC = Path("/root/qemu-src")
CPU_MAP = Path("/usr/share/libvirt/cpu_map")

# The shape of docs/system/cpu-models-x86.rst.inc (QEMU 5.0+), cut down by hand.
RST = """\
Preferred CPU models for Intel x86 hosts
^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

``Skylake-Server``, ``Skylake-Server-IBRS``
    Intel Xeon Processor (Skylake, 2016)


Important CPU features for Intel x86 hosts
^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

The following are important CPU features that should be used on Intel
x86 hosts, when available in the host CPU.

``pcid``
  Recommended to mitigate the cost of the Meltdown (CVE-2017-5754) fix.

  Included by default in Haswell, Broadwell & Skylake Intel CPU models.

``pdpe1gb``
  Recommended to allow guest OS to use 1GB size pages.

  Not included by default in any Intel CPU model.


Important CPU features for AMD x86 hosts
^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

``virt-ssbd``
  Required to enable the CVE-2018-3639 fix

``amd-no-ssb``
  Recommended to indicate the host is not vulnerable CVE-2018-3639

  Future hardware generations of CPU will not be vulnerable. This is mutually
  exclusive with virt-ssbd and amd-ssbd.


Default x86 CPU models
^^^^^^^^^^^^^^^^^^^^^^

``qemu64``
    QEMU Virtual CPU version 2.5+
"""

# The shape of docs/qemu-cpu-models.texi (QEMU 3.1-4.2), cut down by hand.
TEXI = """\
@node important_cpu_features_intel_x86
@subsubsection Important CPU features for Intel x86 hosts

@table @option

@item @code{spec-ctrl}

Required to enable the Spectre v2 (CVE-2017-5715) fix.

Included by default in Intel CPU models with -IBRS suffix.

@item @code{ssbd}

Required to enable the CVE-2018-3639 fix
@end table

@node preferred_cpu_models_amd_x86
@table @option
@item @code{EPYC}
@end table

@node important_cpu_features_amd_x86
@subsubsection Important CPU features for AMD x86 hosts

@table @option

@item @code{ibpb}

Required to enable the Spectre v2 (CVE-2017-5715) fix.
@end table
"""


def names(flags: qd.Recommended) -> dict[str, list[str]]:
    return {v: [r.name for r in flags[v]] for v in flags}


def test_rst_lists_per_vendor_with_summaries_and_exclusions() -> None:
    flags = qd.parse_rst(RST)
    assert names(flags) == {"intel": ["pcid", "pdpe1gb"], "amd": ["virt-ssbd", "amd-no-ssb"]}
    assert flags["intel"][0].summary == (
        "Recommended to mitigate the cost of the Meltdown (CVE-2017-5754) fix."
    )
    assert flags["amd"][1].excludes == ("virt-ssbd", "amd-ssbd")
    assert flags["amd"][0].excludes == ()


def test_texi_lists_per_vendor() -> None:
    flags = qd.parse_texi(TEXI)
    assert names(flags) == {"intel": ["spec-ctrl", "ssbd"], "amd": ["ibpb"]}
    assert flags["intel"][1].summary == "Required to enable the CVE-2018-3639 fix"


def test_docs_without_the_lists_are_refused_with_the_file() -> None:
    with pytest.raises(ParseError) as e:
        qd.parse_rst("Title\n=====\n\nnothing here\n", file="x.rst.inc")
    assert "x.rst.inc" in str(e.value) and "Intel" in str(e.value)
    with pytest.raises(ParseError):
        qd.parse_html("<html><body><h2>Other</h2></body></html>")


def test_html_page_over_https_recorded_response() -> None:
    responses = pytest.importorskip("responses")
    html = (FIXTURES / "qemu-7.2-cpu-models-excerpt.html").read_text(encoding="utf-8")
    url = qd.HTML_URL.format(version="7.2.0")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, url, body=html, status=200, content_type="text/html")
        version, source, flags = qd.from_url(url, "7.2.0")
    assert (version, source) == ("7.2.0", url)
    assert names(flags) == {
        "intel": [
            "pcid",
            "spec-ctrl",
            "stibp",
            "ssbd",
            "pdpe1gb",
            "md-clear",
            "mds-no",
            "taa-no",
            "tsx-ctrl",
        ],
        "amd": ["ibpb", "stibp", "virt-ssbd", "amd-ssbd", "amd-no-ssb", "pdpe1gb"],
    }
    # the same text as the shipped data scraped from the .rst.inc of the 7.2.0 tree
    shipped = json.loads((shipped_data_dir() / "qemu-recommended-flags.json").read_text())
    assert shipped["releases"]["7.2.0"]["vendors"] == {
        v: [r.to_json() for r in flags[v]] for v in qd.VENDORS
    }


def test_html_http_error_is_a_source_error() -> None:
    responses = pytest.importorskip("responses")
    url = qd.HTML_URL.format(version="99.0.0")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, url, status=404)
        with pytest.raises(SourceError) as e:
            qd.from_url(url, "99.0.0")
    assert url in str(e.value)


def test_tarball_member_is_found(tmp_path: Path) -> None:
    tar_path = tmp_path / "qemu-7.2.0.tar.xz"
    with tarfile.open(tar_path, "w:xz") as tar:
        for name, text in (("qemu-7.2.0/VERSION", "7.2.0\n"), (f"qemu-7.2.0/{qd.RST_PATH}", RST)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    version, source, flags = qd.from_tarball(tar_path)
    assert version == "7.2.0" and qd.RST_PATH in source
    assert names(flags)["intel"] == ["pcid", "pdpe1gb"]
    with pytest.raises(SourceError):
        qd.from_tarball(tmp_path / "missing.tar.xz")


def test_main_merges_into_the_data_file(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "docs" / "system").mkdir(parents=True)
    (tree / "VERSION").write_text("9.9.0\n")
    (tree / qd.RST_PATH).write_text(RST)
    (tmp_path / "qemu-recommended-flags.json").write_text(
        json.dumps({"releases": {"1.0.0": {"source": "old", "vendors": {}}}})
    )
    assert qd.main(["--source", str(tree), "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "qemu-recommended-flags.json").read_text())
    assert list(data["releases"]) == ["1.0.0", "9.9.0"]
    assert qd.main(["--source", str(tmp_path / "nope")]) == 2


def test_shipped_recommended_flags_match_the_source_trees() -> None:
    """Each shipped entry is what the scraper reads from that release's docs today."""
    shipped = json.loads((shipped_data_dir() / "qemu-recommended-flags.json").read_text())
    trees = [QEMU_SRC / v for v in shipped["releases"] if (QEMU_SRC / v).is_dir()]
    if not trees:
        pytest.skip(f"{QEMU_SRC} absent (QEMU sources, see ../shared/qemu-sources.md)")
    for tree in trees:
        version, _, flags = qd.from_tree(tree)
        assert shipped["releases"][version]["vendors"] == {
            v: [r.to_json() for r in flags[v]] for v in qd.VENDORS
        }, version


# ------------------------------------------------------------------ libvirt cpu_map

FEATURES_XML = """\
<cpus>
  <feature name='pni'>
    <alias name='sse3' source='qemu'/>
    <cpuid eax_in='0x01' ecx='0x00000001'/>
  </feature>
  <feature name='avx2'>
    <cpuid eax_in='0x07' ecx_in='0x00' ebx='0x00000020'/>
  </feature>
  <feature name='pdpe1gb'>
    <cpuid eax_in='0x80000001' edx='0x04000000'/>
  </feature>
  <feature name='xsaveopt'>
    <cpuid eax_in='0x0d' ecx_in='0x01' eax='0x00000001'/>
  </feature>
  <feature name='mds-no'>
    <msr index='0x10a' edx='0x00000000' eax='0x00000020'/>
  </feature>
</cpus>
"""
WORDS = lv.subleaf_words(
    [(0x1, None, "ecx"), (0x7, 0, "ebx"), (0x80000001, None, "edx"), (0xD, 1, "eax")]
)


def test_libvirt_locations_use_cpudb_ids() -> None:
    feats = lv.parse_features(FEATURES_XML)
    assert lv.to_locations(feats, WORDS) == {
        "cpuid.0x1.ecx.0": {"libvirt_name": "pni", "libvirt_aliases": ["sse3"]},
        "cpuid.0x7.0.ebx.5": {"libvirt_name": "avx2"},
        "cpuid.0xd.1.eax.0": {"libvirt_name": "xsaveopt"},
        "cpuid.0x80000001.edx.26": {"libvirt_name": "pdpe1gb"},
        "msr.0x10a.5": {"libvirt_name": "mds-no"},
    }


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        ("<cpus><feature name='x'>", "not well-formed"),
        ("<cpus><feature name='x'><cpuid eax_in='0x01' ecx='0x3'/></feature></cpus>", "one bit"),
        ("<cpus><feature name='x'><cpuid eax_in='zz' ecx='0x1'/></feature></cpus>", "eax_in"),
        ("<cpus><feature name='x'/></cpus>", "neither"),
        ("<cpus/>", "no <feature>"),
    ],
)
def test_libvirt_bad_xml_names_file_and_problem(xml: str, needle: str) -> None:
    with pytest.raises(ParseError) as e:
        lv.parse_features(xml, file="x86_features.xml")
    assert needle in str(e.value) and "x86_features.xml" in str(e.value)


def test_shipped_libvirt_names_match_cpudb_locations(db: Db) -> None:
    data = json.loads((shipped_data_dir() / "libvirt-features.json").read_text())
    rel = db.release("7.2.0")
    locs = {f.location: f.name for f in rel.features}
    assert data["locations"]["cpuid.0x80000001.edx.26"]["libvirt_name"] == "pdpe1gb"
    assert data["locations"]["cpuid.0x7.0.ecx.16"]["libvirt_name"] == "la57"
    assert data["locations"]["msr.0x10a.0"]["libvirt_name"] == "rdctl-no"
    # libvirt's own spelling where it differs, on the very bit QEMU names pclmulqdq
    assert locs["cpuid.0x1.ecx.1"] == "pclmulqdq"
    assert data["locations"]["cpuid.0x1.ecx.1"]["libvirt_name"] == "pclmuldq"
    matched = [loc for loc in data["locations"] if loc in locs]
    assert len(matched) > 180, "location ids drifted from cpudb's format"
    assert {"Haswell-noTSX-IBRS", "Skylake-Server", "EPYC"} <= set(data["models"])


def test_shipped_libvirt_data_matches_installed_cpu_map(tmp_path: Path) -> None:
    if not (CPU_MAP / lv.FEATURES_FILE).is_file():
        pytest.skip(f"{CPU_MAP} absent: apt-get install -y libvirt-daemon")
    shipped = json.loads((shipped_data_dir() / "libvirt-features.json").read_text())
    fresh = lv.scrape(CPU_MAP, label="x")
    if fresh["locations"] != shipped["locations"]:
        pytest.skip("the installed libvirt differs from the one the data was taken from")
    assert fresh["models"] == shipped["models"]
