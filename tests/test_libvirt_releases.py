"""Issue 16 (first part): libvirt's names per libvirt release, for every libvirt output.

data/libvirt-features.json (Debian bookworm's installed 9.0.0) and data/libvirt/*.json
(scraped from Debian's source tarballs): each model name is one QEMU has or had, each
feature name sits at a CPUID location QEMU knows; `--libvirt V` outputs use only names
libvirt V defines, and validate with its schema.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cpudb.scrapers import libvirt_cpumap

from cpudb import libvirt_releases
from cpudb.advise import advise
from cpudb.app.inputs import resolve_needs
from cpudb.app.libvirt import libvirt_names
from cpudb.catalog import shipped_releases
from cpudb.cli import main
from cpudb.libvirt_model import Answer, libvirt_cpu
from cpudb.render.configs import libvirt_xml
from tests.conftest import feature_named, need_tool

LIBVIRT = Path(os.environ.get("CPUDB_LIBVIRT_TARBALL_DIR", "/var/cache/cpudb-ci/libvirt"))
RELEASES = shipped_releases()
QEMU_NAMES = {c.name for r in RELEASES for c in r.cpus}
QEMU_LOCATIONS = {f.location for r in RELEASES for f in r.features}


# Each shipped libvirt and the QEMU of the same Debian suite: a libvirt's models are CPU
# names of QEMU of its era (that QEMU or older), never of a later one.
ERA = {"7.0.0": "5.2.0", "9.0.0": "7.2.0", "11.3.0": "10.0.0", "12.9.0": "11.1.0"}


def test_libvirt_releases_of_four_debian_suites_are_shipped() -> None:
    # bullseye, bookworm, trixie, trixie-backports
    assert set(ERA) <= set(libvirt_releases.available())


@pytest.mark.parametrize("version", sorted(ERA))
def test_every_libvirt_model_is_a_qemu_name_of_its_era(version: str) -> None:
    from cpudb.versions import version_key

    qemu = ERA[version]
    era = {c.name for r in RELEASES if version_key(r.version) <= version_key(qemu) for c in r.cpus}
    later = sorted(set(libvirt_releases.load(version)["models"]) - era)
    assert set(later) <= {"cpu64-rhel5", "cpu64-rhel6", "pentiumpro"}, (version, qemu, later)


def test_no_libvirt_name_moved_to_another_bit_between_releases() -> None:
    """`any_spelling` reads files of every libvirt release with one map: that holds only
    while no release gives a name to a bit another release gave to a different bit.
    Before the scraper knew that libvirt 12 writes the VMX control bits in edx (QEMU's
    word is that half of the MSR), 69 vmx-* names moved by 32 bits here."""
    seen: dict[str, tuple[str, str]] = {}
    for v in sorted(libvirt_releases.available()):
        for loc, e in libvirt_releases.load(v)["locations"].items():
            for n in (e["libvirt_name"], *e.get("libvirt_aliases", ())):
                assert seen.setdefault(n, (loc, v))[0] == loc, (n, seen[n], (loc, v))
    assert set(libvirt_releases.any_spelling()) == set(seen)


def test_libvirt_12_vmx_bits_sit_where_qemu_has_them() -> None:
    rel = next(r for r in RELEASES if r.version == "11.1.0")
    for name in ("vmx-ept", "vmx-unrestricted-guest", "vmx-entry-load-efer", "vmx-intr-exit"):
        want = feature_named(rel, name).location
        for v in ("11.3.0", "12.9.0"):
            where = {
                e["libvirt_name"]: loc for loc, e in libvirt_releases.load(v)["locations"].items()
            }
            assert where[name] == want, (v, name)


@pytest.mark.parametrize("version", sorted(libvirt_releases.available()))
def test_every_libvirt_name_maps_to_qemu(version: str) -> None:
    d = libvirt_releases.load(version)
    # every libvirt model is a QEMU CPU name, but RHEL's (cpu64-rhel5/6, from RHEL's QEMU
    # before the shipped 8.1.0-rhel) and pentiumpro, which libvirt defines and QEMU never had
    unknown_models = sorted(set(d["models"]) - QEMU_NAMES)
    assert set(unknown_models) <= {"cpu64-rhel5", "cpu64-rhel6", "pentiumpro"}, unknown_models
    assert set(d["model_features"]) == set(d["models"])
    off = sorted(loc for loc in d["locations"] if loc not in QEMU_LOCATIONS)
    # libvirt names a few bits no QEMU release has (host-only bits: ds, tm, ...) at most
    assert len(off) <= len(d["locations"]) // 5, off


@pytest.mark.parametrize(
    "version, pattern, suite",
    [
        ("7.0.0", "libvirt_7.0.0.orig.tar.xz", "bullseye"),
        ("11.3.0", "libvirt_11.3.0.orig.tar.xz", "trixie"),
        ("12.9.0", "libvirt-common_12.9.0-*.deb", "trixie-backports"),
    ],
)
def test_each_shipped_release_is_what_the_scraper_makes_of_its_source(
    version: str, pattern: str, suite: str
) -> None:
    found = sorted(LIBVIRT.glob(pattern))
    if not found:
        pytest.skip(f"no {LIBVIRT}/{pattern}: run .ci/fetch-libvirt-releases ({suite})")
    assert libvirt_cpumap.scrape(found[-1]) == libvirt_releases.load(version)


def test_choose_picks_the_newest_release_not_newer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert libvirt_releases.choose("11.3")[0] == "11.3.0"
    assert libvirt_releases.choose("10.0.0")[0] == "9.0.0"
    assert libvirt_releases.choose("12.1.0")[0] == "11.3.0"
    assert libvirt_releases.choose("8.5")[0] == "7.0.0"
    assert libvirt_releases.choose("13.0")[0] == "12.9.0"
    monkeypatch.setattr(libvirt_releases, "installed", lambda: None)
    v, why = libvirt_releases.choose(None)
    assert v == "9.0.0" and "no libvirt installed" in why


def test_too_old_a_libvirt_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--needs", "pdpe1gb", "--format", "libvirt", "--libvirt", "6.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no libvirt data for 6.0" in err


@pytest.mark.parametrize("version", sorted(ERA))
def test_outputs_use_only_the_names_that_libvirt_defines(tmp_path: Path, version: str) -> None:
    rel = next(r for r in RELEASES if r.version == "11.1.0")
    names = libvirt_names(rel, version)
    data = libvirt_releases.load(version)
    spellings = {e["libvirt_name"] for e in data["locations"].values()}
    tool = need_tool("virt-xml-validate", "apt-get install libvirt-clients")
    checked = 0
    for need in ("pdpe1gb", "avx512f", "avx2", "sha-ni", "la57", "amx-tile", "avx-vnni"):
        for vendor in ("GenuineIntel", "AuthenticAMD"):
            ns = resolve_needs(rel, [need])
            a = advise(rel, ns, vendors=[vendor])
            pick = next((c for c in a.candidates if names.knows(c)), None)
            if pick is None:
                continue
            lc = libvirt_cpu(Answer(pick, tuple(ns)), names)
            assert lc.model in data["models"], (version, lc.model)
            assert set(lc.require) | set(lc.disable) <= spellings, (version, need)
            f = tmp_path / f"{version}-{need}-{vendor}.xml"
            cpu = libvirt_xml(Answer(pick, tuple(ns)), names)
            f.write_text(f"<domain type='kvm'><name>x</name><memory>524288</memory><os>"
                         f"<type arch='x86_64'>hvm</type></os>{cpu}</domain>")  # fmt: skip
            r = subprocess.run([tool, str(f), "domain"], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            checked += 1
    assert checked >= 8


def test_bookworms_tarball_is_the_default_file() -> None:
    tarball = LIBVIRT / "libvirt_9.0.0.orig.tar.xz"
    if not tarball.exists():
        pytest.skip(f"no {tarball}: apt-get source --download-only -t bookworm libvirt")
    got = libvirt_cpumap.scrape(tarball)
    want = libvirt_releases.load("9.0.0")
    for key in ("locations", "models", "model_features"):
        assert got[key] == want[key], key


def test_feature_gives_libvirts_spelling_per_release(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["feature", "fsrs", "--qemu", "11.1", "--json"]) == 0
    said = {r["libvirt"]: r["name"] for r in json.loads(capsys.readouterr().out)["libvirt"]}
    assert said["11.3.0"] == "fsrs" and said["9.0.0"] is None  # unknown to libvirt 9.0
    assert main(["feature", "pclmulqdq"]) == 0
    assert "libvirt: pclmuldq in 7.0.0-12.9.0" in capsys.readouterr().out
    assert main(["feature", "vmx-ept", "--qemu", "11.1"]) == 0  # libvirt named vmx-* late
    assert "libvirt: (no name) in 7.0.0-9.0.0, vmx-ept in 11.3.0-12.9.0" in capsys.readouterr().out


def test_files_of_any_libvirt_release_are_read_with_its_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    """A host-model written by libvirt 12.9 names bits libvirt 9.0 had no name for
    (its-no, cet-ss): they count as present, not as unknown."""
    from cpudb import hostfiles
    from tests.conftest import FIXTURES

    text = (FIXTURES / "hostfiles" / "domcaps-skylake.xml").read_text()
    text = text.replace("<feature policy='require' name='ss'/>",
                        "<feature policy='require' name='ss'/><feature policy='require' "
                        "name='its-no'/><feature policy='require' name='cet-ss'/>")  # fmt: skip
    ((_, cpu),) = hostfiles.read(text, "domcaps-12.9.xml")
    rel = next(r for r in RELEASES if r.version == "11.1.0")
    hf = cpu.features_in(rel)
    assert {"its-no", "cet-ss", "ss"} <= hf.present
    first = libvirt_releases.first_definition("Skylake-Client-IBRS")
    assert first is not None and first[0] == "7.0.0"

    # libvirt 11.3's name for the bit QEMU calls vmx-invept-single-context (MSR 0x48c
    # bit 41, an INVVPID capability): unknown to libvirt 9.0, so this failed before
    assert main(["feature", "vmx-invvpid-single-context", "--qemu", "11.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["location"] == "msr.0x48c.41"


def test_diff_puts_libvirts_model_next_to_qemus(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    argv = ["diff", "Skylake-Server@libvirt-9.0", "Skylake-Server-v1@7.2", "--json"]
    assert main(argv) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["first"]["name"] == "Skylake-Server@libvirt-9.0.0"
    only_libvirt = set(d["only_in_first"])
    assert "mpx" in only_libvirt  # libvirt keeps mpx in Skylake-Server; QEMU dropped it
    assert main(["diff", "Nosuch@libvirt-9.0", "Haswell"]) == 2
    assert "libvirt 9.0.0 has no CPU model 'Nosuch'" in capsys.readouterr().err


def test_show_libvirts_definition(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["show", "Haswell", "--libvirt", "9.0", "--qemu", "7.2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["name"] == "Haswell@libvirt-9.0.0" and d["previous"] is None
    assert not {"abm", "f16c", "rdrand"} & set(d["features"])  # libvirt's Haswell lacks them
    assert d["level"] == 2  # ... so it is x86-64-v2; QEMU's Haswell is v3
    assert main(["show", "Haswell", "--qemu", "7.2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["level"] == 3
